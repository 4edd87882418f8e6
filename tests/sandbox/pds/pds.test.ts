// The PDS sandbox replayed against NHS England's published behaviour: the reference sandbox's own
// patients, its error stubs, and search semantics from the OpenAPI specification.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticNhsNumber } from '../../helpers/nhs.ts';
import { fhirPatient, ndjsonFile, referenceJson, startPds, type TestPds } from '../../helpers/pds.ts';

const nhs = syntheticNhsNumber;

const ADAM = nhs(100);
const OLD_NUMBER = nhs(200);
const NEW_NUMBER = nhs(300);
const TWIN_A = nhs(400);
const TWIN_B = nhs(500);
const INVALIDATED = nhs(600);

const person = fhirPatient;

const fixtures = [
  referenceJson('sandbox/mocks/Patient.json'),
  referenceJson('sandbox/mocks/Patient-Jayne-Smyth.json'),
  referenceJson('sandbox/mocks/Sensitive_Patient.json'),
  referenceJson('sandbox/mocks/Minimal_Patient.json'),
  person(ADAM, ['Adam', 'Peter'], 'Thomas', '2015-03-04', 'male', {
    name: [
      { use: 'usual', given: ['Adam', 'Peter'], family: 'Thomas' },
      { use: 'old', given: ['Adam'], family: 'Jones', period: { end: '2019-01-01' } },
    ],
    address: [
      { use: 'home', line: ['1 High Street'], postalCode: 'SO14 2AB' },
      { use: 'old', line: ['2 Low Road'], postalCode: 'DL1 3XY', period: { end: '2019-01-01' } },
    ],
    generalPractitioner: [{ type: 'Organization', identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'B82001' } }],
  }),
  person(NEW_NUMBER, ['Chloe'], 'Cuff', '2012-07-01', 'female'),
  {
    resourceType: 'Patient',
    id: OLD_NUMBER,
    active: false,
    link: [{ type: 'replaced-by', other: { reference: `Patient/${NEW_NUMBER}`, identifier: { value: NEW_NUMBER } } }],
  },
  { resourceType: 'Patient', id: INVALIDATED, active: false },
  person(TWIN_A, ['Sam'], 'Brown', '2016-05-05', 'male'),
  person(TWIN_B, ['Sam'], 'Brown', '2016-05-05', 'male'),
];

let pds: TestPds;
beforeAll(async () => {
  pds = await startPds(ndjsonFile(fixtures));
});
afterAll(() => pds.close());

async function get(path: string, headers: Record<string, string> = { 'X-Request-ID': crypto.randomUUID() }) {
  const response = await fetch(`${pds.fhirUrl}${path}`, { headers });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> };
}

const search = (query: string) => get(`/Patient?${query}`);
const ids = (body: Record<string, any>) => (body.entry ?? []).map((e: { resource: { id: string } }) => e.resource.id);

/** The parts of an error that must be exactly those of NHS England's stub for the same code. */
function expectStub(body: Record<string, any>, stub: string) {
  const expected = referenceJson(`stubs/errorResponses/${stub}.json`) as { issue: Record<string, any>[] };
  const [issue] = body.issue;
  expect(body.resourceType).toBe('OperationOutcome');
  expect(issue.code).toBe(expected.issue[0]!.code);
  expect(issue.severity).toBe(expected.issue[0]!.severity);
  expect(issue.details.coding[0].code).toBe(expected.issue[0]!.details.coding[0].code);
  expect(issue.details.coding[0].system).toBe(expected.issue[0]!.details.coding[0].system);
  if (!String(expected.issue[0]!.details.coding[0].display).startsWith('#')) {
    expect(issue.details.coding[0].display).toBe(expected.issue[0]!.details.coding[0].display);
  }
}

describe('GET /Patient/{id}', () => {
  it("returns NHS England's sandbox patient as it is, with its version as ETag and the request ids echoed", async () => {
    const requestId = crypto.randomUUID();
    const response = await get('/Patient/9000000009', { 'X-Request-ID': requestId, 'X-Correlation-ID': 'corr-1' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual(referenceJson('sandbox/mocks/Patient.json'));
    expect(response.headers.get('etag')).toBe('W/"2"');
    expect(response.headers.get('x-request-id')).toBe(requestId);
    expect(response.headers.get('x-correlation-id')).toBe('corr-1');
    expect(response.headers.get('content-type')).toBe('application/fhir+json');
  });

  it('withholds address, telecom, contact and GP of a restricted patient', async () => {
    const { status, body } = await get('/Patient/9000000025');
    expect(status).toBe(200);
    expect(body.meta.security[0].code).toBe('R');
    for (const field of ['address', 'telecom', 'contact', 'generalPractitioner']) expect(body).not.toHaveProperty(field);
    expect(body.name[0].family).toBe('Smythe');
  });

  it('returns the superseding record for a superseded NHS number', async () => {
    const { status, body } = await get(`/Patient/${OLD_NUMBER}`);
    expect(status).toBe(200);
    expect(body.id).toBe(NEW_NUMBER);
  });

  it.each([
    ['9000000000', 400, 'INVALID_RESOURCE_ID'],
    ['12345', 400, 'INVALID_RESOURCE_ID'],
    ['9111231130', 404, 'RESOURCE_NOT_FOUND'],
    [INVALIDATED, 404, 'INVALIDATED_RESOURCE'],
  ])('answers %s with %i %s', async (id, status, code) => {
    const response = await get(`/Patient/${id}`);
    expect(response.status).toBe(status);
    expectStub(response.body, code);
  });

  it('requires a UUID X-Request-ID', async () => {
    const missing = await get('/Patient/9000000009', {});
    expect(missing.status).toBe(400);
    expectStub(missing.body, 'MISSING_VALUE');
    const invalid = await get('/Patient/9000000009', { 'X-Request-ID': 'not-a-uuid' });
    expect(invalid.status).toBe(400);
    expectStub(invalid.body, 'INVALID_VALUE');
    expect(invalid.body.issue[0].diagnostics).toContain('X-Request-ID');
  });
});

describe('GET /Patient (search)', () => {
  it('finds an exact match with score 1 in a searchset Bundle', async () => {
    const { status, body } = await search('family=Smith&given=Jane&gender=female&birthdate=eq2010-10-22');
    expect(status).toBe(200);
    expect(body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1 });
    expect(body.entry[0].search.score).toBe(1);
    expect(body.entry[0].fullUrl).toBe(`${pds.fhirUrl}/Patient/9000000009`);
    expect(body.entry[0].resource.id).toBe('9000000009');
  });

  it('matches case-insensitively, and answers a search that matches nobody with an empty Bundle', async () => {
    expect(ids((await search('family=SMITH&birthdate=2010-10-22')).body)).toEqual(['9000000009']);
    const none = await search('family=Nobody&birthdate=eq2010-10-22');
    expect(none.status).toBe(200);
    expect(none.body).toMatchObject({ total: 0 });
  });

  it('supports wildcards, scoring them below an exact match', async () => {
    const { body } = await search('family=Sm*&gender=female&birthdate=eq2010-10-22');
    // Jane Smith and Jayne Smyth; Janet Smythe is restricted but no postcode or GP was given.
    expect(ids(body).sort()).toEqual(['9000000009', '9000000017', '9000000025']);
    for (const entry of body.entry) expect(entry.search.score).toBeLessThan(1);
  });

  it('matches sound-alike and transposed names only in a fuzzy search', async () => {
    expect(ids((await search('family=Smyth&given=Jane&birthdate=eq2010-10-22')).body)).toEqual([]);
    const fuzzy = await search('family=Smyth&given=Jane&birthdate=eq2010-10-22&_fuzzy-match=true');
    expect(ids(fuzzy.body)).toEqual(expect.arrayContaining(['9000000009', '9000000017']));
    const exactFirst = fuzzy.body.entry[0];
    expect(exactFirst.resource.id).toBe('9000000017'); // Smyth matches Jayne Smyth's family name exactly
    const transposed = await search('family=Adam&given=Thomas&birthdate=eq2015-03-04&_fuzzy-match=true');
    expect(ids(transposed.body)).toEqual([ADAM]);
    expect(transposed.body.entry[0].search.score).toBeLessThan(1);
  });

  it('searches previous names and addresses only with history (always in fuzzy search)', async () => {
    expect(ids((await search('family=Jones&birthdate=eq2015-03-04')).body)).toEqual([]);
    expect(ids((await search('family=Jones&birthdate=eq2015-03-04&_history=true')).body)).toEqual([ADAM]);
    expect(ids((await search('family=Thomas&birthdate=eq2015-03-04&address-postalcode=DL13XY')).body)).toEqual([]);
    const historic = await search('family=Thomas&birthdate=eq2015-03-04&address-postalcode=DL1%203XY&_history=true');
    expect(ids(historic.body)).toEqual([ADAM]);
    // The current record is returned, not the historic data used to find it.
    expect(historic.body.entry[0].resource.address.map((a: { postalCode: string }) => a.postalCode)).toEqual(['SO14 2AB']);
    expect(historic.body.entry[0].resource.name.map((n: { family: string }) => n.family)).toEqual(['Thomas']);
  });

  it('ignores spaces in postcodes, and takes a birth-date range', async () => {
    expect(ids((await search('family=Thomas&birthdate=eq2015-03-04&address-postalcode=so142ab')).body)).toEqual([ADAM]);
    expect(ids((await search('family=Thomas&birthdate=ge2015-03-01&birthdate=le2015-03-10')).body)).toEqual([ADAM]);
    expect(ids((await search('family=Thomas&birthdate=ge2015-03-05')).body)).toEqual([]);
  });

  it('leaves restricted patients out of searches that include a postcode or GP', async () => {
    const withPostcode = await search('family=Smythe&birthdate=eq2010-10-22&address-postalcode=LS1*');
    expect(ids(withPostcode.body)).toEqual([]);
    const without = await search('family=Smythe&given=Janet&birthdate=eq2010-10-22');
    expect(ids(without.body)).toEqual(['9000000025']);
    for (const field of ['address', 'telecom', 'contact', 'generalPractitioner']) expect(without.body.entry[0].resource).not.toHaveProperty(field);
  });

  it('never returns superseded or invalidated records', async () => {
    expect(ids((await search('family=Cuff&birthdate=eq2012-07-01')).body)).toEqual([NEW_NUMBER]);
  });

  it('answers TOO_MANY_MATCHES (200, information) when more match than _max-results', async () => {
    const { status, body } = await search('family=Brown&given=Sam&birthdate=eq2016-05-05&_max-results=1');
    expect(status).toBe(200);
    expect(body).toEqual(referenceJson('stubs/searchResponses/TOO_MANY_MATCHES.json'));
    expect(ids((await search('family=Brown&given=Sam&birthdate=eq2016-05-05&_max-results=2')).body).sort()).toEqual([TWIN_A, TWIN_B].sort());
  });

  it('with _exact-match returns only score-1 matches', async () => {
    expect(ids((await search('family=Sm*&birthdate=eq2010-10-22&_exact-match=true')).body)).toEqual([]);
    expect(ids((await search('family=Smith&birthdate=eq2010-10-22&_exact-match=true')).body)).toEqual(['9000000009']);
  });

  it('matches on GP, phone and email exactly', async () => {
    expect(ids((await search('family=Thomas&birthdate=eq2015-03-04&general-practitioner=B82001')).body)).toEqual([ADAM]);
    expect(ids((await search('family=Thomas&birthdate=eq2015-03-04&general-practitioner=Y12345')).body)).toEqual([]);
    expect(ids((await search('family=Smith&birthdate=eq2010-10-22&email=jane.smith@example.com&phone=01632960587')).body)).toEqual(['9000000009']);
    expect(ids((await search('family=Smith&birthdate=eq2010-10-22&email=deb.trotter@example.com')).body)).toEqual([]);
  });

  it.each([
    ['', 400, 'UNSUPPORTED_SERVICE'],
    ['family=Smith', 400, 'INVALID_SEARCH_DATA'],
    ['birthdate=eq2010-10-22', 400, 'INVALID_SEARCH_DATA'],
    ['email=j.smith@example.com&phone=0163', 400, 'INVALID_SEARCH_DATA'],
    ['family=Smith&given=Jane&_fuzzy-match=true', 400, 'INVALID_SEARCH_DATA'],
    ['family=Smith&birthdate=eq2010-10-22&invalidParam=123', 400, 'ADDITIONAL_PROPERTIES'],
    ['family=S*&birthdate=eq2010-10-22', 400, 'INVALID_SEARCH_DATA'],
    ['family=Smi*&given=Jane&birthdate=eq2010-10-22&_fuzzy-match=true', 400, 'INVALID_SEARCH_DATA'],
    ['family=Smith&birthdate=2010-13-45', 400, 'INVALID_VALUE'],
    ['family=Smith&birthdate=22/10/2010', 400, 'INVALID_VALUE'],
    ['family=Smith&birthdate=eq2010-10-22&gender=woman', 400, 'INVALID_VALUE'],
    ['family=Smith&birthdate=eq2010-10-22&_max-results=51', 400, 'INVALID_VALUE'],
    ['family=Smith&birthdate=eq2010-10-22&_max-results=0', 400, 'INVALID_VALUE'],
    ['family=Smith&birthdate=eq2010-10-22&address-postcode=LS1&address-postalcode=LS1', 400, 'INVALID_SEARCH_DATA'],
    ['family=Smith&birthdate=eq2010-10-22&death-date=yesterday', 400, 'INVALID_VALUE'],
  ])('refuses %j with %i %s', async (query, status, code) => {
    const response = await search(query);
    expect(response.status).toBe(status);
    expectStub(response.body, code);
  });
});

describe('rate limit', () => {
  it('answers 429 TOO_MANY_REQUESTS with Retry-After past 5 requests a second', async () => {
    const limited = await startPds(ndjsonFile(fixtures), { rateLimit: 5 });
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 7; i++) {
        const response = await fetch(`${limited.fhirUrl}/Patient/9000000009`, { headers: { 'X-Request-ID': crypto.randomUUID() } });
        statuses.push(response.status);
        if (response.status === 429) {
          retryAfter = response.headers.get('retry-after');
          const body = (await response.json()) as Record<string, any>;
          expect(body.issue[0].details.coding[0].code).toBe('TOO_MANY_REQUESTS');
        } else await response.arrayBuffer();
      }
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      expect(statuses.slice(5)).toContain(429);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const after = await fetch(`${limited.fhirUrl}/Patient/9000000009`, { headers: { 'X-Request-ID': crypto.randomUUID() } });
      expect(after.status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe('generated bad requests', () => {
  it('answers each search and read a FHIR resource (errors as OperationOutcome with a Spine code), never a 5xx or a stack trace', async () => {
    const { fuzz, judgeFhir, pdsCases } = await import('../../../bench/fuzz.ts');
    const report = await fuzz('PDS sandbox', pds.fhirUrl, { 'x-request-id': crypto.randomUUID() }, pdsCases({ seed: 5, count: 300, nhsNumbers: fixtures.map((f) => (f as { id: string }).id) }), judgeFhir);
    expect(report.problems).toEqual([]);
    expect(report.tried).toBe(300);
    // Reads that found someone, and refusals of several kinds.
    expect(Object.keys(report.codes)).toEqual(expect.arrayContaining(['Patient', 'INVALID_VALUE', 'INVALID_RESOURCE_ID', 'UNSUPPORTED_SERVICE']));
  }, 60_000);
});

describe('storms (the sandbox’s own control, for resilience tests)', () => {
  const storm = (init: RequestInit) => fetch(`${pds.baseUrl}/_sandbox/fault`, init);

  it.each([
    [429, 'TOO_MANY_REQUESTS', 'throttled'],
    [500, 'SERVER_ERROR', 'exception'],
    [503, 'SERVICE_UNAVAILABLE', 'timeout'],
  ])('answers every FHIR request %i (%s) with Retry-After while a storm lasts, and normally once it is over', async (status, code, issueCode) => {
    expect((await storm({ method: 'PUT', body: JSON.stringify({ status, seconds: 30 }) })).status).toBe(200);
    const during = await get('/Patient/9000000009');
    expect(during.status).toBe(status);
    expect(during.headers.get('retry-after')).toBe('1');
    expect(during.body.issue[0]).toMatchObject({ code: issueCode, details: { coding: [{ code }] } });
    expect((await fetch(`${pds.baseUrl}/health`)).status).toBe(200);
    await storm({ method: 'DELETE' });
    expect((await get('/Patient/9000000009')).status).toBe(200);
  });

  it('refuses a storm it cannot make', async () => {
    for (const body of ['{"status": 502, "seconds": 5}', '{"status": "toString", "seconds": 5}', '{"status": 429, "seconds": 0}', 'not json']) {
      expect((await storm({ method: 'PUT', body })).status).toBe(400);
    }
    expect((await get('/Patient/9000000009')).status).toBe(200);
  });
});
