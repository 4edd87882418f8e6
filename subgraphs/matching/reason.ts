// Why MATCH gave the band it gave, as a stable code and a sentence a caseworker can act on, and which of
// the record's details agreed with the best candidate and which did not.
import type { Demographics } from './demographics.ts';
import type { Candidate, MatchStatus } from './matcher.ts';

export type MatchReason =
  | 'CORROBORATED'
  | 'NO_POSTCODE'
  | 'POSTCODE_NOT_HELD'
  | 'DATE_SWAPPED'
  | 'FIELD_DISAGREES'
  | 'WEAK_AGREEMENT'
  | 'SEVERAL_FIT'
  | 'NOT_FOUND'
  | 'PDS_UNAVAILABLE';

export interface Explained {
  reason: MatchReason;
  explanation: string;
  /** The details that agreed with the best candidate, with how (one-edit, historic, …). */
  agreed: { field: string; level: string }[];
  /** The details that did not. */
  disagreed: string[];
}

const LABELS: Record<string, string> = { givenName: 'given name', familyName: 'family name', dateOfBirth: 'date of birth', gender: 'sex', postcode: 'postcode' };
/** Agreement levels that are no agreement at all. */
const DISAGREEING = new Set(['disagree']);
/** Fields whose outright disagreement holds a candidate below MATCH (agreement.ts). */
const DECISIVE = ['givenName', 'familyName', 'dateOfBirth'];

const list = (fields: string[]) => {
  const names = fields.map((f) => LABELS[f] ?? f);
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
};
const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** The reason for `status` given its best candidate (if any) and the demographics asked with. */
export function explain(status: MatchStatus, best: Candidate | undefined, asked: Demographics): Explained {
  const fields = best?.fields ?? {};
  // A placeholder given name ("Baby") is no evidence either way: neither agreed nor disagreed.
  const compared = Object.entries(fields).filter(([, level]) => level !== 'none');
  const agreed = compared.filter(([, level]) => !DISAGREEING.has(level)).map(([field, level]) => ({ field, level }));
  const disagreed = compared.filter(([, level]) => DISAGREEING.has(level)).map(([field]) => field);
  const answer = (reason: MatchReason, explanation: string): Explained => ({ reason, explanation, agreed, disagreed });

  if (status === 'ERROR') return answer('PDS_UNAVAILABLE', 'PDS could not be asked: try again later.');
  if (status === 'NO_MATCH') return answer('NOT_FOUND', 'PDS holds no child with details like these.');
  if (status === 'MANY_MATCH') return answer('SEVERAL_FIT', 'More than one child in PDS fits these details: add or correct details (a postcode, the sex, all given names).');
  if (status === 'MATCH') return answer('CORROBORATED', 'Names and date of birth agree, and PDS holds the postcode for this child, now or before.');
  const decisive = DECISIVE.filter((f) => fields[f] === 'disagree');
  if (decisive.length > 0) return answer('FIELD_DISAGREES', `${capitalised(list(decisive))} ${decisive.length === 1 ? 'disagrees' : 'disagree'} with PDS: check it is this child (a sibling or twin shares the rest).`);
  if (fields.dateOfBirth === 'day-month-swapped') return answer('DATE_SWAPPED', 'The date of birth agrees only with day and month swapped: check which is right.');
  if (best?.cap === 'uncorroborated' && !asked.postcode) return answer('NO_POSTCODE', 'The record has no postcode: names, date of birth and sex alone are shared by namesakes, so a person must check.');
  if (best?.cap === 'uncorroborated') return answer('POSTCODE_NOT_HELD', 'PDS has never held the record’s postcode for this child: a namesake living elsewhere would look the same, so a person must check.');
  return answer('WEAK_AGREEMENT', `Too few details agree closely${disagreed.length > 0 ? ` (${list(disagreed)} disagree${disagreed.length === 1 ? 's' : ''})` : ''}.`);
}
