// The subgraph's own check of what the LA router decided a caseworker may see (defence in depth).
import { GraphQLError } from 'graphql';
import type { InternalClaims } from '../internal-token.ts';

/** The LA roles of social care staff: they may break glass and link a record to an NHS number. */
export const SOCIAL_CARE_ROLES: ReadonlySet<string> = new Set(['csc.practitioner', 'csc.manager']);
export const isSocialCareStaff = (roles: readonly string[]) => roles.some((r) => SOCIAL_CARE_ROLES.has(r));
/** Roles that act on a child: social care staff, and education staff for a child's summary and MATCH. */
export const CHILD_ROLES: ReadonlySet<string> = new Set([...SOCIAL_CARE_ROLES, 'education.officer']);

/**
 * Who may run each search: findChildren searches the LA's social care records, so social care staff;
 * matchChild asks MATCH for a child's NHS number, so any role that acts on a child. A role that may see
 * no child (an IG officer, a developer) may run neither.
 */
export const SEARCH_ROLES: Readonly<Record<'findChildren' | 'matchChild', ReadonlySet<string>>> = { findChildren: SOCIAL_CARE_ROLES, matchChild: CHILD_ROLES };
export const maySearch = (search: keyof typeof SEARCH_ROLES, roles: readonly string[]) => roles.some((r) => SEARCH_ROLES[search].has(r));

/** A search names a child closely enough: a given or family name with a date of birth, or an NHS number. Null when it does; else what is missing. */
export function searchProblem(input: { givenName?: unknown; familyName?: unknown; dateOfBirth?: unknown; nhsNumber?: unknown } | null | undefined): string | null {
  const filled = (v: unknown) => v instanceof Date || (typeof v === 'string' && v.trim() !== '');
  if ((filled(input?.givenName) || filled(input?.familyName)) && filled(input?.dateOfBirth)) return null;
  if (filled(input?.nhsNumber)) return null;
  return 'A search needs a given or family name with a date of birth, or an NHS number';
}

/** Throws FORBIDDEN for a detail field unless the decision was a full view (or break-glass). */
export function requireFullView(claims: InternalClaims, field: string): void {
  if (claims.decision === 'FULL' || claims.decision === 'BREAK_GLASS') return;
  throw new GraphQLError(`${field} is withheld: this caseworker may see a summary only`, { extensions: { code: 'FORBIDDEN', field } });
}

/** Throws FORBIDDEN for a whole record when the router decided nothing may be seen. */
export function requireSomeView(claims: InternalClaims, field: string): void {
  if (claims.decision === 'NONE') throw new GraphQLError(`${field} is withheld`, { extensions: { code: 'FORBIDDEN', field } });
}

/**
 * Throws FORBIDDEN unless the router's token names this child: each token is bound to the one child its
 * request is about, so an entity or argument for any other child is refused, whatever the decision.
 */
export function requireTheChild(claims: InternalClaims, nhsNumber: string, field: string): void {
  if (claims.child !== nhsNumber) throw new GraphQLError(`${field}: this request is not about that child`, { extensions: { code: 'FORBIDDEN', field } });
}
