// The PDS client against the real PDS sandbox server, with faults injected by a real proxy.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PdsClient, type PdsClientOptions } from '../../../../subgraphs/matching/pds/client.ts';
import { PdsAuthenticationError, PdsRequestError, PdsUnavailableError } from '../../../../subgraphs/matching/pds/errors.ts';
import { startFaultProxy, type FaultProxy } from '../../../helpers/fault-proxy.ts';
import { ndjsonFile, referenceJson, startPds, testApplication, type TestApplication, type TestPds } from '../../../helpers/pds.ts';

const FHIR = '/personal-demographics/FHIR/R4';
let app: TestApplication;
let pds: TestPds;
let proxy: FaultProxy;

beforeAll(async () => {
  app = await testApplication('healthcare-worker');
  pds = await startPds(
    ndjsonFile([referenceJson('sandbox/mocks/Patient.json'), referenceJson('sandbox/mocks/Patient-Jayne-Smyth.json'), referenceJson('sandbox/mocks/Sensitive_Patient.json')]),
    { applications: [app.registered], rateLimit: 1000 },
  );
  proxy = await startFaultProxy(pds.baseUrl);
});
afterAll(async () => {
  await proxy.close();
  await pds.close();
});
afterEach(() => {
  proxy.seen.length = 0;
});

const credentials = () => ({ apiKey: app.apiKey, keyId: app.kid, privateKey: app.privateKey });

function client(options: Partial<PdsClientOptions> = {}): PdsClient {
  // The token's audience is the PDS sandbox's own token URL, as it would be with NHS England.
  return new PdsClient({ baseUrl: `${proxy.url}${FHIR}`, tokenUrl: pds.tokenUrl, credentials: credentials(), backoffMs: 20, ...options });
}

describe('PdsClient', () => {
  it('fetches a token once, reuses it, and reads and searches patients', async () => {
    const pdsClient = client();
    const jane = await pdsClient.getPatient('9000000009');
    expect(jane).toMatchObject({ nhsNumber: '9000000009', givenNames: ['Jane'], familyName: 'Smith', birthDate: '2010-10-22', restricted: false });
    expect(jane?.address?.postcode).toBe('LS1 6AE');
    const result = await pdsClient.searchPatients({ family: 'Smith', given: ['Jane'], birthdate: ['eq2010-10-22'] });
    expect(result).toMatchObject({ kind: 'matches', matches: [{ score: 1, patient: { nhsNumber: '9000000009' } }] });
    expect(await pdsClient.searchPatients({ family: 'Sm*', birthdate: ['eq2010-10-22'], maxResults: 1 })).toEqual({ kind: 'too-many-matches' });
    expect(pdsClient.stats.tokens).toBe(1);
  });

  it('reads a restricted patient without location, and an unknown one as undefined', async () => {
    const pdsClient = client();
    expect(await pdsClient.getPatient('9000000025')).toMatchObject({ restricted: true, address: null, gpOdsCode: null });
    expect(await pdsClient.getPatient('9111231130')).toBeUndefined();
  });

  it('sends a UUID X-Request-ID, the same on each retry, and the caller correlation id', async () => {
    const requestIds: string[] = [];
    const correlationIds: (string | null)[] = [];
    const spy: typeof fetch = async (input, init) => {
      const headers = new Headers(init?.headers);
      if (String(input).includes(FHIR)) {
        requestIds.push(headers.get('x-request-id')!);
        correlationIds.push(headers.get('x-correlation-id'));
      }
      return fetch(input, init);
    };
    proxy.next({ status: 503, body: {} });
    await client({ fetch: spy }).getPatient('9000000009', { correlationId: 'case-42' });
    expect(requestIds).toHaveLength(2);
    expect(requestIds[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(requestIds[1]).toBe(requestIds[0]);
    expect(correlationIds).toEqual(['case-42', 'case-42']);
  });

  it('retries 429 (after Retry-After), 5xx and a hung attempt, then succeeds', async () => {
    const pdsClient = client({ attemptTimeoutMs: 300 });
    proxy.next({ status: 429, headers: { 'retry-after': '1' } }, { status: 500 }, 'hang');
    const started = Date.now();
    const jane = await pdsClient.getPatient('9000000009');
    expect(jane?.nhsNumber).toBe('9000000009');
    expect(pdsClient.stats.retries).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000); // it waited as Retry-After asked
  });

  it('never retries an input error, and reports it typed', async () => {
    const pdsClient = client();
    const error = await pdsClient.searchPatients({ family: 'S*', birthdate: ['eq2010-10-22'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PdsRequestError);
    expect(error).toMatchObject({ status: 400, spineCode: 'INVALID_SEARCH_DATA' });
    expect(pdsClient.stats.retries).toBe(0);
    expect(proxy.seen.filter((p) => p.startsWith(FHIR))).toHaveLength(1);
  });

  it('gives up after its retries with PdsUnavailableError', async () => {
    const pdsClient = client({ maxRetries: 2 });
    proxy.next({ status: 502 }, { status: 503 }, { status: 504 });
    const error = await pdsClient.getPatient('9000000009').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PdsUnavailableError);
    expect((error as PdsUnavailableError).attempts).toBe(3);
    expect(proxy.seen.filter((p) => p.startsWith(FHIR))).toHaveLength(3);
  });

  it('never waits past its deadline', async () => {
    const pdsClient = client({ deadlineMs: 700, attemptTimeoutMs: 5000 });
    proxy.next('hang');
    const started = Date.now();
    const error = await pdsClient.getPatient('9000000009').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PdsUnavailableError);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('keeps under the rate limit itself, so PDS never answers 429', async () => {
    const strict = await startPds(ndjsonFile([referenceJson('sandbox/mocks/Patient.json')]), { applications: [app.registered], rateLimit: 5 });
    try {
      const statuses: number[] = [];
      const spy: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        if (String(input).includes(FHIR)) statuses.push(response.status);
        return response;
      };
      const limited = new PdsClient({ baseUrl: strict.fhirUrl, credentials: credentials(), rateLimit: 5, fetch: spy });
      await Promise.all(Array.from({ length: 12 }, () => limited.getPatient('9000000009')));
      expect(statuses).toEqual(Array(12).fill(200));
      expect(limited.stats.retries).toBe(0);
    } finally {
      await strict.close();
    }
  });

  it('reports refused credentials as PdsAuthenticationError', async () => {
    const pdsClient = new PdsClient({ baseUrl: `${pds.fhirUrl}`, credentials: { ...credentials(), keyId: 'no-such-key' } });
    const error = await pdsClient.getPatient('9000000009').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PdsAuthenticationError);
    expect((error as PdsAuthenticationError).status).toBe(401);
  });
});
