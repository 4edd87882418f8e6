// How an LA's records differ from the national record of the same child: the errors and gaps that
// make matching hard. Every change is named, so the ground truth can say exactly what was done.
import { dayOf, isoDay, swapDayAndMonth } from './dates.ts';
import { NICKNAMES } from './names.ts';
import type { Address, Child } from './person.ts';
import type { Random } from './random.ts';

export const NOISE_RATES = {
  /** CSC persons recorded with no NHS number. */
  cscNoNhsNumber: 1 / 3,
  /** Pupils recorded with no NHS number (education systems rarely hold one). */
  pupilNoNhsNumber: 0.6,
  /** Of those whose first name has a common familiar form: recorded under it. */
  nickname: 0.3,
  forenameTypo: 0.03,
  surnameTypo: 0.04,
  /** Given and family names recorded the wrong way round. */
  namesSwapped: 0.01,
  missingPostcode: 0.08,
  /** Of those with an earlier address: recorded with its postcode. */
  oldPostcode: 0.1,
  /** Of those born on day 1-12 of a month other than that number: day and month swapped. */
  dayMonthSwap: 0.02,
  /** Of those whose NHS number was superseded: still recorded under the old one. */
  supersededNumberKept: 0.5,
} as const;

export type Noise =
  | 'no_nhs_number'
  | 'nickname'
  | 'forename_typo'
  | 'surname_typo'
  | 'names_swapped'
  | 'missing_postcode'
  | 'old_postcode'
  | 'day_month_swap'
  | 'superseded_nhs_number';

export interface RecordedDemographics {
  forename: string;
  surname: string;
  birthDay: number;
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

export function canSwapDayMonth(birthDay: number): boolean {
  return swapDayAndMonth(isoDay(birthDay)) !== undefined;
}

export interface RecordOptions {
  noNhsNumberRate: number;
  /** The address the LA knew the child at. */
  address: Address;
  /** An earlier address the LA may still have on file. */
  earlierAddress?: Address;
}

export function recordDemographics(child: Child, random: Random, options: RecordOptions): RecordedDemographics {
  const noise: Noise[] = [];
  let forename = child.given[0]!;
  let surname = child.family;
  const nicknames = NICKNAMES[forename];
  if (nicknames && random.chance(NOISE_RATES.nickname)) {
    forename = random.pick(nicknames);
    noise.push('nickname');
  }
  if (random.chance(NOISE_RATES.forenameTypo)) {
    forename = typo(forename, random);
    noise.push('forename_typo');
  }
  if (random.chance(NOISE_RATES.surnameTypo)) {
    surname = typo(surname, random);
    noise.push('surname_typo');
  }
  if (random.chance(NOISE_RATES.namesSwapped)) {
    [forename, surname] = [surname, forename];
    noise.push('names_swapped');
  }
  let birthDay = child.birthDay;
  if (canSwapDayMonth(birthDay) && random.chance(NOISE_RATES.dayMonthSwap)) {
    birthDay = dayOf(swapDayAndMonth(isoDay(birthDay))!);
    noise.push('day_month_swap');
  }
  let postcode: string | null = options.address.postcode;
  if (random.chance(NOISE_RATES.missingPostcode)) {
    postcode = null;
    noise.push('missing_postcode');
  } else if (options.earlierAddress && random.chance(NOISE_RATES.oldPostcode)) {
    postcode = options.earlierAddress.postcode;
    noise.push('old_postcode');
  }
  let nhsNumber: string | null = child.nhsNumber;
  if (random.chance(options.noNhsNumberRate)) {
    nhsNumber = null;
    noise.push('no_nhs_number');
  } else if (child.supersededNhsNumber && random.chance(NOISE_RATES.supersededNumberKept)) {
    nhsNumber = child.supersededNhsNumber;
    noise.push('superseded_nhs_number');
  }
  return { forename, surname, birthDay, postcode, nhsNumber, noise };
}
