// MATCH's search sequence against the real PDS sandbox, application-restricted as DfE's access is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticNhsNumber } from '../../helpers/nhs.ts';
import { PdsClient } from '../../../subgraphs/matching/pds/client.ts';
import { Matcher } from '../../../subgraphs/matching/matcher.ts';
import { fhirPatient, ndjsonFile, startPds, testApplication, type TestPds } from '../../helpers/pds.ts';

const nhs = syntheticNhsNumber;

const patient = (id: string, given: string, family: string, birthDate: string, gender: string, postcode: string) =>
  fhirPatient(id, [given], family, birthDate, gender, { address: [{ use: 'home', line: ['1 Street'], postalCode: postcode }] });

const OLIVIA = nhs(10);
const TWIN_GRACE = nhs(20);
const TWIN_HOPE = nhs(30);
const ALEXANDER = nhs(40);
const DANIEL = nhs(50);
const TOMASZ = nhs(60);
const TOMASZ_TWIN = nhs(70);
const JACK = nhs(80);
const AMARA = nhs(90);
const BABY = nhs(100);
const THOMAS = nhs(110);
const ISLA = nhs(120);
const NOOR = nhs(130);
const MALACHI = nhs(140);

let pds: TestPds;
let matcher: Matcher;
let client: PdsClient;

beforeAll(async () => {
  const app = await testApplication('application-restricted');
  pds = await startPds(
    ndjsonFile([
      patient(OLIVIA, 'Olivia', "O'Brien", '2014-03-09', 'female', 'DL1 4AB'),
      patient(TWIN_GRACE, 'Grace', 'Nowak', '2016-06-01', 'female', 'SO14 2AB'),
      patient(TWIN_HOPE, 'Hope', 'Nowak', '2016-06-01', 'female', 'SO14 2AB'),
      patient(ALEXANDER, 'Alexander', 'Okafor', '2012-11-20', 'male', 'TS1 3XY'),
      patient(DANIEL, 'Daniel', 'Patel', '2011-04-07', 'male', 'PO1 2XX'),
      patient(TOMASZ, 'Tomasz', 'Kowalski', '2013-05-05', 'male', 'M14 5AA'),
      patient(TOMASZ_TWIN, 'Tomasz', 'Kowalski', '2013-05-05', 'male', 'B10 9ZZ'),
      // Jack Thomas Reid, known by his middle name at one LA; Amara Eze, once Amara Obi; a baby registered as Ruby Hale.
      fhirPatient(JACK, ['Jack', 'Thomas'], 'Reid', '2015-02-14', 'male', { address: [{ use: 'home', line: ['2 Street'], postalCode: 'NE1 4ST' }] }),
      fhirPatient(AMARA, ['Amara'], 'Eze', '2012-08-30', 'female', {
        name: [
          { use: 'usual', given: ['Amara'], family: 'Eze', period: { start: '2019-01-01' } },
          { use: 'old', given: ['Amara'], family: 'Obi', period: { start: '2012-08-30', end: '2018-12-31' } },
        ],
        address: [{ use: 'home', line: ['3 Street'], postalCode: 'LS6 2AB' }],
      }),
      fhirPatient(BABY, ['Ruby'], 'Hale', '2026-05-01', 'female', { address: [{ use: 'home', line: ['4 Street'], postalCode: 'M14 6BB' }] }),
      fhirPatient(THOMAS, ['Thomas'], 'Wright', '2013-10-10', 'male', { address: [{ use: 'home', line: ['5 Street'], postalCode: 'B15 2TT' }] }),
      // Isla lived at LS9 9ZZ before; a search result shows only where she lives now.
      fhirPatient(ISLA, ['Isla'], 'Mcdonald', '2015-07-21', 'female', {
        address: [
          { use: 'home', line: ['6 Street'], postalCode: 'LS1 1AA' },
          { use: 'old', line: ['7 Street'], postalCode: 'LS9 9ZZ', period: { start: '2015-07-21', end: '2020-01-01' } },
        ],
      }),
      patient(NOOR, 'Noor', 'Haddad', '2014-01-11', 'female', 'BD1 1AA'),
      patient(MALACHI, 'Malachi', 'Brennan', '2016-09-12', 'male', 'HU1 2AA'),
    ]),
    { applications: [app.registered] },
  );
  client = new PdsClient({ baseUrl: pds.fhirUrl, credentials: { apiKey: app.apiKey, keyId: app.kid, privateKey: app.privateKey }, rateLimit: 1000 });
  matcher = new Matcher(client);
});
afterAll(() => pds.close());

describe('matchChild', () => {
  it('finds an exact match in one PDS call', async () => {
    const result = await matcher.match({ givenName: 'Olivia', familyName: "O'Brien", dateOfBirth: '2014-03-09', gender: 'female', postcode: 'DL1 4AB' });
    expect(result).toMatchObject({ status: 'MATCH', nhsNumber: OLIVIA, strategy: 'exact', pdsCalls: 1 });
    expect(result.score).toBeGreaterThanOrEqual(0.95);
  });

  it('matches through a mistyped family name that changes its sound', async () => {
    const result = await matcher.match({ givenName: 'Daniel', familyName: 'Pateli', dateOfBirth: '2011-04-07', gender: 'male', postcode: 'PO1 2XX' });
    expect(result).toMatchObject({ status: 'MATCH', nhsNumber: DANIEL });
    expect(result.strategy).not.toBe('exact');
  });

  it('matches a familiar form of the first name (Alex for Alexander)', async () => {
    const result = await matcher.match({ givenName: 'Alex', familyName: 'Okafor', dateOfBirth: '2012-11-20', gender: 'male', postcode: 'TS1 3XY' });
    expect(result).toMatchObject({ status: 'MATCH', nhsNumber: ALEXANDER });
  });

  it('finds a day-month swapped date of birth', async () => {
    const result = await matcher.match({ givenName: 'Olivia', familyName: "O'Brien", dateOfBirth: '2014-09-03', gender: 'female' });
    expect(result.nhsNumber).toBe(OLIVIA);
    expect(result.candidates[0]?.fields.dateOfBirth).toBe('day-month-swapped');
    // Six months apart: the date-of-birth range search already held the swapped date, so it is not asked again.
    expect(result).toMatchObject({ status: 'POTENTIAL_MATCH', strategy: 'date_of_birth_range', pdsCalls: 2 });
    // Ten months apart (11 January, 1 November), no sex recorded (so no household search): only the
    // swapped-date search finds her, and never as MATCH.
    const far = await matcher.match({ givenName: 'Noor', familyName: 'Haddad', dateOfBirth: '2014-11-01', postcode: 'BD1 1AA' });
    expect(far).toMatchObject({ status: 'POTENTIAL_MATCH', nhsNumber: NOOR, strategy: 'day_month_swapped' });
  });

  it('stops at a candidate at the record’s postcode whose names agree and only the date of birth does not: a person reviews it', async () => {
    // Exact, then the household (the girls at DL1 4AB born within 400 days, surname Ob*) finds her.
    const result = await matcher.match({ givenName: 'Olivia', familyName: "O'Brien", dateOfBirth: '2014-03-19', gender: 'female', postcode: 'DL1 4AB' });
    expect(result).toMatchObject({ status: 'POTENTIAL_MATCH', nhsNumber: OLIVIA, strategy: 'household', pdsCalls: 2 });
    expect(result.candidates[0]?.fields).toMatchObject({ dateOfBirth: 'disagree', postcode: 'exact' });
    // With no sex recorded there is no household search: the fuzzy search six months either side finds her.
    const unsexed = await matcher.match({ givenName: 'Olivia', familyName: "O'Brien", dateOfBirth: '2014-03-19', postcode: 'DL1 4AB' });
    expect(unsexed).toMatchObject({ status: 'POTENTIAL_MATCH', nhsNumber: OLIVIA, strategy: 'date_of_birth_range', pdsCalls: 2 });
  });

  it('asks PDS once whether it holds the record’s postcode for a candidate found without it, and stops on the answer', async () => {
    // Islah for Isla, at the postcode she lived at before: the fuzzy search finds her at her new address; PDS
    // confirms it held the old one (a non-fuzzy search on her own names and that postcode, with history).
    // No sex recorded, so there is no household search to find her there first.
    const before = await matcher.match({ givenName: 'Islah', familyName: 'Mcdonald', dateOfBirth: '2015-07-21', postcode: 'LS9 9ZZ' });
    expect(before).toMatchObject({ status: 'MATCH', nhsNumber: ISLA, strategy: 'postcode_history', pdsCalls: 3 });
    expect(before.candidates[0]?.fields).toMatchObject({ givenName: 'one-edit', postcode: 'historic' });
    // At a postcode PDS never held for her: a person reviews her, and no further search is made.
    const elsewhere = await matcher.match({ givenName: 'Islah', familyName: 'Mcdonald', dateOfBirth: '2015-07-21', postcode: 'E1 6AN' });
    expect(elsewhere).toMatchObject({ status: 'POTENTIAL_MATCH', nhsNumber: ISLA, pdsCalls: 3 });
    expect(elsewhere.candidates[0]?.fields.postcode).toBe('disagree');
  });

  it('never auto-matches a twin recorded under the other twin’s first name', async () => {
    const result = await matcher.match({ givenName: 'Faith', familyName: 'Nowak', dateOfBirth: '2016-06-01', gender: 'female', postcode: 'SO14 2AB' });
    expect(result.status).not.toBe('MATCH');
    expect(['MANY_MATCH', 'NO_MATCH', 'POTENTIAL_MATCH', 'LOW_CONFIDENCE']).toContain(result.status);
  });

  it('searches with the first of several given names and compares them all', async () => {
    const result = await matcher.match({ givenName: 'Jack Thomas', familyName: 'Reid', dateOfBirth: '2015-02-14', gender: 'male', postcode: 'NE1 4ST' });
    expect(result).toMatchObject({ status: 'MATCH', nhsNumber: JACK, pdsCalls: 1 });
    // Known by his middle name: found through the postcode, the middle name agreeing.
    const byMiddle = await matcher.match({ givenName: 'Thomas', familyName: 'Reid', dateOfBirth: '2015-02-14', gender: 'male', postcode: 'NE1 4ST' });
    expect(byMiddle).toMatchObject({ status: 'MATCH', nhsNumber: JACK });
  });

  it('matches a surname the child was known by before, from PDS’s name history', async () => {
    const result = await matcher.match({ givenName: 'Amara', familyName: 'Obi', dateOfBirth: '2012-08-30', gender: 'female', postcode: 'LS6 2AB' });
    expect(result).toMatchObject({ status: 'MATCH', nhsNumber: AMARA });
    expect(result.candidates[0]?.fields.familyName).toBe('previous-name');
  });

  it('treats a placeholder given name as none, and never filters PDS by an unknown gender', async () => {
    const baby = await matcher.match({ givenName: 'Baby', familyName: 'Hale', dateOfBirth: '2026-05-01', gender: 'unknown', postcode: 'M14 6BB' });
    expect(baby).toMatchObject({ status: 'MATCH', nhsNumber: BABY, strategy: 'no_given_name' });
    expect(baby.candidates[0]?.fields.givenName).toBe('none');
    const unknown = await matcher.match({ givenName: 'Olivia', familyName: "O'Brien", dateOfBirth: '2014-03-09', gender: 'unknown', postcode: 'DL1 4AB' });
    expect(unknown).toMatchObject({ status: 'MATCH', nhsNumber: OLIVIA, pdsCalls: 1 });
  });

  it('finds a child recorded under a familiar form of the registered name', async () => {
    const result = await matcher.match({ givenName: 'Tommy', familyName: 'Wright', dateOfBirth: '2013-10-10', gender: 'male', postcode: 'B15 2TT' });
    // A record whose given name is a familiar form is searched under the formal name next, before any fuzzy search.
    expect(result).toMatchObject({ status: 'MATCH', nhsNumber: THOMAS, strategy: 'familiar_form', pdsCalls: 2 });
    expect(result.candidates[0]?.fields.givenName).toBe('familiar-form');
  });

  it('stops at a candidate whose names and date of birth agree but whose postcode PDS never held: a person reviews it', async () => {
    const result = await matcher.match({ givenName: 'Olivia', familyName: "O'Brien", dateOfBirth: '2014-03-09', gender: 'female', postcode: 'E1 6AN' });
    // Exact, the household at E1 6AN, then the fuzzy search that finds her elsewhere: no more.
    expect(result).toMatchObject({ status: 'POTENTIAL_MATCH', nhsNumber: OLIVIA, pdsCalls: 3 });
    expect(result.candidates[0]?.fields.postcode).toBe('disagree');
  });

  it('finds the child at the record’s postcode under another first name, or with a surname mistyped out of its sound, in one search', async () => {
    // Exact, then the household: the boys at HU1 2AA born within 400 days, surname Br*.
    const otherName = await matcher.match({ givenName: 'Kai', familyName: 'Brennan', dateOfBirth: '2016-09-12', gender: 'male', postcode: 'HU1 2AA' });
    expect(otherName).toMatchObject({ status: 'POTENTIAL_MATCH', nhsNumber: MALACHI, strategy: 'household', pdsCalls: 2 });
    expect(otherName.candidates[0]?.fields).toMatchObject({ givenName: 'disagree', postcode: 'exact' });
    const typo = await matcher.match({ givenName: 'Malachi', familyName: 'Brejnan', dateOfBirth: '2016-09-12', gender: 'male', postcode: 'HU1 2AA' });
    expect(typo).toMatchObject({ status: 'MATCH', nhsNumber: MALACHI, strategy: 'household', pdsCalls: 2 });
    expect(typo.candidates[0]?.fields.familyName).toBe('one-edit');
    // A typo in the surname's first two letters escapes the household and changes its sound: exact,
    // household, fuzzy on the names, then the fuzzy search on the given name, date of birth, sex and postcode.
    const early = await matcher.match({ givenName: 'Malachi', familyName: 'Bsennan', dateOfBirth: '2016-09-12', gender: 'male', postcode: 'HU1 2AA' });
    expect(early).toMatchObject({ status: 'MATCH', nhsNumber: MALACHI, strategy: 'fuzzy_no_family_name', pdsCalls: 4 });
    // Twins at one postcode are too many for that search: the fuzzy searches without a given or family name follow.
    const twin = await matcher.match({ givenName: 'Faith', familyName: 'Nowak', dateOfBirth: '2016-06-01', gender: 'female', postcode: 'SO14 2AB' });
    expect(twin.status).not.toBe('MATCH');
    expect(twin.pdsCalls).toBe(5);
  });

  it('says MANY_MATCH when PDS cannot tell two children apart', async () => {
    const result = await matcher.match({ givenName: 'Tomasz', familyName: 'Kowalski', dateOfBirth: '2013-05-05', gender: 'male' });
    expect(result).toMatchObject({ status: 'MANY_MATCH', nhsNumber: null });
  });

  it('says NO_MATCH when nobody like the child is in PDS', async () => {
    const result = await matcher.match({ givenName: 'Zebedee', familyName: 'Quartermaine', dateOfBirth: '2010-01-01', gender: 'male', postcode: 'E1 6AN' });
    expect(result).toMatchObject({ status: 'NO_MATCH', nhsNumber: null, candidates: [] });
    expect(result.pdsCalls).toBeGreaterThan(1);
  });

  it('says ERROR, not a wrong answer, when PDS cannot be reached', async () => {
    const unreachable = new Matcher(new PdsClient({ baseUrl: 'http://127.0.0.1:1/personal-demographics/FHIR/R4', maxRetries: 1, backoffMs: 10, deadlineMs: 2000 }));
    const result = await unreachable.match({ givenName: 'Olivia', familyName: "O'Brien", dateOfBirth: '2014-03-09' });
    expect(result).toMatchObject({ status: 'ERROR', nhsNumber: null });
    expect(result.error).toMatch(/PDS/);
  });
});
