// The matching subgraph over HTTP, in front of the real PDS sandbox, auditing into a real central store.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import fc from 'fast-check';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demographicsDigest, useReceiptVerifier } from '../../../lib/match-receipt.ts';
import { openStore, type CentralClient, type Store } from '../../../lib/db/store.ts';
import { PdsClient } from '../../../subgraphs/matching/pds/client.ts';
import { CentralDirectory } from '../../../gateway/directory.ts';
import type { MetricsExposure } from '../../../lib/service/metrics-endpoint.ts';
import { MATCHING_AUDIENCE } from '../../../schema/audiences.ts';
import { CALLER_HEADER, TIMEOUT_HEADER } from '../../../schema/headers.ts';
import { createMatchingService } from '../../../subgraphs/matching/service.ts';
import { freshDatabase, type TestDatabase } from '../../helpers/database.ts';
import { startDfeTokens, type TestDfe } from '../../helpers/dfe.ts';
import { ndjsonFile, referenceJson, startPds, type TestPds } from '../../helpers/pds.ts';
import { freePort } from '../../helpers/ports.ts';

let pds: TestPds;
let client: PdsClient;
let url: string;
let stop: () => Promise<void>;
let dfe: TestDfe;
let token: string;
let database: TestDatabase;
let store: Store<CentralClient>;
let directory: CentralDirectory;
let receiptKey: { privateJwk: JWK; publicJwk: JWK };

async function serve(pdsClient: PdsClient, metrics?: MetricsExposure): Promise<{ url: string; stop: () => Promise<void> }> {
  const { server, stop } = await createMatchingService({ pds: pdsClient, dfe: { issuer: dfe.issuer, jwks: dfe.jwks }, sql: store.sql, directory, receiptKey: receiptKey.privateJwk, ...(metrics ? { metrics } : {}) });
  const port = await freePort();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    stop,
  };
}

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  receiptKey = { privateJwk: { ...(await exportJWK(pair.privateKey)), kid: 'match-receipts-1', alg: 'ES256' }, publicJwk: { ...(await exportJWK(pair.publicKey)), kid: 'match-receipts-1', alg: 'ES256' } };
  // `probe`: an organisation whose type and scopes in DfE's registry a test sets.
  dfe = await startDfeTokens(['northshire', 'southshire', 'probe']);
  token = await dfe.token('northshire', MATCHING_AUDIENCE);
  database = await freshDatabase();
  store = await openStore({ kind: 'central', dataDir: database.dataDir, poolSize: 4, ...(database.databaseUrl ? { databaseUrl: database.databaseUrl } : {}) });
  for (const code of ['northshire', 'southshire', 'probe']) await store.prisma.organisation.create({ data: { code, name: code, type: 'LA', scopes: ['match', 'find'], jwks: { keys: [] } } });
  directory = new CentralDirectory({ sql: store.sql, keys: [{ version: 1, secret: randomBytes(32) }], refreshMs: 200 });
  await directory.start();
  pds = await startPds(ndjsonFile([referenceJson('sandbox/mocks/Patient.json'), referenceJson('sandbox/mocks/Sensitive_Patient.json')]));
  client = new PdsClient({ baseUrl: pds.fhirUrl, rateLimit: 1000 });
  ({ url, stop } = await serve(client));
});
afterAll(async () => {
  await stop?.();
  await pds?.close();
  await dfe?.close();
  directory?.stop();
  await store?.close();
  await database?.drop();
});

async function graphql(query: string, variables: Record<string, unknown> = {}, target = url, bearer: string | null = token) {
  const response = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json', 'mais-purpose': 'CHILD_IN_NEED_ASSESSMENT', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) }, body: JSON.stringify({ query, variables }) });
  return { status: response.status, body: (await response.json()) as { data?: any; errors?: any[] } };
}

const MATCH = `query ($input: DemographicsInput!) {
  matchChild(input: $input, purpose: CHILD_IN_NEED_ASSESSMENT) { status nhsNumber score strategy candidates { nhsNumber score pdsScore strategy fieldAgreement { field level } } }
}`;

describe('the matching subgraph', () => {
  it('answers only a DfE access token for MATCH: none, one for FIND or one not from DfE gets 401', async () => {
    const query = `{ validateNhsNumber(value: "9434765919") { valid } }`;
    const forFind = await dfe.token('northshire', 'mais:dfe:locator');
    for (const bearer of [null, forFind, 'not-a-jwt']) {
      const reply = await graphql(query, {}, url, bearer);
      expect(reply.status).toBe(401);
      expect(reply.body.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
      expect(reply.body.data).toBeUndefined();
    }
    expect((await graphql(query)).body.data.validateNhsNumber.valid).toBe(true);
  });

  it('matches a child and explains the match field by field', async () => {
    const { body } = await graphql(MATCH, { input: { givenName: 'Jane', familyName: 'Smith', dateOfBirth: '2010-10-22', gender: 'FEMALE', postcode: 'LS1 6AE' } });
    expect(body.errors).toBeUndefined();
    expect(body.data.matchChild).toMatchObject({ status: 'MATCH', nhsNumber: '9000000009', strategy: 'exact' });
    expect(body.data.matchChild.candidates[0].fieldAgreement).toContainEqual({ field: 'familyName', level: 'exact' });
  });

  it('says why it gave each band, and which details agreed with the candidate and which did not', async () => {
    const ask = async (input: Record<string, string>) => {
      const { body } = await graphql(`query ($input: DemographicsInput!) { matchChild(input: $input, purpose: CHILD_IN_NEED_ASSESSMENT) { status nhsNumber reason explanation agreed { field level } disagreed } }`, { input: { familyName: 'Smith', dateOfBirth: '2010-10-22', gender: 'FEMALE', givenName: 'Jane', ...input } });
      expect(body.errors).toBeUndefined();
      return body.data.matchChild as { status: string; nhsNumber: string | null; reason: string; explanation: string; agreed: { field: string; level: string }[]; disagreed: string[] };
    };
    const match = await ask({ postcode: 'LS1 6AE' });
    expect(match).toMatchObject({ status: 'MATCH', reason: 'CORROBORATED', disagreed: [] });
    expect(match.agreed).toContainEqual({ field: 'postcode', level: 'exact' });
    const noPostcode = await ask({});
    expect(noPostcode).toMatchObject({ status: 'POTENTIAL_MATCH', nhsNumber: '9000000009', reason: 'NO_POSTCODE', disagreed: [] });
    expect(noPostcode.explanation).toMatch(/no postcode/);
    const elsewhere = await ask({ postcode: 'E1 6AN' });
    expect(elsewhere).toMatchObject({ status: 'POTENTIAL_MATCH', reason: 'POSTCODE_NOT_HELD', disagreed: ['postcode'] });
    expect(elsewhere.agreed.map((a) => a.field)).toEqual(expect.arrayContaining(['givenName', 'familyName', 'dateOfBirth']));
    const otherName = await ask({ givenName: 'Mary', postcode: 'LS1 6AE' });
    expect(otherName).toMatchObject({ status: 'POTENTIAL_MATCH', reason: 'FIELD_DISAGREES', disagreed: ['givenName'] });
    expect(otherName.explanation).toMatch(/^Given name disagrees/);
    const nobody = await ask({ givenName: 'Zebedee', familyName: 'Quartermaine' });
    expect(nobody).toMatchObject({ status: 'NO_MATCH', nhsNumber: null, reason: 'NOT_FOUND', agreed: [], disagreed: [] });
  });

  it('signs a receipt for a linkable result, for the asking organisation and over what it was asked, and none for any other', async () => {
    const input = { givenName: 'Jane', familyName: 'Smith', dateOfBirth: '2010-10-22', postcode: 'LS1 6AE' };
    const { body } = await graphql(`query ($input: DemographicsInput!) { matchChild(input: $input, purpose: CHILD_IN_NEED_ASSESSMENT) { status nhsNumber score strategy receipt } }`, { input });
    const result = body.data.matchChild as { status: string; nhsNumber: string; score: number; strategy: string; receipt: string };
    expect(result.status).toBe('MATCH');
    const claims = await useReceiptVerifier({ jwks: { keys: [receiptKey.publicJwk] }, organisation: 'northshire' }).verify(result.receipt);
    expect(claims).toMatchObject({ organisation: 'northshire', nhsNumber: result.nhsNumber, band: 'MATCH', score: result.score, strategy: result.strategy, digest: demographicsDigest(input) });
    expect(claims.expiresAt.getTime() - Date.now()).toBeGreaterThan(14 * 60_000);
    expect(claims.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(15 * 60_000);
    // For northshire alone.
    await expect(useReceiptVerifier({ jwks: { keys: [receiptKey.publicJwk] }, organisation: 'southshire' }).verify(result.receipt)).rejects.toMatchObject({ reason: 'RECEIPT_OTHER_ORGANISATION' });
    const nobody = await graphql(`query ($input: DemographicsInput!) { matchChild(input: $input, purpose: CHILD_IN_NEED_ASSESSMENT) { status receipt } }`, { input: { givenName: 'Nobody', familyName: 'Atall', dateOfBirth: '2012-01-01' } });
    expect(nobody.body.data.matchChild).toEqual({ status: 'NO_MATCH', receipt: null });
  });

  it.each([
    [{ givenName: '', familyName: 'Smith', dateOfBirth: '2010-10-22' }, 'input.givenName'],
    [{ givenName: 'Jane', familyName: 'Smith', dateOfBirth: '2099-01-01' }, 'input.dateOfBirth'],
    [{ givenName: 'Jane', familyName: 'Smith', dateOfBirth: '2010-10-22', postcode: "'; DROP TABLE--" }, 'input.postcode'],
  ])('refuses %j with BAD_USER_INPUT naming the field, before calling PDS', async (input, field) => {
    const before = client.stats.requests;
    const { body } = await graphql(MATCH, { input });
    expect(body.data).toBeNull();
    expect(body.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field });
    expect(client.stats.requests).toBe(before);
  });

  it('refuses an impossible date with BAD_USER_INPUT and no stack trace', async () => {
    const { status, body } = await graphql(MATCH, { input: { givenName: 'Jane', familyName: 'Smith', dateOfBirth: '2010-02-30' } });
    expect(status).toBe(400);
    expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(body)).not.toMatch(/stacktrace|\bat .*\.ts:/);
  });

  it('validates NHS numbers', async () => {
    const { body } = await graphql(`{ a: validateNhsNumber(value: "943 476 5919") { valid normalised } b: validateNhsNumber(value: "9434765918") { valid reason } }`);
    expect(body.data).toEqual({ a: { valid: true, normalised: '9434765919' }, b: { valid: false, reason: 'The check digit does not match (modulus 11)' } });
  });

  it('resolves Child.demographics from PDS, withholding a restricted child’s location', async () => {
    const query = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Child { nhsNumber demographics { givenNames familyName dateOfBirth gender address { postcode } gpPracticeCode restricted } } } }`;
    const { body } = await graphql(query, { reps: [{ __typename: 'Child', nhsNumber: '9000000009' }, { __typename: 'Child', nhsNumber: '9000000025' }, { __typename: 'Child', nhsNumber: '9111231130' }] });
    expect(body.errors).toBeUndefined();
    const [jane, restricted, unknown] = body.data._entities;
    expect(jane.demographics).toMatchObject({ givenNames: ['Jane'], familyName: 'Smith', dateOfBirth: '2010-10-22', gender: 'FEMALE', address: { postcode: 'LS1 6AE' }, restricted: false });
    expect(restricted.demographics).toMatchObject({ familyName: 'Smythe', address: null, gpPracticeCode: null, restricted: true });
    expect(unknown.demographics).toBeNull();
  });

  it('says whether PDS restricts each child, and nothing more, to a custodian with the register scope only', async () => {
    const RESTRICTIONS = `query ($n: [NhsNumber!]!) { restrictions(nhsNumbers: $n) { nhsNumber restricted } }`;
    const numbers = ['9000000009', '9000000025', '9111231130'];
    const refused = await graphql(RESTRICTIONS, { n: numbers });
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    await store.prisma.organisation.update({ where: { code: 'northshire' }, data: { scopes: ['match', 'find', 'register'] } });
    try {
      await expect.poll(() => directory.organisations.get('northshire')?.scopes).toContain('register');
      const before = await store.prisma.auditEntry.count({ where: { action: 'match.restriction' } });
      const { body } = await graphql(RESTRICTIONS, { n: numbers });
      expect(body.errors).toBeUndefined();
      expect(body.data.restrictions).toEqual([
        { nhsNumber: '9000000009', restricted: false },
        { nhsNumber: '9000000025', restricted: true },
        { nhsNumber: '9111231130', restricted: null },
      ]);
      expect(await store.prisma.auditEntry.count({ where: { action: 'match.restriction' } })).toBe(before + 3);
      const tooMany = await graphql(RESTRICTIONS, { n: Array(101).fill('9000000009') });
      expect(tooMany.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    } finally {
      await store.prisma.organisation.update({ where: { code: 'northshire' }, data: { scopes: ['match', 'find'] } });
    }
  });

  it('refuses an invalid NHS number in an entity reference with INVALID_NHS_NUMBER', async () => {
    const { body } = await graphql(`query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Child { nhsNumber } } }`, { reps: [{ __typename: 'Child', nhsNumber: '9000000000' }] });
    expect(body.errors?.[0]?.extensions?.code).toBe('INVALID_NHS_NUMBER');
  });

  it('answers SOURCE_UNAVAILABLE naming PDS, and a MATCH result of ERROR, when PDS is down', async () => {
    const down = await serve(new PdsClient({ baseUrl: 'http://127.0.0.1:1/personal-demographics/FHIR/R4', maxRetries: 0, deadlineMs: 1000 }));
    try {
      const entity = await graphql(`query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Child { nhsNumber demographics { familyName } } } }`, { reps: [{ __typename: 'Child', nhsNumber: '9000000009' }] }, down.url);
      expect(entity.body.data._entities[0]).toEqual({ nhsNumber: '9000000009', demographics: null });
      expect(entity.body.errors?.[0]?.extensions).toEqual({ code: 'SOURCE_UNAVAILABLE', source: 'pds' });
      const match = await graphql(MATCH, { input: { givenName: 'Jane', familyName: 'Smith', dateOfBirth: '2010-10-22' } }, down.url);
      expect(match.body.data.matchChild).toMatchObject({ status: 'ERROR', nhsNumber: null });
    } finally {
      await down.stop();
    }
  });

  it('answers only an organisation whose scopes and type give it a purpose, for a stated purpose, whatever it holds', async () => {
    const TYPES = ['LA', 'HEALTH', 'POLICE', 'SCHOOL_TRUST', 'DFE'] as const;
    const ENTITY = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Child { demographics { familyName address { postcode } gpPracticeCode } } } }`;
    const MATCH_AS = `query ($input: DemographicsInput!) { matchChild(input: $input, purpose: EARLY_HELP) { status nhsNumber } }`;
    const ask = async (token: string, header: string | null, query: string, variables: Record<string, unknown>) => {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...(header !== null ? { 'mais-purpose': header } : {}) }, body: JSON.stringify({ query, variables }) });
      return { status: response.status, body: (await response.json()) as { data?: any; errors?: { extensions?: { code?: string; field?: string } }[] } };
    };
    const probeEntries = () => store.sql.withSession((db) => db.query<{ action: string; purpose: string | null }>("SELECT action, purpose FROM audit_entry WHERE actor_org = 'probe' ORDER BY seq"));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...TYPES),
        fc.uniqueArray(fc.constantFrom('match', 'find', 'register', 'relay', 'registry', 'MATCH', 'match:admin'), { maxLength: 3 }),
        fc.constantFrom('CHILD_IN_NEED_ASSESSMENT', 'EARLY_HELP', null, 'NOSY', ''),
        async (type, scopes, header) => {
          await store.prisma.organisation.update({ where: { code: 'probe' }, data: { type, scopes } });
          await expect.poll(() => directory.organisations.get('probe')).toMatchObject({ type, scopes });
          // Issued while the token service knew probe with the match scope: MATCH asks its own registry.
          const token = await dfe.token('probe', MATCHING_AUDIENCE);
          const before = (await probeEntries()).length;
          const demographics = await ask(token, header, ENTITY, { reps: [{ __typename: 'Child', nhsNumber: '9000000009' }] });
          const match = await ask(token, header, MATCH_AS, { input: { givenName: 'Jane', familyName: 'Smith', dateOfBirth: '2010-10-22', postcode: 'LS1 6AE' } });
          const after = (await probeEntries()).slice(before);
          if (!scopes.includes('match')) {
            for (const answer of [demographics, match]) {
              expect(answer.status).toBe(403);
              expect(answer.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
            }
            expect(after).toEqual([]);
          } else if (type !== 'LA') {
            // Nothing of the child: no name, address or GP, no NHS number, nothing audited as read.
            expect(demographics.body.data?._entities?.[0]?.demographics ?? null).toBeNull();
            expect(demographics.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
            expect(match.body.data?.matchChild ?? null).toBeNull();
            expect(match.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', field: 'matchChild' });
            expect(after).toEqual([]);
          } else {
            // matchChild states its purpose as an argument, and DfE's audit records it.
            expect(match.body.data.matchChild).toMatchObject({ status: 'MATCH', nhsNumber: '9000000009' });
            expect(after.filter((e) => e.action === 'match.search').every((e) => e.purpose === 'EARLY_HELP')).toBe(true);
            if (header === 'CHILD_IN_NEED_ASSESSMENT' || header === 'EARLY_HELP') {
              expect(demographics.body.data._entities[0].demographics).toMatchObject({ familyName: 'Smith' });
              expect(after.find((e) => e.action === 'match.demographics')?.purpose).toBe(header);
            } else {
              expect(demographics.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'MAIS-Purpose' });
              expect(after.some((e) => e.action === 'match.demographics')).toBe(false);
            }
          }
        },
      ),
      { numRuns: 25 },
    );
  }, 60_000);

  describe('DfE’s audit', () => {
    const entries = () => store.sql.withSession((db) => db.query<{ actor_org: string; action: string; pseudonym: Uint8Array | null; purpose: string | null; decision: string; detail: Record<string, unknown> }>('SELECT * FROM audit_entry ORDER BY seq'));
    const pseudonym = (nhsNumber: string) => Buffer.from(directory.pseudonymsForLookup(nhsNumber).audit).toString('hex');
    const hex = (value: Uint8Array | null) => (value ? Buffer.from(value).toString('hex') : null);

    it('records each search with whom PDS returned, by pseudonym, and the names of the details searched on, before answering', async () => {
      const before = (await entries()).length;
      const { body } = await graphql(MATCH, { input: { givenName: 'Jane', familyName: 'Smith', dateOfBirth: '2010-10-22', postcode: 'LS1 6AE' } });
      expect(body.data.matchChild.nhsNumber).toBe('9000000009');
      const written = (await entries()).slice(before);
      const returned = new Set<string>(body.data.matchChild.candidates.map((c: { nhsNumber: string }) => c.nhsNumber));
      expect(written.map((e) => hex(e.pseudonym)).sort()).toEqual([...returned].map(pseudonym).sort());
      const best = written.find((e) => hex(e.pseudonym) === pseudonym('9000000009'))!;
      expect(best).toMatchObject({ actor_org: 'northshire', action: 'match.search', purpose: 'CHILD_IN_NEED_ASSESSMENT', decision: 'ALLOW', detail: { status: 'MATCH', criteria: ['dateOfBirth', 'familyName', 'givenName', 'postcode'], results: returned.size, best: true, keyVersion: 1 } });
      // Nothing of what was asked or found in plaintext.
      expect(JSON.stringify(written)).not.toMatch(/9000000009|Jane|Smith|2010-10-22|LS1/);

      const nobody = await graphql(MATCH, { input: { givenName: 'Nobody', familyName: 'Atall', dateOfBirth: '2012-01-01' } });
      expect(nobody.body.data.matchChild.status).toBe('NO_MATCH');
      expect((await entries()).at(-1)).toMatchObject({ action: 'match.search', pseudonym: null, detail: { status: 'NO_MATCH', results: 0 } });
    });

    it('records each read of a child’s demographics, found or not', async () => {
      const before = (await entries()).length;
      const query = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Child { demographics { familyName } } } }`;
      const { body } = await graphql(query, { reps: [{ __typename: 'Child', nhsNumber: '9000000009' }, { __typename: 'Child', nhsNumber: '9111231130' }] });
      expect(body.errors).toBeUndefined();
      const written = (await entries()).slice(before);
      expect(written.map((e) => [e.action, hex(e.pseudonym), e.decision]).sort()).toEqual(
        [['match.demographics', pseudonym('9000000009'), 'ALLOW'], ['match.demographics', pseudonym('9111231130'), 'NOT_FOUND']].sort(),
      );
    });

    it('answers nothing of a child when it cannot write the audit', async () => {
      await store.sql.withSession((db) => db.exec('ALTER TABLE audit_entry RENAME TO audit_entry_away'));
      try {
        const match = await graphql(MATCH, { input: { givenName: 'Jane', familyName: 'Smith', dateOfBirth: '2010-10-22' } });
        expect(match.body.data).toBeNull();
        expect(match.body.errors?.[0]?.extensions).toEqual({ code: 'SOURCE_UNAVAILABLE', source: 'matching' });
        const entity = await graphql(`query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Child { demographics { familyName } } } }`, { reps: [{ __typename: 'Child', nhsNumber: '9000000009' }] });
        expect(entity.body.data._entities[0].demographics).toBeNull();
        expect(JSON.stringify(entity.body)).not.toMatch(/Smith/);
      } finally {
        await store.sql.withSession((db) => db.exec('ALTER TABLE audit_entry_away RENAME TO audit_entry'));
      }
    });

    it('refuses an organisation DfE has suspended', async () => {
      await store.prisma.organisation.update({ where: { code: 'southshire' }, data: { status: 'SUSPENDED' } });
      const suspended = await dfe.token('southshire', MATCHING_AUDIENCE);
      await expect.poll(async () => (await graphql(`{ validateNhsNumber(value: "9434765919") { valid } }`, {}, url, suspended)).status, { timeout: 5000, interval: 100 }).toBe(401);
    });
  });

  it('shares PDS between organisations and their caseworkers: one past their share is refused RATE_LIMITED with a retryAfter, others are answered meanwhile, and PDS calls are counted by organisation', async () => {
    const slow = new PdsClient({ baseUrl: pds.fhirUrl, rateLimit: 5, perCallerWaiting: 2, maxShareWaitMs: 3000 });
    const metricsToken = randomBytes(24).toString('base64url');
    const served = await serve(slow, { token: metricsToken });
    // Southshire as an ordinary LA again, whatever a test before made of it.
    await store.prisma.organisation.update({ where: { code: 'southshire' }, data: { status: 'ACTIVE', type: 'LA', scopes: ['match', 'find'] } });
    await expect.poll(() => directory.organisations.get('southshire')?.status, { timeout: 5000 }).toBe('ACTIVE');
    try {
      const southshire = await dfe.token('southshire', MATCHING_AUDIENCE);
      const ask = async (bearer: string, caller: string, query: string, variables: Record<string, unknown>, more: Record<string, string> = {}) => {
        const response = await fetch(served.url, { method: 'POST', headers: { 'content-type': 'application/json', 'mais-purpose': 'CHILD_IN_NEED_ASSESSMENT', authorization: `Bearer ${bearer}`, [CALLER_HEADER]: caller, ...more }, body: JSON.stringify({ query, variables }) });
        return { status: response.status, body: (await response.json()) as { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] } };
      };
      const auditedBefore = await store.prisma.auditEntry.count({ where: { action: 'match.search', actorOrg: 'northshire' } });
      // One northshire caseworker floods MATCH with a child PDS does not hold (each match several searches).
      const nobody = { input: { givenName: 'Nobody', familyName: 'Atall', dateOfBirth: '2012-01-01' } };
      const flood = Array.from({ length: 12 }, () => ask(token, 'flooder', MATCH, nobody));
      await expect.poll(() => slow.waiting.northshire ?? 0).toBeGreaterThan(0);
      // A caseworker whose router waits 300 ms is told at once that their turn would come too late.
      const hurried = await ask(token, 'hurried', MATCH, nobody, { [TIMEOUT_HEADER]: '300' });
      expect(hurried.body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
      // Meanwhile a southshire caseworker reads a child's demographics, and another northshire one matches.
      const ENTITY = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Child { demographics { familyName } } } }`;
      const [south, colleague] = await Promise.all([
        ask(southshire, 'steady', ENTITY, { reps: [{ __typename: 'Child', nhsNumber: '9000000009' }] }).then((answer) => ({ ...answer, floodWaiting: slow.waiting.northshire ?? 0 })),
        ask(token, 'colleague', MATCH, { input: { givenName: 'Jane', familyName: 'Smith', dateOfBirth: '2010-10-22', gender: 'FEMALE', postcode: 'LS1 6AE' } }),
      ]);
      // Answered in their turn, while the flood's own calls were still waiting.
      expect(south.body.errors, JSON.stringify(south.body.errors)).toBeUndefined();
      expect(south.body.data._entities[0].demographics).toEqual({ familyName: 'Smith' });
      expect(south.floodWaiting).toBeGreaterThan(0);
      expect(colleague.body.errors).toBeUndefined();
      expect(colleague.body.data.matchChild).toMatchObject({ status: 'MATCH', nhsNumber: '9000000009' });
      const answers = await Promise.all(flood);
      const refused = answers.filter((a) => a.body.errors?.[0]?.extensions?.code === 'RATE_LIMITED');
      const matched = answers.filter((a) => a.body.data?.matchChild?.status === 'NO_MATCH');
      // The caseworker had two calls waiting at most: the rest were refused at once, told when to come back.
      expect(refused.length).toBeGreaterThanOrEqual(12 - 3);
      expect(refused.length + matched.length).toBe(12);
      for (const answer of refused) {
        expect(answer.status).toBe(200);
        expect(answer.body.data?.matchChild ?? null).toBeNull();
        expect(Number.isInteger(answer.body.errors![0]!.extensions!.retryAfter)).toBe(true);
        expect(answer.body.errors![0]!.extensions!.retryAfter).toBeGreaterThanOrEqual(1);
      }
      // Only what was answered is audited: a refused search asked PDS nothing.
      expect(await store.prisma.auditEntry.count({ where: { action: 'match.search', actorOrg: 'northshire' } })).toBe(auditedBefore + matched.length + 1);
      for (const timeout of ['0', '-5', '1.5', 'soon', '9999999', '']) {
        const refusedTimeout = await ask(token, 'colleague', MATCH, nobody, { [TIMEOUT_HEADER]: timeout });
        expect(refusedTimeout.status).toBe(400);
        expect(refusedTimeout.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: TIMEOUT_HEADER });
      }
      // PDS calls by the organisation they were made for, for the operator.
      const metrics = await fetch(served.url.replace('/graphql', '/metrics'), { headers: { authorization: `Bearer ${metricsToken}` } });
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      const count = (organisation: string) => Number(new RegExp(`^mais_match_pds_calls_total\\{organisation="${organisation}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
      expect(count('southshire')).toBe(1);
      expect(count('northshire')).toBeGreaterThan(matched.length);
      expect(count('northshire') + count('southshire')).toBe(slow.stats.requests);
      expect((await fetch(served.url.replace('/graphql', '/metrics'))).status).toBe(401);
    } finally {
      await served.stop();
    }
  });

  it('refuses a caller name that is not an opaque token of its router’s, before anything is asked or audited', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.constant(''), fc.stringMatching(/^[\x21-\x7e ]{1,90}$/)).filter((v) => !/^[A-Za-z0-9_-]{1,64}$/.test(v.trim()) && v.trim() === v), async (caller) => {
        const before = client.stats.requests;
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'mais-purpose': 'CHILD_IN_NEED_ASSESSMENT', authorization: `Bearer ${token}`, [CALLER_HEADER]: caller }, body: JSON.stringify({ query: MATCH, variables: { input: { givenName: 'Jane', familyName: 'Smith', dateOfBirth: '2010-10-22' } } }) });
        expect(response.status).toBe(400);
        const body = (await response.json()) as { errors?: { extensions?: { code?: string; field?: string } }[] };
        expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: CALLER_HEADER });
        expect(client.stats.requests).toBe(before);
      }),
      { numRuns: 40 },
    );
  });
});
