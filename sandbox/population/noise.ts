// How an LA's records differ from the national record of the same child: the errors and gaps that
// make matching hard. Every change is named, so the ground truth can say exactly what was done.
import { dayOf, isoDay, swapDayAndMonth } from '../../lib/dates.ts';
import { NICKNAMES, PLACEHOLDER_GIVEN_NAMES, SPELLINGS } from './names.ts';
import type { Address, Child, Gender } from './person.ts';
import type { Random } from './random.ts';

/**
 * How often each difference is made. Rates of keying errors follow published audits of
 * administrative data (a few per cent of names mistyped; postcodes missing on one record in ten or
 * so); the others are chosen so that every class appears many times in a population of a few
 * thousand children, since each is a known cause of missed or wrong links. Rates given "of" a group
 * apply only to records where the change is possible. docs/population.md says where each comes from.
 */
export const NOISE_RATES = {
  /** CSC persons recorded with no NHS number. */
  cscNoNhsNumber: 1 / 3,
  /** Pupils recorded with no NHS number (education systems rarely hold one). */
  pupilNoNhsNumber: 0.6,
  /** Of those with several given names: all of them recorded in the one forename field ("Jack Thomas"). */
  middleNames: 0.4,
  /** Of those with several given names: recorded under the second, the name they go by. */
  knownByMiddleName: 0.05,
  /** Of those with a previous family name: recorded under it (the LA knew the child before the change). */
  previousSurname: 0.4,
  /** Of those whose first name has a common familiar form: recorded under it. */
  nickname: 0.3,
  /** Of those whose first name is written several ways (transliteration, spelling): another way. */
  spellingVariant: 0.2,
  /** Of those whose family name has an apostrophe, hyphen or space: written with it dropped or changed. */
  punctuationVariant: 0.3,
  forenameTypo: 0.03,
  surnameTypo: 0.04,
  /** Given and family names recorded the wrong way round. */
  namesSwapped: 0.01,
  /** Of those under one year old when first recorded: a placeholder given name ("Baby", "Infant"). */
  placeholderGivenName: 0.15,
  /** Recorded with gender unknown or not stated where the national record has one. */
  unknownGender: 0.02,
  missingPostcode: 0.08,
  /** Of those with an earlier address: recorded with its postcode. */
  oldPostcode: 0.1,
  /** One character of the postcode mistyped. */
  postcodeTypo: 0.02,
  /** Date of birth a day out. */
  dateSlipDay: 0.01,
  /** Date of birth a month out (same day). */
  dateSlipMonth: 0.005,
  /** Date of birth a year out (same day and month). */
  dateSlipYear: 0.005,
  /** Of those born on day 1-12 of a month other than that number: day and month swapped. */
  dayMonthSwap: 0.02,
  /** Of those whose NHS number was superseded: still recorded under the old one. */
  supersededNumberKept: 0.5,
} as const;

export type Noise =
  | 'no_nhs_number'
  | 'middle_names'
  | 'known_by_middle_name'
  | 'previous_surname'
  | 'nickname'
  | 'spelling_variant'
  | 'punctuation_variant'
  | 'forename_typo'
  | 'surname_typo'
  | 'names_swapped'
  | 'placeholder_given_name'
  | 'unknown_gender'
  | 'missing_postcode'
  | 'old_postcode'
  | 'postcode_typo'
  | 'date_slip_day'
  | 'date_slip_month'
  | 'date_slip_year'
  | 'day_month_swap'
  | 'superseded_nhs_number'
  // Records of children with no national record, and which registered child they resemble, if any.
  | 'not_in_pds'
  | 'resembles_namesake'
  | 'resembles_near_name'
  | 'resembles_near_date'
  | 'resembles_sibling';

export interface RecordedDemographics {
  forename: string;
  surname: string;
  birthDay: number;
  gender: Gender;
  postcode: string | null;
  nhsNumber: string | null;
  noise: Noise[];
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** One keying error: two letters swapped, one dropped, one doubled or one replaced. Never a no-op. */
export function typo(name: string, random: Random): string {
  if (name.length < 3) return `${name}${name.at(-1) ?? 'a'}`;
  for (;;) {
    const i = random.int(1, name.length - 2);
    const op = random.int(0, 3);
    let result: string;
    if (op === 0) result = name.slice(0, i) + name[i + 1] + name[i] + name.slice(i + 2);
    else if (op === 1) result = name.slice(0, i) + name.slice(i + 1);
    else if (op === 2) result = name.slice(0, i) + name[i] + name.slice(i);
    else result = name.slice(0, i) + random.pick([...LETTERS]) + name.slice(i + 1);
    if (result !== name) return result;
  }
}

/** A family name with its apostrophe, hyphen or space written differently: O'Brien as OBrien or O Brien, Smith-Jones as Smith Jones, SmithJones or Smith. */
export function punctuationVariant(name: string, random: Random): string {
  const options = new Set<string>();
  if (name.includes("'")) {
    options.add(name.replace(/'/g, ''));
    options.add(name.replace(/'/g, ' '));
  }
  if (name.includes('-')) {
    options.add(name.replace(/-/g, ' '));
    options.add(name.replace(/-/g, ''));
    const parts = name.split('-');
    // A double-barrelled name cut to its first part; never a prefix such as Al- or El-.
    if (parts.length === 2 && parts.every((p) => p.length >= 3)) options.add(parts[0]!);
  }
  if (name.includes(' ')) {
    options.add(name.replace(/ /g, '-'));
    options.add(name.replace(/ /g, ''));
  }
  options.delete(name);
  return random.pick([...options]);
}

export const hasPunctuation = (name: string): boolean => /['\- ]/.test(name);

/** One character of a postcode keyed wrong: a letter for another letter, a digit for another digit. */
export function postcodeTypo(postcode: string, random: Random): string {
  const positions = [...postcode].flatMap((c, i) => (/[A-Z0-9]/.test(c) ? [i] : []));
  const i = random.pick(positions);
  const c = postcode[i]!;
  const pool = /\d/.test(c) ? '0123456789' : 'ABCDEFGHJKLMNPRSTUWXYZ';
  let replacement = c;
  while (replacement === c) replacement = random.pick([...pool]);
  return postcode.slice(0, i) + replacement + postcode.slice(i + 1);
}

/** The day with day and month swapped, where that is another real date. */
export function swappedDay(birthDay: number): number | undefined {
  const swapped = swapDayAndMonth(isoDay(birthDay));
  return swapped === undefined ? undefined : dayOf(swapped);
}

export function canSwapDayMonth(birthDay: number): boolean {
  return swappedDay(birthDay) !== undefined;
}

/** The same day of the month a month or a year away, where there is one (never 31 April or 29 February of a common year). */
export function shiftMonths(birthDay: number, months: number): number | undefined {
  const [y, m, d] = isoDay(birthDay).split('-').map(Number) as [number, number, number];
  const total = y * 12 + (m - 1) + months;
  const date = new Date(Date.UTC(Math.floor(total / 12), total % 12, d));
  return date.getUTCDate() === d ? Math.round(date.getTime() / 86_400_000) : undefined;
}

export interface RecordOptions {
  noNhsNumberRate: number;
  /** The address the LA knew the child at. */
  address: Address;
  /** An earlier address the LA may still have on file. */
  earlierAddress?: Address;
  /** Under one year old when the LA first recorded the child. */
  infant?: boolean;
  /** The last day a recorded date of birth can be (a slip never puts a birth after it). */
  latestDay: number;
}

/** A date of birth keyed a day, a month or a year out, or with day and month swapped; never after `latest`. */
function slipDate(birthDay: number, latest: number, random: Random, noise: Noise[]): number {
  const swapped = swappedDay(birthDay);
  if (swapped !== undefined && random.chance(NOISE_RATES.dayMonthSwap)) {
    if (swapped <= latest) {
      noise.push('day_month_swap');
      return swapped;
    }
  }
  const roll = random.next();
  const sign = random.chance(0.5) ? 1 : -1;
  const pick = (...days: (number | undefined)[]) => days.find((d) => d !== undefined && d <= latest);
  if (roll < NOISE_RATES.dateSlipDay) {
    noise.push('date_slip_day');
    return pick(birthDay + sign, birthDay - sign)!;
  }
  if (roll < NOISE_RATES.dateSlipDay + NOISE_RATES.dateSlipMonth) {
    const day = pick(shiftMonths(birthDay, sign), shiftMonths(birthDay, -sign), shiftMonths(birthDay, 2 * -sign));
    if (day !== undefined) {
      noise.push('date_slip_month');
      return day;
    }
  } else if (roll < NOISE_RATES.dateSlipDay + NOISE_RATES.dateSlipMonth + NOISE_RATES.dateSlipYear) {
    const day = pick(shiftMonths(birthDay, 12 * sign), shiftMonths(birthDay, -12 * sign), shiftMonths(birthDay, 48 * -sign));
    if (day !== undefined) {
      noise.push('date_slip_year');
      return day;
    }
  }
  return birthDay;
}

export function recordDemographics(child: Child & { nhsNumber: string | null }, random: Random, options: RecordOptions): RecordedDemographics {
  const noise: Noise[] = [];
  let forename: string;
  if (options.infant && random.chance(NOISE_RATES.placeholderGivenName)) {
    forename = random.pick(PLACEHOLDER_GIVEN_NAMES);
    noise.push('placeholder_given_name');
  } else {
    let first = child.given[0]!;
    let middle = child.given.slice(1);
    if (middle.length > 0 && random.chance(NOISE_RATES.knownByMiddleName)) {
      first = middle[0]!;
      middle = [];
      noise.push('known_by_middle_name');
    }
    const nicknames = NICKNAMES[first];
    if (nicknames && random.chance(NOISE_RATES.nickname)) {
      first = random.pick(nicknames);
      noise.push('nickname');
    } else if (SPELLINGS[first] && random.chance(NOISE_RATES.spellingVariant)) {
      first = random.pick(SPELLINGS[first]!);
      noise.push('spelling_variant');
    }
    if (random.chance(NOISE_RATES.forenameTypo)) {
      first = typo(first, random);
      noise.push('forename_typo');
    }
    forename = first;
    if (middle.length > 0 && random.chance(NOISE_RATES.middleNames)) {
      forename = [first, ...middle].join(' ');
      noise.push('middle_names');
    }
  }
  let surname = child.family;
  if (child.previousFamily && random.chance(NOISE_RATES.previousSurname)) {
    surname = child.previousFamily;
    noise.push('previous_surname');
  }
  if (hasPunctuation(surname) && random.chance(NOISE_RATES.punctuationVariant)) {
    surname = punctuationVariant(surname, random);
    noise.push('punctuation_variant');
  } else if (SPELLINGS[surname] && random.chance(NOISE_RATES.spellingVariant)) {
    surname = random.pick(SPELLINGS[surname]!);
    if (!noise.includes('spelling_variant')) noise.push('spelling_variant');
  }
  if (random.chance(NOISE_RATES.surnameTypo)) {
    surname = typo(surname, random);
    noise.push('surname_typo');
  }
  if (random.chance(NOISE_RATES.namesSwapped)) {
    [forename, surname] = [surname, forename];
    noise.push('names_swapped');
  }
  const birthDay = slipDate(child.birthDay, options.latestDay, random, noise);
  let gender = child.gender;
  if ((gender === 'male' || gender === 'female') && random.chance(NOISE_RATES.unknownGender)) {
    gender = 'unknown';
    noise.push('unknown_gender');
  }
  let postcode: string | null = options.address.postcode;
  if (random.chance(NOISE_RATES.missingPostcode)) {
    postcode = null;
    noise.push('missing_postcode');
  } else {
    if (options.earlierAddress && random.chance(NOISE_RATES.oldPostcode)) {
      postcode = options.earlierAddress.postcode;
      noise.push('old_postcode');
    }
    if (random.chance(NOISE_RATES.postcodeTypo)) {
      postcode = postcodeTypo(postcode, random);
      noise.push('postcode_typo');
    }
  }
  let nhsNumber: string | null = child.nhsNumber;
  if (nhsNumber === null) {
    noise.push('not_in_pds');
  } else if (random.chance(options.noNhsNumberRate)) {
    nhsNumber = null;
    noise.push('no_nhs_number');
  } else if (child.supersededNhsNumber && random.chance(NOISE_RATES.supersededNumberKept)) {
    nhsNumber = child.supersededNhsNumber;
    noise.push('superseded_nhs_number');
  }
  return { forename, surname, birthDay, gender, postcode, nhsNumber, noise };
}
