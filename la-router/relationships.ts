// Who may see what of a child: an allocated practitioner (an open "Allocated Social Worker" involvement
// with the child, in the LA's own SSD data) sees the full view; other social care staff a summary;
// break-glass with a reason the full view, flagged; everyone else nothing.
import { GraphQLError } from 'graphql';
import type { SqlConnection } from '../lib/db/sql.ts';
import type { AccessDecision } from '../lib/internal-token.ts';
import type { Caller } from './context.ts';

export const BREAK_GLASS_MIN_LENGTH = 20;
const SOCIAL_CARE_ROLES = new Set(['csc.practitioner', 'csc.manager']);
const SUMMARY_ROLES = new Set([...SOCIAL_CARE_ROLES, 'education.officer']);

export async function isAllocated(sql: SqlConnection, username: string, nhsNumber: string): Promise<boolean> {
  const rows = await sql.withSession((db) =>
    db.query<{ allocated: boolean }>(
      `SELECT EXISTS (
         SELECT 1 FROM la_user u
           JOIN ssd_involvements i ON i.invo_professional_id = u.prof_professional_id
           JOIN ssd_person p ON p.pers_person_id = i.invo_person_id
          WHERE u.username = $1 AND p.pers_common_child_id = $2 AND i.invo_professional_role_id = 'Allocated Social Worker'
            AND (i.invo_involvement_end_date IS NULL OR i.invo_involvement_end_date >= current_date)) AS allocated`,
      [username, nhsNumber],
    ),
  );
  return rows[0]?.allocated === true;
}

export async function decide(sql: SqlConnection, caller: Caller, nhsNumber: string, breakGlassReason: string | null): Promise<AccessDecision> {
  if (breakGlassReason !== null) {
    if (breakGlassReason.trim().length < BREAK_GLASS_MIN_LENGTH) {
      throw new GraphQLError(`A break-glass reason says why, in at least ${BREAK_GLASS_MIN_LENGTH} characters`, { extensions: { code: 'BAD_USER_INPUT', field: 'breakGlassReason' } });
    }
    if (!caller.roles.some((r) => SOCIAL_CARE_ROLES.has(r))) throw new GraphQLError('Only social care staff may break glass', { extensions: { code: 'FORBIDDEN', field: 'breakGlassReason' } });
    return 'BREAK_GLASS';
  }
  if (caller.roles.includes('csc.practitioner') && (await isAllocated(sql, caller.username, nhsNumber))) return 'FULL';
  if (caller.roles.some((r) => SUMMARY_ROLES.has(r))) return 'SUMMARY';
  return 'NONE';
}
