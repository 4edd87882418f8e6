// One child as the nation knows them: what PDS holds, before any LA writes it down.
import type { Faker } from '@faker-js/faker';
import { en_GB } from '@faker-js/faker';
import { nhsCheckDigit } from '../../lib/nhs-number.ts';
import { yearsBetween } from '../../lib/dates.ts';
import { NAME_POOLS } from './names.ts';
import { OTHER_AREAS, postcodeIn, SANDBOX_LAS, type LocalAuthority } from './places.ts';
import type { Random } from './random.ts';

export type Gender = 'male' | 'female' | 'other' | 'unknown';

export interface Address {
  lines: string[];
  postcode: string;
  /** First day at this address (days since epoch). */
  from: number;
  /** Last day at this address; absent for the current address. */
  to?: number;
  /** The sandbox LA this address is in, if any. */
  la?: string;
}

export interface Child {
  index: number;
  /** None for a child with no national record (not yet registered, or newly arrived): no PDS record is written. */
  nhsNumber: string | null;
  /** An earlier NHS number that this one replaced, if any. */
  supersededNhsNumber?: string;
  given: string[];
  family: string;
  /** A family name the child was known by before, if any, until the day before `familyFrom`. */
  previousFamily?: string;
  familyFrom?: number;
  background: string;
  gender: Gender;
  birthDay: number;
  address: Address;
  previousAddresses: Address[];
  restricted: boolean;
  deathDay?: number;
  gpOdsCode: string;
  phone?: string;
  /** For a child with no national record: the registered child they were made to resemble, and how. */
  resembles?: { how: Resemblance; nhsNumber: string };
}

export type Resemblance = 'namesake' | 'near_name' | 'near_date' | 'sibling';

/**
 * Children an LA's social care knows who have no national record: unaccompanied asylum-seeking children
 * and other new arrivals (about 9% of looked-after children in England, DfE 2024), babies referred
 * before their birth is registered, and children whose record the LA cannot trace. Some closely
 * resemble a registered child: a namesake (the same first given name, family name, date of birth and
 * sex), a near name (one letter different), a near date (a day out, or day and month swapped) or a
 * sibling (the same family name and home). These are the records an automatic match must leave alone.
 */
export const UNREGISTERED_RATES = {
  /** For each registered child an LA's social care records, the chance it also records one with no national record. */
  perCscChild: 0.06,
  resembles: { namesake: 30, near_name: 15, near_date: 10, sibling: 15, none: 30 },
} as const;

/** Shares of children by where they live: mostly the sandbox LAs, some elsewhere in England. */
export const RESIDENCE = { northshire: 40, southshire: 40, elsewhere: 20 } as const;

export const DEMOGRAPHIC_RATES = {
  /** Moved into their LA from the other sandbox LA. */
  movedBetweenSandboxLas: 0.08,
  /** Moved from elsewhere. */
  movedFromElsewhere: 0.12,
  multipleGivenNames: 0.35,
  doubleBarrelled: 0.04,
  previousFamilyName: 0.03,
  restricted: 0.005,
  deceased: 0.002,
  superseded: 0.003,
  /**
   * Born in the same birth as the child before: about 1.5% of maternities in England and Wales are
   * multiple (ONS, Birth characteristics), so about 3% of children are a twin; 1 in 40 of these
   * births are triplets.
   */
  multipleBirth: 0.015,
  tripletsOfMultiple: 0.025,
  /**
   * A child with the same first given name, family name, date of birth and sex as another registered
   * child, living somewhere else. Chance coincidences are rarer than this in the smallest populations
   * and more common than this among common names in large ones; the rate keeps several in every test
   * population, since a namesake is what an automatic match must never be taken in by.
   */
  namesake: 0.003,
} as const;

/**
 * NHS numbers in the 999 range first, then 998, 997, ...: ranges never issued to real patients. Within a
 * range the order is a seeded permutation, so consecutive children do not get consecutive numbers.
 */
export class NhsNumberSequence {
  private prefix = 999;
  private k = 0;
  private readonly multiplier = 7_919;
  private readonly offset: number;
  readonly prefixesUsed: number[] = [999];

  constructor(seed: number) {
    this.offset = (seed * 104_729) % 1_000_000;
  }

  next(): string {
    for (;;) {
      if (this.k >= 1_000_000) {
        this.prefix--;
        if (this.prefix < 990) throw new RangeError('synthetic NHS number ranges 990-999 are exhausted');
        this.prefixesUsed.push(this.prefix);
        this.k = 0;
      }
      const body = (this.k * this.multiplier + this.offset) % 1_000_000;
      this.k++;
      const firstNine = `${this.prefix}${String(body).padStart(6, '0')}`;
      const check = nhsCheckDigit(firstNine);
      if (check !== undefined) return `${firstNine}${check}`;
    }
  }
}

export interface PersonContext {
  random: Random;
  faker: Faker;
  nhsNumbers: NhsNumberSequence;
  asOfDay: number;
}

const STREETS = en_GB.location?.street_name as readonly string[];

function addressIn(context: PersonContext, la: LocalAuthority | undefined, from: number, to?: number): Address {
  const { random, faker } = context;
  const [district, town] = la ? [random.pick(la.districts), random.pick(la.towns)] : random.pick(OTHER_AREAS);
  const flat = random.chance(0.15) ? `Flat ${random.int(1, 40)}` : undefined;
  const street = `${random.int(1, 220)} ${faker.helpers.arrayElement(STREETS)}`;
  return {
    lines: flat ? [flat, street, town] : [street, town],
    postcode: postcodeIn(district, random),
    from,
    ...(to === undefined ? {} : { to }),
    ...(la ? { la: la.code } : {}),
  };
}

function givenNames(random: Random, pool: (typeof NAME_POOLS)[string], gender: Gender): string[] {
  const list = gender === 'female' ? pool.female : gender === 'male' ? pool.male : random.chance(0.5) ? pool.female : pool.male;
  const names = [random.pick(list)];
  if (random.chance(DEMOGRAPHIC_RATES.multipleGivenNames)) {
    const second = random.pick(list);
    if (second !== names[0]) names.push(second);
    if (random.chance(0.1)) names.push(random.pick(list));
  }
  return names;
}

function familyName(random: Random, pool: (typeof NAME_POOLS)[string]): string {
  const first = random.pick(pool.family);
  if (!random.chance(DEMOGRAPHIC_RATES.doubleBarrelled)) return first;
  const second = random.pick(pool.family);
  return second === first ? first : `${first}-${second}`;
}

const POOL_WEIGHTS = Object.fromEntries(Object.entries(NAME_POOLS).map(([key, pool]) => [key, pool.weight]));

/** What a generated child is made to share with another: a namesake's names, date of birth and sex; a sibling's family name. */
export interface Likeness {
  background?: string;
  given?: string[];
  family?: string;
  gender?: Gender;
  birthDay?: number;
  residence?: keyof typeof RESIDENCE;
  /** No national record: the child gets no NHS number. */
  unregistered?: boolean;
}

/** What a namesake of `other` shares with them: first given name, family name, date of birth and sex (and the name pool they come from). */
export function namesakeOf(other: Child): Likeness {
  return { background: other.background, given: other.given, family: other.family, gender: other.gender, birthDay: other.birthDay };
}

export function generateChild(context: PersonContext, index: number, like: Likeness = {}): Child {
  const { random, asOfDay } = context;
  const background = random.weighted(POOL_WEIGHTS);
  const pool = NAME_POOLS[like.background ?? background]!;
  const drawnGender: Gender = random.chance(0.004) ? random.pick(['other', 'unknown'] as const) : random.chance(0.5) ? 'female' : 'male';
  const gender = like.gender ?? drawnGender;
  // Ages 0 to 18: born up to 18 years (less a day) before the as-of date.
  const drawnBirthDay = asOfDay - random.int(0, 18 * 365 + 3);
  const birthDay = like.birthDay ?? drawnBirthDay;
  const drawnResidence = random.weighted(RESIDENCE);
  const residence = like.residence ?? drawnResidence;
  const homeLa = SANDBOX_LAS.find((la) => la.code === residence);

  const previousAddresses: Address[] = [];
  let movedIn = birthDay;
  const age = yearsBetween(birthDay, asOfDay);
  if (age >= 1) {
    const moveRoll = random.next();
    let previousLa: LocalAuthority | undefined | null = null;
    if (homeLa && moveRoll < DEMOGRAPHIC_RATES.movedBetweenSandboxLas) {
      previousLa = SANDBOX_LAS.find((la) => la.code !== homeLa.code);
    } else if (moveRoll < DEMOGRAPHIC_RATES.movedBetweenSandboxLas + DEMOGRAPHIC_RATES.movedFromElsewhere) {
      previousLa = undefined;
    }
    if (previousLa !== null) {
      movedIn = asOfDay - random.int(60, Math.min(5 * 365, asOfDay - birthDay - 1));
      previousAddresses.push(addressIn(context, previousLa, birthDay, movedIn - 1));
    }
  }
  const address = addressIn(context, homeLa, movedIn);

  const given = givenNames(random, pool, gender);
  const family = familyName(random, pool);
  const child: Child = {
    index,
    nhsNumber: like.unregistered ? null : context.nhsNumbers.next(),
    given: like.given ? [like.given[0]!, ...given.slice(1).filter((g) => g !== like.given![0])] : given,
    family: like.family ?? family,
    background: like.background ?? background,
    gender,
    birthDay,
    address,
    previousAddresses,
    restricted: random.chance(DEMOGRAPHIC_RATES.restricted),
    gpOdsCode: `${random.pick(['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'L', 'M', 'N', 'P'])}${random.int(81000, 89999)}`,
  };
  if (random.chance(DEMOGRAPHIC_RATES.previousFamilyName) && asOfDay - birthDay > 60) {
    const previous = familyName(random, pool);
    if (previous !== child.family) child.previousFamily = previous;
    const changedOn = asOfDay - random.int(30, Math.min(asOfDay - birthDay - 1, 8 * 365));
    if (child.previousFamily) child.familyFrom = changedOn;
  }
  if (random.chance(DEMOGRAPHIC_RATES.deceased) && asOfDay - birthDay > 30) {
    child.deathDay = asOfDay - random.int(1, Math.min(asOfDay - birthDay - 1, 3 * 365));
  }
  if (random.chance(DEMOGRAPHIC_RATES.superseded) && !like.unregistered) child.supersededNhsNumber = context.nhsNumbers.next();
  if (random.chance(0.6)) child.phone = `07700 900${String(random.int(0, 999)).padStart(3, '0')}`;
  return child;
}

/**
 * A child born in the same birth as `first`: the same family name, date of birth, home and address
 * history and GP, a given name of their own and a sex drawn afresh; a national record of their own.
 */
export function twinOf(context: PersonContext, first: Child, index: number): Child {
  const { random } = context;
  const pool = NAME_POOLS[first.background]!;
  const gender: Gender = random.chance(0.5) ? 'female' : 'male';
  let given = givenNames(random, pool, gender);
  for (let tries = 0; given[0] === first.given[0] && tries < 10; tries++) given = givenNames(random, pool, gender);
  const twin: Child = {
    ...first,
    index,
    nhsNumber: first.nhsNumber === null ? null : context.nhsNumbers.next(),
    given,
    gender,
    previousAddresses: first.previousAddresses.map((a) => ({ ...a })),
    address: { ...first.address },
    restricted: first.restricted,
  };
  delete twin.supersededNhsNumber;
  delete twin.deathDay;
  return twin;
}
