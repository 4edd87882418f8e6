// Who may see what of a child: an allocated practitioner (an open "Allocated Social Worker" involvement
// with the child, in the LA's own SSD data) sees the full view; other social care staff a summary;
// break-glass with a reason the full view, flagged; everyone else nothing.
import { GraphQLError } from 'graphql';
import { CHILD_ROLES, isSocialCareStaff } from '../lib/graphql/access.ts';
import type { SqlConnection } from '../lib/db/sql.ts';
import type { AccessDecision } from '../lib/internal-token.ts';
import type { Caller } from './context.ts';
import { ReloadedSet } from './reloaded-set.ts';
import { BREAK_GLASS_CATEGORIES, REASON_MESSAGES, reasonProblem, type BreakGlassCategory } from './break-glass.ts';

const SUMMARY_ROLES = CHILD_ROLES;

const ALLOCATIONS = `
  SELECT u.username, p.pers_common_child_id AS nhs FROM la_user u
    JOIN ssd_involvements i ON i.invo_professional_id = u.prof_professional_id
    JOIN ssd_person p ON p.pers_person_id = i.invo_person_id
   WHERE i.invo_professional_role_id = 'Allocated Social Worker' AND p.pers_common_child_id IS NOT NULL
     AND (i.invo_involvement_end_date IS NULL OR i.invo_involvement_end_date >= current_date)`;

export async function isAllocated(sql: SqlConnection, username: string, nhsNumber: string): Promise<boolean> {
  const rows = await sql.withSession((db) => db.query(`SELECT 1 FROM (${ALLOCATIONS}) a WHERE a.username = $1 AND a.nhs = $2 LIMIT 1`, [username, nhsNumber]));
  return rows.length > 0;
}

/**
 * Every open allocation, held in memory and reloaded every `refreshMs`, so deciding for an allocated
 * practitioner costs no round trip to the store. Only a "yes" is answered from memory: a pair it does
 * not hold is asked of the store, so a new allocation applies at once, while an ended one stops
 * applying at the next reload. An index that could not be reloaded for two periods is not used at all.
 */
export class AllocationIndex {
  private readonly held: ReloadedSet;

  constructor(
    private readonly sql: SqlConnection,
    refreshMs: number,
    now: () => number = Date.now,
  ) {
    this.held = new ReloadedSet(sql, ALLOCATIONS, (row) => AllocationIndex.key(String(row.username), String(row.nhs)), refreshMs, now);
  }

  private static key = (username: string, nhsNumber: string) => `${username}\n${nhsNumber}`;

  start = (): Promise<void> => this.held.start();
  stop = (): void => this.held.stop();
  reload = (): Promise<void> => this.held.reload();

  async isAllocated(username: string, nhsNumber: string): Promise<boolean> {
    if (this.held.has(AllocationIndex.key(username, nhsNumber))) return true;
    return isAllocated(this.sql, username, nhsNumber);
  }
}

export async function decide(allocations: Pick<AllocationIndex, 'isAllocated'>, caller: Caller, nhsNumber: string, breakGlassReason: string | null, breakGlassCategory: string | null = null): Promise<AccessDecision> {
  if (breakGlassReason !== null || breakGlassCategory !== null) {
    const problem = breakGlassReason === null ? 'TOO_FEW_LETTERS' : reasonProblem(breakGlassReason);
    if (problem) throw new GraphQLError(REASON_MESSAGES[problem], { extensions: { code: 'BAD_USER_INPUT', field: 'breakGlassReason', reason: problem, http: { status: 400 } } });
    if (!BREAK_GLASS_CATEGORIES.includes(breakGlassCategory as BreakGlassCategory)) {
      throw new GraphQLError(`Breaking glass names its category: one of ${BREAK_GLASS_CATEGORIES.join(', ')}`, { extensions: { code: 'BAD_USER_INPUT', field: 'breakGlassCategory', http: { status: 400 } } });
    }
    if (!isSocialCareStaff(caller.roles)) throw new GraphQLError('Only social care staff may break glass', { extensions: { code: 'FORBIDDEN', field: 'breakGlassReason', http: { status: 403 } } });
    return 'BREAK_GLASS';
  }
  if (caller.roles.includes('csc.practitioner') && (await allocations.isAllocated(caller.username, nhsNumber))) return 'FULL';
  if (caller.roles.some((r) => SUMMARY_ROLES.has(r))) return 'SUMMARY';
  return 'NONE';
}
