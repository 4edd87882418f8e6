// One child as the nation knows them: what PDS holds, before any LA writes it down.
import type { Faker } from '@faker-js/faker';
import { en_GB } from '@faker-js/faker';
import { nhsCheckDigit } from '../nhs-number.ts';
import { yearsBetween } from './dates.ts';
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
  nhsNumber: string;
  /** An earlier NHS number that this one replaced, if any. */
  supersededNhsNumber?: string;
  given: string[];
  family: string;
  /** A family name the child was known by before, if any. */
  previousFamily?: string;
  background: string;
  gender: Gender;
  birthDay: number;
  address: Address;
  previousAddresses: Address[];
  restricted: boolean;
  deathDay?: number;
  gpOdsCode: string;
  phone?: string;
}

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

export function generateChild(context: PersonContext, index: number): Child {
  const { random, asOfDay } = context;
  const background = random.weighted(POOL_WEIGHTS);
  const pool = NAME_POOLS[background]!;
  const gender: Gender = random.chance(0.004) ? random.pick(['other', 'unknown'] as const) : random.chance(0.5) ? 'female' : 'male';
  // Ages 0 to 18: born up to 18 years (less a day) before the as-of date.
  const birthDay = asOfDay - random.int(0, 18 * 365 + 3);
  const residence = random.weighted(RESIDENCE);
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

  const child: Child = {
    index,
    nhsNumber: context.nhsNumbers.next(),
    given: givenNames(random, pool, gender),
    family: familyName(random, pool),
    background,
    gender,
    birthDay,
    address,
    previousAddresses,
    restricted: random.chance(DEMOGRAPHIC_RATES.restricted),
    gpOdsCode: `${random.pick(['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'L', 'M', 'N', 'P'])}${random.int(81000, 89999)}`,
  };
  if (random.chance(DEMOGRAPHIC_RATES.previousFamilyName)) child.previousFamily = familyName(random, pool);
  if (random.chance(DEMOGRAPHIC_RATES.deceased) && asOfDay - birthDay > 30) {
    child.deathDay = asOfDay - random.int(1, Math.min(asOfDay - birthDay - 1, 3 * 365));
  }
  if (random.chance(DEMOGRAPHIC_RATES.superseded)) child.supersededNhsNumber = context.nhsNumbers.next();
  if (random.chance(0.6)) child.phone = `07700 900${String(random.int(0, 999)).padStart(3, '0')}`;
  return child;
}
