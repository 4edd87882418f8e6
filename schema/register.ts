// What a custodian sends FIND's register (`registerRecords` and `retireRecords` in
// subgraphs/locator/schema.graphql): the custodian's client (la-router/register) and the register
// (subgraphs/locator/register.ts) both speak it.

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
