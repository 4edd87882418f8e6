// Application-restricted access: the signed-JWT token flow and what an access token allows.
import { generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientAssertion, ndjsonFile, referenceJson, startPds, testApplication, type TestApplication, type TestPds } from '../../helpers/pds.ts';

let pds: TestPds;
let restricted: TestApplication;
let healthcare: TestApplication;

beforeAll(async () => {
  restricted = await testApplication('application-restricted');
  healthcare = await testApplication('healthcare-worker');
  pds = await startPds(
    ndjsonFile([
      referenceJson('sandbox/mocks/Patient.json'),
      referenceJson('sandbox/mocks/Patient-Jayne-Smyth.json'),
    ]),
    { applications: [restricted.registered, healthcare.registered] },
  );
});
afterAll(() => pds.close());

async function requestToken(assertion: string | undefined, form: Record<string, string> = {}) {
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    ...(assertion ? { client_assertion: assertion } : {}),
    ...form,
  });
  const response = await fetch(pds.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

const fhir = (path: string, token?: string) =>
  fetch(`${pds.fhirUrl}${path}`, { headers: { 'X-Request-ID': crypto.randomUUID(), ...(token ? { Authorization: `Bearer ${token}` } : {}) } });

describe('POST /oauth2/token', () => {
  it('exchanges a signed client assertion for a bearer token that opens the API', async () => {
    const { status, body } = await requestToken(await clientAssertion(healthcare, pds.tokenUrl));
    expect(status).toBe(200);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: '599', issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' });
    expect((await fhir('/Patient/9000000009', body.access_token)).status).toBe(200);
  });

  it.each([
    ['a reused jti', 400],
    ['the wrong audience', 401],
    ['an expired assertion', 400],
    ['an assertion valid for more than 5 minutes', 400],
    ['a signature by another key', 401],
    ['RS256 instead of RS512', 400],
    ['no kid', 400],
    ['an unknown kid', 401],
    ['an unregistered application', 401],
    ['no assertion', 400],
  ])('refuses %s with %i', async (kind, status) => {
    let assertion: string | undefined;
    const jti = crypto.randomUUID();
    switch (kind) {
      case 'a reused jti':
        assertion = await clientAssertion(healthcare, pds.tokenUrl, { jti });
        expect((await requestToken(assertion)).status).toBe(200);
        assertion = await clientAssertion(healthcare, pds.tokenUrl, { jti });
        break;
      case 'the wrong audience':
        assertion = await clientAssertion(healthcare, pds.tokenUrl, { aud: 'https://elsewhere.example/oauth2/token' });
        break;
      case 'an expired assertion':
        assertion = await clientAssertion(healthcare, pds.tokenUrl, { expiresIn: -10 });
        break;
      case 'an assertion valid for more than 5 minutes':
        assertion = await clientAssertion(healthcare, pds.tokenUrl, { expiresIn: 600 });
        break;
      case 'a signature by another key':
        assertion = await clientAssertion(healthcare, pds.tokenUrl, { key: (await generateKeyPair('RS512')).privateKey });
        break;
      case 'RS256 instead of RS512':
        assertion = await clientAssertion(healthcare, pds.tokenUrl, { alg: 'RS256', key: (await generateKeyPair('RS256')).privateKey });
        break;
      case 'no kid':
        assertion = await clientAssertion(healthcare, pds.tokenUrl, { kid: null });
        break;
      case 'an unknown kid':
        assertion = await clientAssertion(healthcare, pds.tokenUrl, { kid: 'no-such-key' });
        break;
      case 'an unregistered application':
        assertion = await clientAssertion(healthcare, pds.tokenUrl, { iss: 'not-registered' });
        break;
      case 'no assertion':
        assertion = undefined;
        break;
    }
    const response = await requestToken(assertion);
    expect(response.status).toBe(status);
    expect(response.body.error).toMatch(/^invalid_request$/);
    expect(response.body.error_description?.length).toBeGreaterThan(10);
    expect(response.body).not.toHaveProperty('access_token');
  });

  it('refuses another grant type', async () => {
    const response = await requestToken(await clientAssertion(healthcare, pds.tokenUrl), { grant_type: 'password' });
    expect(response).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
  });
});

describe('access tokens', () => {
  it('are required: none, or a made-up one, gets 401 ACCESS_DENIED', async () => {
    for (const token of [undefined, 'made-up']) {
      const response = await fhir('/Patient/9000000009', token);
      expect(response.status).toBe(401);
      const body = (await response.json()) as Record<string, any>;
      expect(body.issue[0].details.coding[0].code).toBe('ACCESS_DENIED');
      expect(body.issue[0].code).toBe('forbidden');
    }
  });

  it('in application-restricted mode allow only a single unique match', async () => {
    const token = (await requestToken(await clientAssertion(restricted, pds.tokenUrl))).body.access_token!;
    const unique = await fhir('/Patient?family=Smith&given=Jane&birthdate=eq2010-10-22', token);
    expect(((await unique.json()) as Record<string, any>).total).toBe(1);
    const many = await fhir('/Patient?family=Sm*&birthdate=eq2010-10-22', token);
    expect(many.status).toBe(200);
    expect(await many.json()).toEqual(referenceJson('stubs/searchResponses/TOO_MANY_MATCHES.json'));
    const askedForMore = await fhir('/Patient?family=Smith&birthdate=eq2010-10-22&_max-results=5', token);
    expect(askedForMore.status).toBe(403);
    expect(((await askedForMore.json()) as Record<string, any>).issue[0].details.coding[0].code).toBe('INVALID_VALUE');
  });

  it('in healthcare-worker mode return up to 50 matches', async () => {
    const token = (await requestToken(await clientAssertion(healthcare, pds.tokenUrl))).body.access_token!;
    const many = await fhir('/Patient?family=Sm*&birthdate=eq2010-10-22', token);
    expect(((await many.json()) as Record<string, any>).total).toBe(2);
  });
});
