// The LA's user list, as the router applies it: an account disabled (`la_user.disabled_at`) or removed
// from the list is refused from the router's next refresh of it (`userRefreshSeconds`, default 60),
// whatever its access token's lifetime. Active accounts are held in memory; an account not held is
// asked of the store, so one added applies at once.
import type { SqlConnection } from '../lib/db/sql.ts';
import { ReloadedSet } from './reloaded-set.ts';

const ACTIVE = 'SELECT username FROM la_user WHERE disabled_at IS NULL';

export class UserDirectory {
  private readonly held: ReloadedSet;

  constructor(
    private readonly sql: SqlConnection,
    refreshMs: number,
    now: () => number = Date.now,
  ) {
    this.held = new ReloadedSet(sql, ACTIVE, (row) => String(row.username), refreshMs, now);
  }

  start = (): Promise<void> => this.held.start();
  stop = (): void => this.held.stop();
  reload = (): Promise<void> => this.held.reload();

  /** Whether the account may use the router: on the list and not disabled. */
  async isActive(username: string): Promise<boolean> {
    if (this.held.has(username)) return true;
    const rows = await this.sql.withSession((db) => db.query(`${ACTIVE} AND username = $1 LIMIT 1`, [username]));
    return rows.length > 0;
  }
}
