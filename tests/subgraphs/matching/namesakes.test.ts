// A child not in PDS is never linked automatically to a registered namesake: generated namesakes (the
// same names, date of birth and sex as a registered child, with no postcode, another postcode, one in the
// same district, a day/month-swapped date, names in another case) against the real PDS sandbox holding
// generated registered children with address histories. The registered children's own records, with
// their current or an earlier postcode, still match, so the property cannot hold by refusing everyone.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdsClient } from '../../../subgraphs/matching/pds/client.ts';
import { swapDayAndMonth } from '../../../lib/dates.ts';
import { Matcher } from '../../../subgraphs/matching/matcher.ts';
import { syntheticNhsNumber } from '../../helpers/nhs.ts';
import { fhirPatient, ndjsonFile, startPds, testApplication, type TestPds } from '../../helpers/pds.ts';

const GIVEN = ['Olivia', 'Amelia', 'Isla', 'Ava', 'Mia', 'Aisha', 'Zainab', 'Oliver', 'George', 'Noah', 'Muhammad', 'Leo', 'Jack', 'Harry', 'Oscar', 'Ewa'];
const FAMILY = ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Khan', 'Patel', 'Nowak', 'Okafor', 'Murphy', "O'Brien", 'Kowalski', 'Ahmed', 'Evans'];
const AREAS = ['DL', 'TS', 'LS', 'M', 'B', 'SO', 'PO', 'NE'];

interface Registered {
  nhsNumber: string;
  given: string;
  family: string;
  birthDate: string;
  gender: 'male' | 'female';
  postcode: string;
  previous: string[];
}

const postcodeOf = (area: string, district: number, sector: number, unit: string) => `${area}${district} ${sector}${unit}`;

/** Registered children with distinct names and dates, each with a current postcode and zero to two earlier ones. */
const registered: Registered[] = fc.sample(
  fc.record({
    birth: fc.integer({ min: 0, max: 5000 }),
    gender: fc.constantFrom<'male' | 'female'>('male', 'female'),
    postcodes: fc.array(fc.tuple(fc.constantFrom(...AREAS), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 9 }), fc.constantFrom('AB', 'XY', 'QT', 'NP')), { minLength: 1, maxLength: 3 }),
  }),
  { numRuns: 60, seed: 2026 },
).map((r, i) => {
  const postcodes = [...new Set(r.postcodes.map(([a, d, s, u]) => postcodeOf(a, d, s, u)))];
  return {
    nhsNumber: syntheticNhsNumber(2000 + i * 20),
    given: GIVEN[i % GIVEN.length]!,
    family: FAMILY[Math.floor(i / GIVEN.length) % FAMILY.length]!,
    birthDate: new Date(Date.UTC(2010, 0, 1) + r.birth * 86_400_000).toISOString().slice(0, 10),
    gender: r.gender,
    postcode: postcodes[0]!,
    previous: postcodes.slice(1),
  };
});

let pds: TestPds;
let matcher: Matcher;

beforeAll(async () => {
  const app = await testApplication('application-restricted');
  pds = await startPds(
    ndjsonFile(
      registered.map((r) =>
        fhirPatient(r.nhsNumber, [r.given], r.family, r.birthDate, r.gender, {
          address: [
            { use: 'home', line: ['1 Street'], postalCode: r.postcode, period: { start: '2022-01-01' } },
            ...r.previous.map((p, i) => ({ use: 'old', line: [`${i + 2} Road`], postalCode: p, period: { start: '2015-01-01', end: '2021-12-31' } })),
          ],
        }),
      ),
    ),
    { applications: [app.registered] },
  );
  matcher = new Matcher(new PdsClient({ baseUrl: pds.fhirUrl, credentials: { apiKey: app.apiKey, keyId: app.kid, privateKey: app.privateKey }, rateLimit: 5000 }));
}, 60_000);
afterAll(() => pds?.close());

const child = fc.integer({ min: 0, max: registered.length - 1 }).map((i) => registered[i]!);
const recase = fc.constantFrom((s: string) => s, (s: string) => s.toUpperCase(), (s: string) => s.toLowerCase());

describe('MATCH and namesakes', () => {
  it('never links a child not in PDS to a registered namesake automatically, whatever else the record has or lacks', async () => {
    const shape = fc.record({
      postcode: fc.oneof(
        fc.constant({ kind: 'none' as const }),
        fc.tuple(fc.constantFrom(...AREAS), fc.integer({ min: 21, max: 99 }), fc.integer({ min: 1, max: 9 })).map(([a, d, s]) => ({ kind: 'elsewhere' as const, postcode: postcodeOf(a, d, s, 'ZZ') })),
        fc.integer({ min: 1, max: 9 }).map((sector) => ({ kind: 'same district' as const, sector })),
      ),
      swapped: fc.boolean(),
      gender: fc.constantFrom('same', 'unknown', 'missing'),
      given: recase,
      family: recase,
    });
    await fc.assert(
      fc.asyncProperty(child, shape, async (r, s) => {
        const dateOfBirth = s.swapped ? (swapDayAndMonth(r.birthDate) ?? r.birthDate) : r.birthDate;
        const postcode =
          s.postcode.kind === 'none' ? undefined : s.postcode.kind === 'elsewhere' ? s.postcode.postcode : `${r.postcode.split(' ')[0]} ${s.postcode.sector}ZZ`;
        const result = await matcher.match({
          givenName: s.given(r.given),
          familyName: s.family(r.family),
          dateOfBirth,
          ...(s.gender === 'same' ? { gender: r.gender } : s.gender === 'unknown' ? { gender: 'unknown' as const } : {}),
          ...(postcode ? { postcode } : {}),
        });
        expect(result.status).not.toBe('MATCH');
        expect(result.status).not.toBe('ERROR');
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  it('still links a registered child’s own record on its current postcode or an earlier one', async () => {
    await fc.assert(
      fc.asyncProperty(child, fc.nat(2), recase, async (r, which, given) => {
        const postcodes = [r.postcode, ...r.previous];
        const postcode = postcodes[which % postcodes.length]!;
        const result = await matcher.match({ givenName: given(r.given), familyName: r.family, dateOfBirth: r.birthDate, gender: r.gender, postcode });
        expect(result).toMatchObject({ status: 'MATCH', nhsNumber: r.nhsNumber });
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});
