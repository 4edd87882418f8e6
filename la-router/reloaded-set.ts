// A set of keys read from the LA store, held in memory and reloaded every period: the router's view of
// open allocations and of active accounts. Only "held" is answered from memory; what is not held is
// asked of the store by the caller, so an addition applies at once and a removal at the next reload. A
// set that could not be reloaded for two periods holds nothing, so a stale "yes" is never given.
import type { SqlConnection } from '../lib/db/sql.ts';

export class ReloadedSet {
  private keys = new Set<string>();
  private loadedAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private reloading: Promise<void> | null = null;

  constructor(
    private readonly sql: SqlConnection,
    private readonly query: string,
    private readonly keyOf: (row: Record<string, unknown>) => string,
    private readonly refreshMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Loads the set, and reloads it every period until stopped; a failed reload is tried again next period. */
  async start(): Promise<void> {
    await this.reload().catch(() => {});
    this.timer = setInterval(() => void this.reload().catch(() => {}), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  reload(): Promise<void> {
    this.reloading ??= (async () => {
      try {
        const rows = await this.sql.withSession((db) => db.query<Record<string, unknown>>(this.query));
        this.keys = new Set(rows.map(this.keyOf));
        this.loadedAt = this.now();
      } finally {
        this.reloading = null;
      }
    })();
    return this.reloading;
  }

  /** Whether the last reload, no older than two periods, held the key. */
  has(key: string): boolean {
    return this.now() - this.loadedAt <= 2 * this.refreshMs && this.keys.has(key);
  }
}
