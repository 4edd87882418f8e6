// Who may ask MATCH, and why. MATCH returns a child's NHS number, and PDS's demographics (names, date
// of birth, address, GP practice) by NHS number: it answers only an organisation whose type has a
// purpose for them under its data sharing agreements, and only for a purpose stated on the request
// (the matchChild argument, or the MAIS-Purpose header for demographics), which DfE's audit records.
// DfE's own organisation is no exception. Every call is checked; the scope (`match`) is checked before
// this, by the token's verifier.
import { declaredPurpose, forbidden } from '../../lib/graphql/errors.ts';
import type { OrganisationType } from '../../lib/dsa/policy.ts';
import type { Organisation } from '../../lib/organisation-credential.ts';
import { PURPOSES } from '../../lib/purposes.ts';

/**
 * The purposes each organisation type may ask MATCH for. Every Purpose is a local authority's duty to
 * children (Children Act 1989 s17, s26, s47; Children Act 2004 s10), so only LAs have one; health
 * bodies read PDS themselves, and police, schools and DfE have no purpose for a child's demographics.
 */
export const MATCH_PURPOSES: Readonly<Record<OrganisationType, readonly string[]>> = {
  LA: PURPOSES,
  HEALTH: [],
  POLICE: [],
  SCHOOL_TRUST: [],
  DFE: [],
};

/** The purpose, checked: BAD_USER_INPUT when it is missing or not a Purpose, FORBIDDEN when the caller's type has no such purpose. */
export function purposeFor(caller: Organisation, stated: string | null, field: string): string {
  const allowed = MATCH_PURPOSES[caller.type] ?? [];
  if (allowed.length === 0) throw forbidden(`${caller.code} (${caller.type}) has no purpose for MATCH under its agreements`, field);
  const purpose = declaredPurpose(stated);
  if (!allowed.includes(purpose)) throw forbidden(`${caller.code} (${caller.type}) may not ask MATCH for ${purpose}`, field);
  return purpose;
}
