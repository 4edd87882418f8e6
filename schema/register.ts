// What a custodian sends FIND's register (`registerRecords` and `retireRecords` in
// subgraphs/locator/schema.graphql): the custodian's client (la-router/register) and the register
// (subgraphs/locator/register.ts) both speak it.

/** FIND's audience: a DfE access token for the register is asked for, and checked, with it. */
export const LOCATOR_AUDIENCE = 'mais:dfe:locator';

export interface RegistrationInput {
  nhsNumber: string;
  systemId: string;
  recordType: string;
  subjectId?: string | null;
  firstSeen?: string | null;
  lastSeen?: string | null;
  /** PDS marks the child's record restricted (the custodian learns it from MATCH's demographics). */
  restricted?: boolean | null;
}

export interface RetirementInput {
  nhsNumber: string;
  systemId: string;
  recordType: string;
}
