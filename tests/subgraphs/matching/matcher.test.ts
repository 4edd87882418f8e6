// MATCH's search sequence against the real PDS sandbox, application-restricted as DfE's access is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticNhsNumber } from '../../helpers/nhs.ts';
import { PdsClient } from '../../../lib/pds/client.ts';
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

  it('matches a familiar form of the first name through the postcode-area wildcard', async () => {
    const result = await matcher.match({ givenName: 'Alex', familyName: 'Okafor', dateOfBirth: '2012-11-20', gender: 'male', postcode: 'TS1 3XY' });
    expect(result).toMatchObject({ status: 'MATCH', nhsNumber: ALEXANDER });
  });

  it('finds a day-month swapped date of birth', async () => {
    const result = await matcher.match({ givenName: 'Olivia', familyName: "O'Brien", dateOfBirth: '2014-09-03', gender: 'female' });
    expect(result.nhsNumber).toBe(OLIVIA);
    expect(result.candidates[0]?.fields.dateOfBirth).toBe('day-month-swapped');
  });

  it('never auto-matches a twin recorded under the other twin’s first name', async () => {
    const result = await matcher.match({ givenName: 'Faith', familyName: 'Nowak', dateOfBirth: '2016-06-01', gender: 'female', postcode: 'SO14 2AB' });
    expect(result.status).not.toBe('MATCH');
    expect(['MANY_MATCH', 'NO_MATCH', 'POTENTIAL_MATCH', 'LOW_CONFIDENCE']).toContain(result.status);
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
