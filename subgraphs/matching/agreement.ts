// A Fellegi–Sunter agreement check on a candidate PDS returned: each field's agreement level adds
// log2(m/u) evidence (m: how often true matches agree like this; u: how often non-matches do). It
// turns PDS's "this is the only patient like that" into a calibrated score, and refuses a PDS hit
// whose other fields disagree. A given name, family name or date of birth that disagrees outright
// caps the score below MATCH whatever the rest says: twins share everything else. And names, date of
// birth and sex alone never reach MATCH: a namesake shares them; the postcode (now or before) must agree.
import { normaliseName, normalisePostcode, oneEditApart } from '../../lib/names.ts';
import type { Patient } from './pds/patient.ts';
import { swapDayAndMonth } from '../../lib/dates.ts';
import { soundex } from '../../lib/soundex.ts';
import type { Demographics } from './demographics.ts';
import { familiarForms } from './familiar-forms.ts';

interface Level {
  level: string;
  m: number;
  u: number;
}

const weight = ({ m, u }: Level) => Math.log2(m / u);

export const LEVELS = {
  familyExact: { level: 'exact', m: 0.93, u: 0.01 },
  familyPrevious: { level: 'previous-name', m: 0.03, u: 0.0003 },
  familySoundex: { level: 'sound-alike', m: 0.04, u: 0.02 },
  familyTypo: { level: 'one-edit', m: 0.03, u: 0.001 },
  familyDisagree: { level: 'disagree', m: 0.01, u: 0.97 },
  givenExact: { level: 'exact', m: 0.88, u: 0.01 },
  givenPrefix: { level: 'prefix', m: 0.06, u: 0.02 },
  givenSoundex: { level: 'sound-alike', m: 0.03, u: 0.02 },
  givenTypo: { level: 'one-edit', m: 0.03, u: 0.002 },
  givenFamiliar: { level: 'familiar-form', m: 0.04, u: 0.002 },
  givenDisagree: { level: 'disagree', m: 0.03, u: 0.95 },
  namesTransposed: { level: 'transposed', m: 0.01, u: 0.0002 },
  birthExact: { level: 'exact', m: 0.97, u: 0.003 },
  birthSwapped: { level: 'day-month-swapped', m: 0.01, u: 0.0001 },
  birthDisagree: { level: 'disagree', m: 0.02, u: 0.997 },
  genderAgree: { level: 'agree', m: 0.99, u: 0.5 },
  genderDisagree: { level: 'disagree', m: 0.01, u: 0.5 },
  postcodeExact: { level: 'exact', m: 0.75, u: 0.001 },
  postcodeHistoric: { level: 'historic', m: 0.1, u: 0.001 },
  postcodeDistrict: { level: 'same-district', m: 0.05, u: 0.01 },
  postcodeDisagree: { level: 'disagree', m: 0.1, u: 0.99 },
} as const satisfies Record<string, Level>;

/** Evidence at which the score is one half; above it the score rises quickly towards 1. */
const MIDPOINT = 12;
/** The highest score a candidate with an outright name or birth-date disagreement can get. */
export const DISAGREEMENT_CAP = 0.9;
/**
 * The highest score of a candidate nothing but its names, date of birth and sex vouch for: a namesake
 * living elsewhere shares all of those. Below DISAGREEMENT_CAP, as the generated ground truth says it
 * should be (bench:match's calibration): about 9 in 10 such candidates are the child, against all but
 * none of those held for a disagreeing name (a familiar form, a typo). Automatic acceptance needs the record's postcode to be the
 * candidate's, now or in its address history; without that (no postcode, a postcode no history explains,
 * a day/month-swapped date) the candidate goes to a person for review.
 */
export const UNCORROBORATED_CAP = 0.87;

/** Why a candidate's score was held below MATCH, if it was. */
export type Cap = 'disagreement' | 'uncorroborated';

export interface Agreement {
  score: number;
  evidence: number;
  fields: Record<string, string>;
  /** `disagreement`: a name or the date of birth disagrees outright. `uncorroborated`: nothing a namesake would not share agrees. */
  cap: Cap | null;
}

export interface AgreementOptions {
  /**
   * The candidate came from a search that asked PDS for the record's whole postcode, exactly, with
   * address history: PDS holds that postcode for them now or held it before, whatever address it returned.
   */
  postcodeSearched?: boolean;
  /**
   * Likewise for the record's family name: a non-fuzzy search on it with history returns only those PDS
   * knows by that name now or before.
   */
  familySearched?: boolean;
}

interface NameLevels {
  exact: Level;
  prefix?: Level;
  typo: Level;
  alike: Level;
  disagree: Level;
}

const FAMILY: NameLevels = { exact: LEVELS.familyExact, typo: LEVELS.familyTypo, alike: LEVELS.familySoundex, disagree: LEVELS.familyDisagree };
const GIVEN: NameLevels = { exact: LEVELS.givenExact, prefix: LEVELS.givenPrefix, typo: LEVELS.givenTypo, alike: LEVELS.givenSoundex, disagree: LEVELS.givenDisagree };

function nameLevel(query: string, stored: string | undefined, levels: NameLevels): Level {
  const q = normaliseName(query);
  const s = normaliseName(stored ?? '');
  if (s === '') return levels.disagree;
  if (q === s) return levels.exact;
  // Double-barrelled or multiple names recorded in part.
  if (q.split(/[\s-]/).includes(s) || s.split(/[\s-]/).includes(q)) return levels.exact;
  if (oneEditApart(q, s)) return levels.typo;
  if (levels.prefix && q.length >= 3 && s.length >= 3 && (q.startsWith(s) || s.startsWith(q) || q.slice(0, 3) === s.slice(0, 3))) return levels.prefix;
  if (soundex(q) === soundex(s)) return levels.alike;
  return levels.disagree;
}

const district = (postcode: string) => normalisePostcode(postcode).slice(0, -3);

/** Words records put where a baby's given name will go: no given name at all. */
const PLACEHOLDERS = new Set(['BABY', 'INFANT', 'NEWBORN', 'UNNAMED', 'UNKNOWN', 'BOY', 'GIRL', 'TWIN', 'NK', 'NOT KNOWN']);

/** The given names a record holds, one by one ("Jack Thomas" is Jack, then Thomas); none for a placeholder ("Baby", "Baby Boy", "Twin 1"). */
export function givenNamesOf(value: string): string[] {
  const names = normaliseName(value).split(' ').filter(Boolean);
  return names.every((n) => PLACEHOLDERS.has(n) || /^\d+$/.test(n)) || PLACEHOLDERS.has(normaliseName(value)) ? [] : names;
}

const rank = (levels: NameLevels, level: Level) => [levels.exact, levels.typo, levels.prefix, levels.alike, levels.disagree].indexOf(level);

/**
 * The record's given names against the patient's: the record's first against the patient's first, then
 * any of the record's against any of the patient's (a middle name recorded first, or a first name the
 * child is not known by), the closer agreement kept.
 */
function givenLevel(record: string[], patient: string[]): Level {
  const theirs = patient.flatMap((g) => normaliseName(g).split(' ')).filter(Boolean);
  let best = nameLevel(record[0] ?? '', theirs[0], GIVEN);
  for (const mine of record) {
    for (const other of theirs) {
      const level = nameLevel(mine, other, GIVEN);
      // Only an exact agreement elsewhere in the names counts: a typo of a middle name is not evidence.
      if (level === GIVEN.exact && rank(GIVEN, level) < rank(GIVEN, best)) best = level;
    }
  }
  // A familiar form (Tom for Thomas) of the first name, when nothing closer agrees.
  if ((best === GIVEN.disagree || best === GIVEN.alike) && record[0] && theirs[0] && familiarForms(record[0], theirs[0])) return LEVELS.givenFamiliar;
  return best;
}

export function agreement(input: Demographics, patient: Patient, options: AgreementOptions = {}): Agreement {
  const fields: Record<string, string> = {};
  let evidence = 0;
  let capped = false;
  let corroborated = false;
  const add = (field: string, level: Level) => {
    fields[field] = level.level;
    evidence += weight(level);
  };

  let family = nameLevel(input.familyName, patient.familyName ?? undefined, FAMILY);
  // A surname the child was known by before (PDS's name history).
  if (family !== LEVELS.familyExact && (options.familySearched || patient.previousFamilyNames.some((f) => nameLevel(input.familyName, f, FAMILY) === LEVELS.familyExact))) family = LEVELS.familyPrevious;
  const givenNames = givenNamesOf(input.givenName);
  let given: Level | null = givenNames.length === 0 ? null : givenLevel(givenNames, patient.givenNames);
  if (family === LEVELS.familyDisagree && given === LEVELS.givenDisagree) {
    const transposedFamily = nameLevel(input.familyName, patient.givenNames[0], FAMILY);
    const transposedGiven = nameLevel(input.givenName, patient.familyName ?? undefined, GIVEN);
    if (transposedFamily === LEVELS.familyExact && transposedGiven === LEVELS.givenExact) {
      family = LEVELS.namesTransposed;
      given = LEVELS.namesTransposed;
    }
  }
  add('familyName', family);
  // A placeholder ("Baby") is no evidence either way.
  if (given) add('givenName', given);
  else fields.givenName = 'none';
  if (family === LEVELS.familyDisagree || given === LEVELS.givenDisagree) capped = true;

  const birth = patient.birthDate;
  const birthLevel = birth === input.dateOfBirth ? LEVELS.birthExact : birth && swapDayAndMonth(input.dateOfBirth) === birth ? LEVELS.birthSwapped : LEVELS.birthDisagree;
  add('dateOfBirth', birthLevel);
  if (birthLevel === LEVELS.birthDisagree) capped = true;

  if (input.gender && patient.gender && input.gender !== 'unknown' && patient.gender !== 'unknown') {
    add('gender', input.gender === patient.gender ? LEVELS.genderAgree : LEVELS.genderDisagree);
  }
  const stored = patient.address?.postcode;
  if (input.postcode && (stored || patient.previousPostcodes.length > 0 || options.postcodeSearched)) {
    const a = normalisePostcode(input.postcode);
    const b = stored ? normalisePostcode(stored) : '';
    const level =
      a === b
        ? LEVELS.postcodeExact
        : options.postcodeSearched || patient.previousPostcodes.some((p) => normalisePostcode(p) === a)
          ? LEVELS.postcodeHistoric
          : b && district(a) === district(b)
            ? LEVELS.postcodeDistrict
            : LEVELS.postcodeDisagree;
    add('postcode', level);
    corroborated = level === LEVELS.postcodeExact || level === LEVELS.postcodeHistoric;
  }
  // A day/month-swapped date is a likely slip, and a likely namesake's too: never enough on its own.
  if (birthLevel === LEVELS.birthSwapped) corroborated = false;

  let score = 1 / (1 + 2 ** -(evidence - MIDPOINT));
  const cap: Cap | null = capped ? 'disagreement' : !corroborated && score > UNCORROBORATED_CAP ? 'uncorroborated' : null;
  if (capped) score = Math.min(score, DISAGREEMENT_CAP);
  // Both held: a disagreeing name and nothing else to vouch for the candidate is the weaker of the two.
  if (!corroborated) score = Math.min(score, UNCORROBORATED_CAP);
  return { score: Math.round(score * 10_000) / 10_000, evidence: Math.round(evidence * 100) / 100, fields, cap };
}
