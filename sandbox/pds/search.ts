// Patient search as NHS England's PDS FHIR API defines it: the parameters, their validation, the
// minimum combinations, non-fuzzy (wildcards, optional history) and fuzzy (Soundex, transposed
// names, always history) matching, and a score of 1.0 for an exact match, lower for a partial one.
import { isoDay } from '../../lib/dates.ts';
import { soundex } from '../../lib/soundex.ts';
import { PdsError } from './operation-outcome.ts';
import { normaliseName, normalisePostcode } from '../../lib/names.ts';
import type { IndexedName, IndexedPatient, PatientIndex } from './patient-index.ts';

const KNOWN_PARAMETERS = new Set([
  '_fuzzy-match', '_exact-match', '_history', '_max-results', 'family', 'given', 'gender', 'birthdate',
  'death-date', 'address-postalcode', 'address-postcode', 'general-practitioner', 'email', 'phone',
]);
const GENDERS = new Set(['male', 'female', 'other', 'unknown']);
const MAX_NAME_LENGTH = 35;

interface DateRange {
  from: number;
  to: number;
  exact: boolean;
}

export interface SearchQuery {
  fuzzy: boolean;
  exactMatch: boolean;
  history: boolean;
  maxResults?: number;
  family?: string;
  given: string[];
  gender?: string;
  birth?: DateRange;
  death?: DateRange;
  postcode?: string;
  gp?: string;
  email?: string;
  phone?: string;
}

const invalid = (field: string, value: string) => new PdsError('INVALID_VALUE', `Invalid value - '${value}' in field '${field}'`);

function booleanParameter(params: URLSearchParams, name: string): boolean {
  const value = params.get(name);
  if (value === null) return false;
  if (value === 'true' || value === 'false') return value === 'true';
  throw invalid(name, value);
}

/** `eqyyyy-mm-dd`, `geyyyy-mm-dd`, `leyyyy-mm-dd` (or a bare date), one or two of them making a range. */
function dateRange(values: string[], field: string): DateRange | undefined {
  if (values.length === 0) return undefined;
  if (values.length > 2) throw new PdsError('INVALID_SEARCH_DATA', `Invalid search data - too many values for '${field}'`);
  let from = -Infinity;
  let to = Infinity;
  let exact = false;
  for (const value of values) {
    const match = /^(eq|ge|le)?(\d{4}-\d{2}-\d{2})$/.exec(value);
    const day = match ? Date.parse(`${match[2]}T00:00:00Z`) / 86_400_000 : NaN;
    if (!match || !Number.isFinite(day) || isoDay(day) !== match[2]) throw invalid(field, value);
    const op = match[1] ?? 'eq';
    if (op === 'eq') {
      if (values.length > 1) throw new PdsError('INVALID_SEARCH_DATA', `Invalid search data - '${field}' cannot combine eq with a range`);
      from = to = day;
      exact = true;
    } else if (op === 'ge') from = Math.max(from, day);
    else to = Math.min(to, day);
  }
  return { from, to, exact };
}

function checkWildcard(field: string, value: string, fuzzy: boolean): void {
  if (!value.includes('*')) return;
  if (fuzzy) throw new PdsError('INVALID_SEARCH_DATA', `Invalid search data - wildcards are not allowed in a fuzzy search ('${field}')`);
  if (value.indexOf('*') < 2) throw new PdsError('INVALID_SEARCH_DATA', `Invalid search data - a wildcard cannot be in the first two characters of '${field}'`);
}

export function parseSearch(params: URLSearchParams): SearchQuery {
  if ([...params.keys()].length === 0) throw new PdsError('UNSUPPORTED_SERVICE');
  for (const key of params.keys()) {
    if (!KNOWN_PARAMETERS.has(key)) throw new PdsError('ADDITIONAL_PROPERTIES', `Invalid request with error - additional property '${key}' is not allowed`);
  }
  const single = (name: string): string | undefined => {
    const values = params.getAll(name);
    if (values.length > 1) throw new PdsError('INVALID_SEARCH_DATA', `Invalid search data - '${name}' may be given once`);
    const value = values[0]?.trim();
    if (value === '') throw invalid(name, values[0]!);
    return value;
  };
  const fuzzy = booleanParameter(params, '_fuzzy-match');
  const query: SearchQuery = {
    fuzzy,
    exactMatch: booleanParameter(params, '_exact-match'),
    history: fuzzy || booleanParameter(params, '_history'),
    given: [],
  };
  const maxResults = single('_max-results');
  if (maxResults !== undefined) {
    const n = Number(maxResults);
    if (!/^\d+$/.test(maxResults) || n < 1 || n > 50) throw invalid('_max-results', maxResults);
    query.maxResults = n;
  }
  const family = single('family');
  if (family !== undefined) {
    if (family.length > MAX_NAME_LENGTH) throw invalid('family', family);
    checkWildcard('family', family, fuzzy);
    query.family = family;
  }
  for (const given of params.getAll('given')) {
    if (given.trim() === '' || given.length > MAX_NAME_LENGTH) throw invalid('given', given);
    checkWildcard('given', given, fuzzy);
    query.given.push(given.trim());
  }
  const gender = single('gender');
  if (gender !== undefined) {
    if (!GENDERS.has(gender)) throw invalid('gender', gender);
    query.gender = gender;
  }
  const birth = dateRange(params.getAll('birthdate'), 'birthdate');
  if (birth) query.birth = birth;
  const death = dateRange(params.getAll('death-date'), 'death-date');
  if (death) query.death = death;
  const postalcode = single('address-postalcode');
  const postcode = single('address-postcode');
  if (postalcode !== undefined && postcode !== undefined) {
    throw new PdsError('INVALID_SEARCH_DATA', "Invalid search data - use one of 'address-postalcode' and 'address-postcode'");
  }
  const anyPostcode = postalcode ?? postcode;
  if (anyPostcode !== undefined) {
    const field = postalcode !== undefined ? 'address-postalcode' : 'address-postcode';
    if (!/^[A-Za-z0-9 *]{2,10}$/.test(anyPostcode)) throw invalid(field, anyPostcode);
    checkWildcard(field, anyPostcode, fuzzy);
    query.postcode = normalisePostcode(anyPostcode);
  }
  const gp = single('general-practitioner');
  if (gp !== undefined) {
    if (!/^[A-Za-z0-9]{3,10}$/.test(gp)) throw invalid('general-practitioner', gp);
    query.gp = gp.toUpperCase();
  }
  const email = single('email');
  if (email !== undefined) {
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw invalid('email', email);
    query.email = email.toLowerCase();
  }
  const phone = single('phone');
  if (phone !== undefined) {
    if (!/^\+?[0-9 ]{3,20}$/.test(phone)) throw invalid('phone', phone);
    query.phone = phone.replace(/\s/g, '');
  }
  checkCombination(query);
  return query;
}

/** The minimum parameter combinations of the real API. */
function checkCombination(q: SearchQuery): void {
  const has = { given: q.given.length > 0, family: q.family !== undefined, birth: q.birth !== undefined, gender: q.gender !== undefined, postcode: q.postcode !== undefined };
  const ok = q.fuzzy
    ? (has.given && has.family && has.birth) ||
      (has.family && has.birth && has.gender && has.postcode) ||
      (has.given && has.birth && has.gender && has.postcode)
    : has.family && has.birth;
  if (!ok) {
    throw new PdsError(
      'INVALID_SEARCH_DATA',
      q.fuzzy
        ? 'Invalid search data provided - a fuzzy search needs given name, family name and date of birth; or family name, date of birth, gender and postcode; or given name, date of birth, gender and postcode'
        : 'Invalid search data provided - a non-fuzzy search needs at least family name and date of birth',
    );
  }
}

const wildcardPattern = (value: string): RegExp =>
  new RegExp(`^${value.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

/** How well one query value agrees with a stored one: 1 exact, less for partial agreement, 0 none. */
type Agreement = number;

/** A query name prepared once per search, not once per candidate. */
interface QueryName {
  normalised: string;
  soundex: string;
  pattern?: RegExp;
}

function prepareName(value: string): QueryName {
  const normalised = value.split('*').map(normaliseName).join('*');
  return { normalised, soundex: soundex(normalised), ...(value.includes('*') ? { pattern: wildcardPattern(normalised) } : {}) };
}

function nameAgreement(query: QueryName, stored: string, storedSoundex: string, fuzzy: boolean): Agreement {
  if (query.pattern) return query.pattern.test(stored) ? 0.9 : 0;
  if (query.normalised === stored) return 1;
  if (fuzzy && query.soundex !== '' && query.soundex === storedSoundex) return 0.8;
  return 0;
}

interface NameMatch {
  family: Agreement;
  given: Agreement;
}

interface PreparedNames {
  family?: QueryName;
  given: QueryName[];
}

function matchName(q: SearchQuery, names: PreparedNames, name: IndexedName): NameMatch | undefined {
  const family = names.family === undefined ? 1 : nameAgreement(names.family, name.family, name.familySoundex, q.fuzzy);
  if (family === 0) return undefined;
  let given: Agreement = 1;
  if (names.given.length > 0) {
    given = nameAgreement(names.given[0]!, name.given[0] ?? '', name.givenSoundex, q.fuzzy);
    if (given === 0) return undefined;
    // Further given names must each be among the patient's other given names.
    for (const extra of names.given.slice(1)) {
      if (!name.given.slice(1).some((g) => nameAgreement(extra, g, soundex(g), q.fuzzy) > 0)) return undefined;
    }
  }
  const historic = name.historic ? 0.9 : 1;
  return { family: family * historic, given: given * historic };
}

/** Transposed names (Thomas Adam for Adam Thomas): fuzzy search only. */
function matchTransposed(q: SearchQuery, names: PreparedNames, name: IndexedName): NameMatch | undefined {
  if (!q.fuzzy || names.family === undefined || names.given.length === 0) return undefined;
  const family = nameAgreement(names.family, name.given[0] ?? '', name.givenSoundex, true);
  const given = nameAgreement(names.given[0]!, name.family, name.familySoundex, true);
  return family > 0 && given > 0 ? { family: family * 0.75, given: given * 0.75 } : undefined;
}

function bestName(q: SearchQuery, names: PreparedNames, patient: IndexedPatient): NameMatch | undefined {
  let best: NameMatch | undefined;
  for (const name of patient.names) {
    if (name.historic && !q.history) continue;
    for (const match of [matchName(q, names, name), matchTransposed(q, names, name)]) {
      if (match && (!best || match.family + match.given > best.family + best.given)) best = match;
    }
  }
  return best;
}

function inRange(day: number | undefined, range: DateRange): boolean {
  return day !== undefined && day >= range.from && day <= range.to;
}

function postcodeAgreement(q: SearchQuery, patient: IndexedPatient): Agreement {
  const pattern = q.postcode!.includes('*') ? wildcardPattern(q.postcode!) : undefined;
  let best = 0;
  for (const postcode of patient.postcodes) {
    if (postcode.historic && !q.history) continue;
    const hit = pattern ? pattern.test(postcode.value) : postcode.value === q.postcode;
    if (hit) best = Math.max(best, (pattern ? 0.9 : 1) * (postcode.historic ? 0.9 : 1));
  }
  return best;
}

const WEIGHTS = { family: 0.3, given: 0.25, birth: 0.25, gender: 0.05, postcode: 0.1, gp: 0.05, death: 0.05, email: 0.05, phone: 0.05 };

export interface Match {
  patient: IndexedPatient;
  score: number;
}

/** The patients that match, best first, with PDS-style scores. */
export function searchPatients(index: PatientIndex, q: SearchQuery): Match[] {
  const birth = q.birth!;
  const names: PreparedNames = { ...(q.family !== undefined ? { family: prepareName(q.family) } : {}), given: q.given.map(prepareName) };
  const exactFamily = q.family && !q.family.includes('*') && !q.fuzzy ? normaliseName(q.family) : undefined;
  const soundexCodes = q.fuzzy && q.family ? [soundex(q.family)] : undefined;
  const candidates = index.candidates({
    birthFrom: Number.isFinite(birth.from) ? birth.from : -100_000,
    birthTo: Number.isFinite(birth.to) ? birth.to : 100_000,
    ...(exactFamily ? { family: exactFamily } : {}),
    ...(soundexCodes ? { soundexCodes } : {}),
    ...(q.postcode && !q.postcode.includes('*') ? { postcode: q.postcode } : {}),
  });
  const matches: Match[] = [];
  for (const patient of candidates) {
    if (!inRange(patient.birthDay, birth)) continue;
    if (q.gender !== undefined && patient.gender !== q.gender) continue;
    if ((q.postcode !== undefined || q.gp !== undefined) && patient.restricted) continue;
    const name = bestName(q, names, patient);
    if (!name) continue;
    const parts: [number, Agreement][] = [];
    if (q.family !== undefined) parts.push([WEIGHTS.family, name.family]);
    if (q.given.length > 0) parts.push([WEIGHTS.given, name.given]);
    parts.push([WEIGHTS.birth, birth.exact ? 1 : 0.85]);
    if (q.gender !== undefined) parts.push([WEIGHTS.gender, 1]);
    if (q.postcode !== undefined) {
      const agreement = postcodeAgreement(q, patient);
      if (agreement === 0) continue;
      parts.push([WEIGHTS.postcode, agreement]);
    }
    if (q.gp !== undefined) {
      const agreement = patient.gp === q.gp ? 1 : 0;
      if (agreement === 0 && !q.fuzzy) continue;
      parts.push([WEIGHTS.gp, agreement]);
    }
    if (q.death !== undefined) {
      const agreement = inRange(patient.deathDay, q.death) ? 1 : 0;
      if (agreement === 0 && !q.fuzzy) continue;
      parts.push([WEIGHTS.death, agreement]);
    }
    if (q.email !== undefined) {
      if (!patient.emails.includes(q.email)) continue;
      parts.push([WEIGHTS.email, 1]);
    }
    if (q.phone !== undefined) {
      if (!patient.phones.includes(q.phone)) continue;
      parts.push([WEIGHTS.phone, 1]);
    }
    const total = parts.reduce((sum, [w]) => sum + w, 0);
    const score = Math.round((parts.reduce((sum, [w, a]) => sum + w * a, 0) / total) * 10_000) / 10_000;
    if (q.exactMatch && score < 1) continue;
    matches.push({ patient, score });
  }
  return matches.sort((a, b) => b.score - a.score || a.patient.id.localeCompare(b.patient.id));
}
