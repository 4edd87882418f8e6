// The LA router's security over a real LA store and subgraphs: caseworker authentication against a real
// OpenID Connect provider on loopback, decisions by role, allocation and break-glass, and the audit.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import fc from 'fast-check';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRouterConfig } from '../../la-router/config.ts';
import { createRouter, type Router } from '../../la-router/server.ts';
import { AllocationIndex } from '../../la-router/relationships.ts';
import { reasonProblem, visibleReason } from '../../la-router/break-glass.ts';
import { relayChildDigest } from '../../schema/relay-token.ts';
import { EXAMPLE_QUERY } from '../../la-router/graphiql.ts';
import { createIdentityProvider, SANDBOX_USER_GRANT } from '../../sandbox/idp/provider.ts';
import { sandboxAgreement } from '../../sandbox/organisations.ts';
import { createCscService } from '../../subgraphs/csc/service.ts';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import { startLaSubgraph, type TestLaSubgraph } from '../helpers/la-subgraph.ts';
import { recordDetails, testReceiptKeys, type TestReceipts } from '../helpers/match-receipts.ts';
import { demographicsDigest } from '../../lib/match-receipt.ts';
import { freePort, serveOnLoopback } from '../helpers/ports.ts';
import { documentHash } from '../../la-router/plugins/trusted-documents.ts';

const AUDIENCE = 'mais-router:northshire';
/** The operator's bearer token for /metrics. */
const METRICS_TOKEN = 'metrics-operator-token-0123456789';
const readMetrics = (at: string) => fetch(at, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } }).then((r) => r.text());
const recordDigest = (person: Parameters<typeof recordDetails>[0]) => demographicsDigest(recordDetails(person));
const SEARCH_LIMIT = 2;
/** Searches by one caseworker within an hour that alert the IG officer, here. */
const ALERT_THRESHOLD = 3;
let issuer: string;
let idpPort: number;
let idpServer: Server;
let signingKey: JWK;
let csc: TestLaSubgraph;
let receipts: TestReceipts;
let proxy: FaultProxy;
let router: Router;
let url: string;
let users: { username: string; displayName: string; roles: string[] }[] = [];
const logLines: string[] = [];

async function newKey(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
}

async function startIdp(key: JWK): Promise<void> {
  const provider = createIdentityProvider({
    la: 'northshire',
    issuer,
    audience: AUDIENCE,
    signingKey: key,
    cliSecret: 'test-secret',
    users: [{ username: 'olivia.bailey', displayName: 'Olivia Bailey', roles: ['csc.practitioner'] }, ...users],
  });
  idpServer = provider.listen(idpPort, '127.0.0.1');
  await once(idpServer, 'listening');
}

async function tokenFor(username: string): Promise<string> {
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('mais-cli:test-secret').toString('base64')}` },
    body: new URLSearchParams({ grant_type: SANDBOX_USER_GRANT, username }),
  });
  const body = (await response.json()) as { access_token?: string; error?: string };
  if (!body.access_token) throw new Error(`no token: ${JSON.stringify(body)}`);
  return body.access_token;
}

/** A token as the provider would sign it, with claims the test chooses. */
async function forged(claims: Record<string, unknown>, key: JWK = signingKey, alg = 'ES256'): Promise<string> {
  return new SignJWT({ roles: ['csc.practitioner'], ...claims })
    .setProtectedHeader({ alg, kid: key.kid!, typ: 'at+jwt' })
    .setSubject('olivia.bailey')
    .sign(await importJWK(key, alg));
}

const now = () => Math.floor(Date.now() / 1000);
const QUERY = `query ($n: NhsNumber!) { child(nhsNumber: $n, purpose: CHILD_PROTECTION_ENQUIRY) { nhsNumber socialCare { personId } } }`;

async function ask(token?: string, query = QUERY, variables: Record<string, unknown> = { n: '9434765919' }) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as { data?: any; errors?: any[] } };
}

beforeAll(async () => {
  // Searches answer at most two records here, so that one can be seen to say it was cut short.
  receipts = await testReceiptKeys();
  csc = await startLaSubgraph('csc', (parts) => createCscService({ ...parts, searchLimit: SEARCH_LIMIT, receipts: { jwks: receipts.jwks, organisation: 'northshire' } }), { children: 400, seed: 3 });
  users = (await csc.store.prisma.la_user.findMany()).map((u) => ({ username: u.username, displayName: u.display_name, roles: u.roles }));
  users.push({ username: 'ivy.officer', displayName: 'Ivy Officer', roles: ['ig.officer'] });
  // The LA's user list holds every account the tests sign in as (the router refuses any other).
  await csc.store.prisma.la_user.createMany({ data: [{ username: 'olivia.bailey', display_name: 'Olivia Bailey', roles: ['csc.practitioner'] }, { username: 'ivy.officer', display_name: 'Ivy Officer', roles: ['ig.officer'] }], skipDuplicates: true });
  idpPort = await freePort();
  issuer = `http://127.0.0.1:${idpPort}`;
  signingKey = await newKey('idp-1');
  await startIdp(signingKey);
  proxy = await startFaultProxy(csc.url.replace(/\/graphql$/, ''));
  const config = parseRouterConfig({
    la: 'northshire',
    port: 0,
    mode: 'production',
    subgraphs: [{ name: 'csc', url: `${proxy.url}/graphql`, kind: 'la' }],
    oidc: { issuer, audience: AUDIENCE, keyRefetchCooldownMs: 0 },
    database: {},
    allocationRefreshSeconds: 1,
    searchAlerts: { threshold: ALERT_THRESHOLD, windowSeconds: 3600 },
  });
  const logStream = new Writable({ write: (chunk, _encoding, done) => (logLines.push(...String(chunk).trim().split('\n')), done()) });
  router = await createRouter({ config, internalToken: csc.signer, dfeCredential: null, store: csc.store, logger: pino(logStream), metrics: { token: METRICS_TOKEN } });
  url = `${await serveOnLoopback(router.server)}/graphql`;
}, 120_000);

afterAll(async () => {
  await router?.stop();
  idpServer?.close();
  await proxy?.close();
  await csc?.close();
});

describe('caseworker authentication', () => {
  it('accepts an access token from the LA’s identity provider', async () => {
    const seen = proxy.seen.length;
    const reply = await ask(await tokenFor('olivia.bailey'));
    expect(reply.status).toBe(200);
    expect(reply.body.data.child.nhsNumber).toBe('9434765919');
    expect(proxy.seen.length).toBeGreaterThan(seen);
  });

  it.each([
    ['no token', async () => undefined],
    ['an expired token', async () => forged({ iss: issuer, aud: AUDIENCE, iat: now() - 7200, exp: now() - 120 })],
    ['a token not yet valid', async () => forged({ iss: issuer, aud: AUDIENCE, iat: now(), nbf: now() + 600, exp: now() + 3600 })],
    ['a token for another audience', async () => forged({ iss: issuer, aud: 'mais-router:southshire', iat: now(), exp: now() + 600 })],
    ['a token from another issuer', async () => forged({ iss: 'http://127.0.0.1:1/other', aud: AUDIENCE, iat: now(), exp: now() + 600 })],
    ['a token signed by another key', async () => forged({ iss: issuer, aud: AUDIENCE, iat: now(), exp: now() + 600 }, { ...(await newKey('idp-1')) })],
    [
      'an unsigned token (alg: none)',
      async () => {
        const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
        return `${part({ alg: 'none', typ: 'at+jwt' })}.${part({ iss: issuer, aud: AUDIENCE, sub: 'olivia.bailey', roles: ['csc.manager'], exp: now() + 600 })}.`;
      },
    ],
    ['something that is not a JWT', async () => 'let-me-in'],
  ])('refuses %s with 401 UNAUTHENTICATED and calls no subgraph', async (_name, make) => {
    const seen = proxy.seen.length;
    const reply = await ask(await make());
    expect(reply.status).toBe(401);
    expect(reply.body.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(reply.body.data).toBeUndefined();
    expect(proxy.seen.length).toBe(seen);
  });

  it('a token just past its expiry is still accepted within 60 seconds of clock skew, and not after', async () => {
    expect((await ask(await forged({ iss: issuer, aud: AUDIENCE, iat: now() - 600, exp: now() - 30 }))).status).toBe(200);
    expect((await ask(await forged({ iss: issuer, aud: AUDIENCE, iat: now() - 600, exp: now() - 90 }))).status).toBe(401);
  });

  it('follows the provider’s key rotation', async () => {
    await ask(await tokenFor('olivia.bailey'));
    idpServer.close();
    idpServer.closeAllConnections();
    signingKey = await newKey('idp-2');
    await startIdp(signingKey);
    const reply = await ask(await tokenFor('olivia.bailey'));
    expect(reply.status).toBe(200);
  });
});

describe('authorization and audit', () => {
  const VIEW = `query ($n: NhsNumber!, $why: String, $kind: BreakGlassCategory) { child(nhsNumber: $n, purpose: CHILD_PROTECTION_ENQUIRY, breakGlassReason: $why, breakGlassCategory: $kind) { nhsNumber socialCare { personId status { openCase } referrals { id } } } }`;
  const SUMMARY = `query ($n: NhsNumber!) { child(nhsNumber: $n, purpose: CHILD_IN_NEED_ASSESSMENT) { socialCare { status { openCase } } } }`;
  let allocated: { username: string; nhs: string };
  let other: string;

  beforeAll(async () => {
    const [row] = await csc.store.sql.withSession((db) =>
      db.query<{ username: string; nhs: string }>(
        `SELECT u.username, p.pers_common_child_id AS nhs FROM la_user u JOIN ssd_involvements i ON i.invo_professional_id = u.prof_professional_id
           JOIN ssd_person p ON p.pers_person_id = i.invo_person_id
          WHERE i.invo_involvement_end_date IS NULL AND p.pers_common_child_id IS NOT NULL AND 'csc.practitioner' = ANY(u.roles) LIMIT 1`,
      ),
    );
    allocated = row!;
    other = users.find((u) => u.username !== allocated.username && u.roles.includes('csc.practitioner') && !u.roles.includes('csc.manager'))!.username;
  });

  const entries = () => csc.store.sql.withSession((db) => db.query<{ actor: string; nhs_number: string; purpose: string; break_glass_reason: string | null; outcome: string; sources: { answered: string[]; decision: string }; withheld: string[] }>('SELECT * FROM la_audit_entry ORDER BY seq'));

  it('gives the allocated practitioner the full view, and audits it', async () => {
    const reply = await ask(await tokenFor(allocated.username), VIEW, { n: allocated.nhs });
    expect(reply.body.errors).toBeUndefined();
    expect(reply.body.data.child.socialCare.referrals.length).toBeGreaterThan(0);
    expect((await entries()).at(-1)).toMatchObject({ actor: allocated.username, nhs_number: allocated.nhs, purpose: 'CHILD_PROTECTION_ENQUIRY', outcome: 'OK', sources: { answered: ['csc'], decision: 'FULL' }, break_glass_reason: null });
  });

  it('gives another practitioner a summary: status, with each detail null and FORBIDDEN by path, never fetched', async () => {
    const token = await tokenFor(other);
    const reply = await ask(token, VIEW, { n: allocated.nhs });
    expect(typeof reply.body.data.child.socialCare.status.openCase).toBe('boolean');
    expect(reply.body.data.child.socialCare.referrals).toBeNull();
    expect(reply.body.errors).toEqual([
      expect.objectContaining({ path: ['child', 'socialCare', 'referrals'], extensions: expect.objectContaining({ code: 'FORBIDDEN', category: 'csc.referral', reason: 'relationship' }) }),
    ]);
    expect((await entries()).at(-1)).toMatchObject({ actor: other, outcome: 'PARTIAL', withheld: ['child.socialCare.referrals'], sources: { decision: 'SUMMARY' } });
  });

  it('minimises by purpose: early help does not see child protection plans, even for the allocated practitioner', async () => {
    const query = `query ($n: NhsNumber!) { child(nhsNumber: $n, purpose: EARLY_HELP) { socialCare { status { openCase } referrals { id } plans: cpPlans { id } } } }`;
    const reply = await ask(await tokenFor(allocated.username), query, { n: allocated.nhs });
    expect(reply.body.data.child.socialCare.referrals.length).toBeGreaterThan(0);
    expect(reply.body.data.child.socialCare.plans).toBeNull();
    expect(reply.body.errors).toEqual([expect.objectContaining({ path: ['child', 'socialCare', 'plans'], extensions: expect.objectContaining({ code: 'FORBIDDEN', category: 'csc.cp_plan', reason: 'purpose' }) })]);
    // The same query for a child protection enquiry withholds nothing: one user's rewritten plan is not another's.
    const full = await ask(await tokenFor(allocated.username), query.replace('EARLY_HELP', 'CHILD_PROTECTION_ENQUIRY'), { n: allocated.nhs });
    expect(full.body.errors).toBeUndefined();
    expect(Array.isArray(full.body.data.child.socialCare.plans)).toBe(true);
  });

  it('break-glass needs a real reason, then gives the full view and is flagged in the audit', async () => {
    const token = await tokenFor(other);
    const short = await ask(token, VIEW, { n: allocated.nhs, why: 'urgent', kind: 'IMMEDIATE_RISK_OF_HARM' });
    expect(short.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'breakGlassReason', reason: 'TOO_FEW_LETTERS' });
    const reason = 'Police at the door overnight, duty social worker needs the plan';
    // A reason without its category is refused as well.
    const uncategorised = await ask(token, VIEW, { n: allocated.nhs, why: reason });
    expect(uncategorised.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'breakGlassCategory' });
    const reply = await ask(token, VIEW, { n: allocated.nhs, why: reason, kind: 'OUT_OF_HOURS_EMERGENCY' });
    expect(reply.body.errors).toBeUndefined();
    expect(reply.body.data.child.socialCare.referrals.length).toBeGreaterThan(0);
    expect((await entries()).at(-1)).toMatchObject({ actor: other, break_glass_reason: reason, outcome: 'OK', sources: { decision: 'BREAK_GLASS', breakGlassCategory: 'OUT_OF_HOURS_EMERGENCY' } });
  });

  it('refuses a role with no access to children’s records, and audits the refusal', async () => {
    const seen = proxy.seen.length;
    const reply = await ask(await tokenFor('ivy.officer'), VIEW, { n: allocated.nhs });
    expect(reply.status).toBe(403);
    expect(reply.body.errors?.[0].extensions.code).toBe('FORBIDDEN');
    expect(proxy.seen.length).toBe(seen);
    expect((await entries()).at(-1)).toMatchObject({ actor: 'ivy.officer', outcome: 'DENIED' });
  });

  it('answers the information-governance officer: who looked at this child, and every break-glass, itself audited', async () => {
    const TRAIL = `query ($n: NhsNumber!) { auditTrail(nhsNumber: $n) { caseworker purpose breakGlassReason decision outcome withheld } }`;
    const refused = await ask(await tokenFor(allocated.username), TRAIL, { n: allocated.nhs });
    expect(refused.body.errors?.[0].extensions.code).toBe('FORBIDDEN');
    const officer = await tokenFor('ivy.officer');
    const trail = await ask(officer, TRAIL, { n: allocated.nhs });
    expect(trail.body.errors).toBeUndefined();
    const records = trail.body.data.auditTrail as { caseworker: string; decision: string; breakGlassReason: string | null; withheld: string[] }[];
    expect(records).toContainEqual(expect.objectContaining({ caseworker: allocated.username, decision: 'FULL' }));
    expect(records).toContainEqual(expect.objectContaining({ caseworker: other, decision: 'SUMMARY', withheld: ['child.socialCare.referrals'] }));
    expect(records.filter((r) => r.decision === 'BREAK_GLASS').map((r) => r.caseworker)).toEqual([other]);
    const today = new Date().toISOString().slice(0, 10);
    const report = await ask(officer, `query ($d: Date!) { breakGlassReport(from: $d, to: $d) { category count accesses { caseworker breakGlassReason nhsNumber outcome } } }`, { d: today });
    // Grouped by category, in the list's order; the attempts refused (a thin reason, no category) are on the report too.
    expect(report.body.data.breakGlassReport).toEqual([
      { category: 'IMMEDIATE_RISK_OF_HARM', count: 1, accesses: [{ caseworker: other, breakGlassReason: 'urgent', nhsNumber: allocated.nhs, outcome: 'DENIED' }] },
      { category: 'OUT_OF_HOURS_EMERGENCY', count: 1, accesses: [{ caseworker: other, breakGlassReason: expect.stringMatching(/^Police at the door/), nhsNumber: allocated.nhs, outcome: 'OK' }] },
      { category: null, count: 1, accesses: [{ caseworker: other, breakGlassReason: expect.stringMatching(/^Police at the door/), nhsNumber: allocated.nhs, outcome: 'DENIED' }] },
    ]);
    expect((await entries()).at(-1)).toMatchObject({ actor: 'ivy.officer', nhs_number: allocated.nhs, sources: { decision: 'AUDIT_TRAIL' } });
  });

  it('refuses generated reasons without enough visible letters, however invisible, combining, right-to-left or filler characters pad them, and audits what can be seen', async () => {
    // Nothing a person sees: zero-width and joiners, bidirectional controls, a soft hyphen, Hangul fillers
    // (letters by category), variation selectors, tag characters, and marks that combine with no letter.
    const INVISIBLE = ['\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', '\u202E', '\u202D', '\u2067', '\u2069', '\u00AD', '\u3164', '\u115F', '\u1160', '\uFFA0', '\uFE0F', '\u{E0041}', '\u034F', '\u0000', '\u0007'];
    const FILLER = [' ', '.', ',', '-', '1', '!', '\u2800', '\u{1F6A8}', '\u0336', '\u20DD'];
    const LETTERS = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', 'ł', 'ß', 'Ω', 'ж', 'ש', 'ع', '子', 'ñ'];
    const letters = fc.integer({ min: 1, max: 12 }).chain((distinct) =>
      fc.shuffledSubarray(LETTERS, { minLength: distinct, maxLength: distinct }).chain((alphabet) => fc.array(fc.constantFrom(...alphabet), { minLength: 0, maxLength: 30 })),
    );
    const reason = letters.chain((chosen) =>
      fc.array(fc.constantFrom(...INVISIBLE, ...FILLER), { minLength: chosen.length + 1, maxLength: chosen.length + 1 }).chain((gaps) =>
        fc.array(fc.array(fc.constantFrom(...INVISIBLE, ...FILLER), { maxLength: 3 }), { minLength: chosen.length + 1, maxLength: chosen.length + 1 }).map((more) => ({
          text: gaps.map((g, i) => `${g}${more[i]!.join('')}${chosen[i] ?? ''}`).join(''),
          letters: chosen,
        })),
      ),
    );
    const enough = (chosen: string[]) => chosen.length >= 20 && new Set(chosen.map((l) => l.toLocaleLowerCase('en-GB'))).size >= 6;
    // The rule itself, over many reasons.
    fc.assert(
      fc.property(reason, ({ text, letters: chosen }) => {
        expect(reasonProblem(text) === null).toBe(enough(chosen));
        expect(visibleReason(text)).not.toMatch(/[\p{Cc}\p{Cf}\u3164\u115F\u1160\uFFA0]/u);
      }),
      { numRuns: 2000, seed: 32 },
    );
    // And the router, for a sample: refused with the reason's code, or answered with the full view, the audit keeping what can be seen.
    const token = await tokenFor(other);
    const sample = fc.sample(reason, { numRuns: 30, seed: 33 });
    for (const { text, letters: chosen } of [...sample, { text: '\u200B'.repeat(24), letters: [] }, { text: 'a'.repeat(20), letters: [...'a'.repeat(20)] }]) {
      const reply = await ask(token, VIEW, { n: allocated.nhs, why: text, kind: 'MISSING_CHILD' });
      if (text.includes('\u0000')) {
        expect(reply.body.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
        continue;
      }
      if (enough(chosen)) {
        expect(reply.body.errors).toBeUndefined();
        expect((await entries()).at(-1)).toMatchObject({ actor: other, outcome: 'OK', break_glass_reason: visibleReason(text), sources: { decision: 'BREAK_GLASS', breakGlassCategory: 'MISSING_CHILD' } });
      } else {
        expect(reply.status).toBe(400);
        expect(reply.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'breakGlassReason' });
      }
    }
  }, 60_000);

  it('lets social care staff link a record to an NHS number, audited as a link; refuses others and any other mutation', async () => {
    const LINK = `mutation ($input: LinkNhsNumberInput!) { linkNhsNumber(input: $input, purpose: CHILD_IN_NEED_ASSESSMENT) { personId nhsNumber linked } }`;
    const person = await csc.store.prisma.ssd_person.findFirstOrThrow({ where: { pers_common_child_id: null }, orderBy: { pers_person_id: 'asc' }, include: { addresses: { orderBy: { addr_address_start_date: 'desc' }, take: 1 } } });
    const receipt = await receipts.sign({ nhsNumber: '9434765870', band: 'POTENTIAL_MATCH', score: 0.9, details: recordDetails(person) });
    const input = { personId: person.pers_person_id, nhsNumber: '9434765870', receipt, confirmed: true };
    const seen = proxy.seen.length;
    const officer = await ask(await tokenFor('ivy.officer'), LINK, { input });
    expect(officer.status).toBe(403);
    expect(officer.body.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'linkNhsNumber' });
    const register = await ask(await tokenFor(other), `mutation { registerRecords(input: []) { written } }`, {});
    expect(register.body.errors?.[0].extensions.code).toMatch(/FORBIDDEN|GRAPHQL_VALIDATION_FAILED/);
    const twice = await ask(await tokenFor(other), `mutation ($input: LinkNhsNumberInput!) { a: linkNhsNumber(input: $input, purpose: EARLY_HELP) { linked } b: linkNhsNumber(input: $input, purpose: EARLY_HELP) { linked } }`, { input });
    expect(twice.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(proxy.seen.length).toBe(seen);
    // The band and score are MATCH's to give, not the caller's.
    const claimed = await ask(await tokenFor(other), LINK, { input: { ...input, band: 'MATCH', score: 1 } });
    expect(claimed.status).toBe(400);
    // A receipt MATCH did not sign is refused by csc, nothing linked, and the attempt audited with what it claimed.
    const [head, , signature] = receipt.split('.');
    const boasting = `${head}.${Buffer.from(JSON.stringify({ band: 'MATCH', score: 0.99, digest: 'x', sub: '9434765870', aud: 'northshire' })).toString('base64url')}.${signature}`;
    const forged = await ask(await tokenFor(other), LINK, { input: { ...input, receipt: boasting } });
    expect(forged.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'receipt', reason: 'RECEIPT_INVALID' });
    expect((await csc.store.prisma.ssd_person.findUniqueOrThrow({ where: { pers_person_id: person.pers_person_id } })).pers_common_child_id).toBeNull();
    expect((await entries()).at(-1)).toMatchObject({ actor: other, nhs_number: '9434765870', outcome: 'ERROR', sources: { action: 'LINK', receipt: { band: 'MATCH', score: 0.99, digest: 'x' } } });
    const reply = await ask(await tokenFor(other), LINK, { input });
    expect(reply.body.errors).toBeUndefined();
    expect(reply.body.data.linkNhsNumber).toEqual({ personId: person.pers_person_id, nhsNumber: '9434765870', linked: true });
    expect((await entries()).at(-1)).toMatchObject({ actor: other, nhs_number: '9434765870', purpose: 'CHILD_IN_NEED_ASSESSMENT', outcome: 'OK', sources: { answered: ['csc'], action: 'LINK', receipt: { band: 'POTENTIAL_MATCH', score: 0.9, digest: recordDigest(person), id: expect.any(String) } } });
    const trail = await ask(await tokenFor('ivy.officer'), `query ($n: NhsNumber!) { auditTrail(nhsNumber: $n) { caseworker action outcome receipt { band score digest } } }`, { n: '9434765870' });
    expect(trail.body.data.auditTrail).toEqual([
      { caseworker: other, action: 'LINK', outcome: 'ERROR', receipt: { band: 'MATCH', score: 0.99, digest: 'x' } },
      { caseworker: other, action: 'LINK', outcome: 'OK', receipt: { band: 'POTENTIAL_MATCH', score: 0.9, digest: recordDigest(person) } },
    ]);
  });

  it('audits a search once for each child it returned, under their NHS number, whatever the caller selected, and adds nothing to the answer', async () => {
    const SEARCH = `query ($i: ChildSearchInput!) { found: findChildren(input: $i, purpose: CHILD_IN_NEED_ASSESSMENT) { givenName familyName } }`;
    const person = await csc.store.prisma.ssd_person.findFirstOrThrow({ where: { pers_common_child_id: allocated.nhs } });
    const input = { familyName: person.pers_surname, dateOfBirth: person.pers_dob!.toISOString().slice(0, 10) };
    const before = (await entries()).length;
    const reply = await ask(await tokenFor(other), SEARCH, { i: input });
    expect(reply.body.errors).toBeUndefined();
    const found = reply.body.data.found as Record<string, unknown>[];
    expect(found.length).toBeGreaterThan(0);
    for (const item of found) expect(Object.keys(item).sort()).toEqual(['familyName', 'givenName']);
    const written = (await entries()).slice(before);
    expect(written).toHaveLength(found.length);
    expect(written.map((e) => e.nhs_number)).toContain(allocated.nhs);
    for (const entry of written) {
      expect(entry).toMatchObject({ actor: other, purpose: 'CHILD_IN_NEED_ASSESSMENT', outcome: 'OK', sources: { action: 'SEARCH', criteria: ['dateOfBirth', 'familyName'], results: found.length } });
      // An entry without an NHS number names the local record instead.
      if (!entry.nhs_number) expect((entry.sources as { personId?: string }).personId).toMatch(/\S/);
    }
    const trail = await ask(await tokenFor('ivy.officer'), `query ($n: NhsNumber!) { auditTrail(nhsNumber: $n) { caseworker action searchedOn } }`, { n: allocated.nhs });
    expect(trail.body.data.auditTrail).toContainEqual({ caseworker: other, action: 'SEARCH', searchedOn: ['dateOfBirth', 'familyName'] });

    // A search that finds nobody is audited once, with no child.
    const nobody = await ask(await tokenFor(other), SEARCH, { i: { familyName: 'Nobody-Of-That-Name', dateOfBirth: '2001-01-01' } });
    expect(nobody.body.data.found).toEqual([]);
    expect((await entries()).at(-1)).toMatchObject({ actor: other, nhs_number: null, outcome: 'OK', sources: { action: 'SEARCH', results: 0 } });

    // The audit's aliases are the router's own.
    const sly = await ask(await tokenFor(other), `query ($i: ChildSearchInput!) { findChildren(input: $i, purpose: EARLY_HELP) { maisAuditNhsNumber: givenName } }`, { i: input });
    expect(sly.status).toBe(400);
    expect(sly.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'findChildren' });
  });

  it('answers a search with at most its limit of records, says when more matched, and audits only those it answered', async () => {
    const person = await csc.store.prisma.ssd_person.findFirstOrThrow({ where: { pers_common_child_id: allocated.nhs } });
    // Three more local records of the same name and date of birth (a family's records typed in again, say).
    for (const n of [1, 2, 3]) {
      await csc.store.prisma.ssd_person.create({ data: { pers_person_id: `LIMIT-${n}`, pers_forename: person.pers_forename, pers_surname: person.pers_surname, pers_dob: person.pers_dob } });
    }
    const input = { givenName: person.pers_forename, familyName: person.pers_surname, dateOfBirth: person.pers_dob!.toISOString().slice(0, 10) };
    const before = (await entries()).length;
    const reply = await ask(await tokenFor(other), `query ($i: ChildSearchInput!) { found: findChildren(input: $i, purpose: CHILD_IN_NEED_ASSESSMENT) { personId } }`, { i: input });
    expect(reply.body.errors).toBeUndefined();
    expect(reply.body.data.found).toHaveLength(SEARCH_LIMIT);
    expect((reply.body as { extensions?: unknown }).extensions).toEqual({ moreResults: { fields: ['found'], limit: SEARCH_LIMIT } });
    expect((await entries()).slice(before)).toHaveLength(SEARCH_LIMIT);
    // A search that matched no more than its limit says nothing of the kind.
    const few = await ask(await tokenFor(other), `query ($i: ChildSearchInput!) { findChildren(input: $i, purpose: CHILD_IN_NEED_ASSESSMENT) { personId } }`, { i: { familyName: 'Nobody-Of-That-Name', dateOfBirth: '2001-01-01' } });
    expect(few.body.data.findChildren).toEqual([]);
    expect((few.body as { extensions?: unknown }).extensions).toBeUndefined();
    await csc.store.prisma.ssd_person.deleteMany({ where: { pers_person_id: { startsWith: 'LIMIT-' } } });
  });

  it('writes one chained entry for each of many concurrent requests, and the chain verifies', async () => {
    const before = (await entries()).length;
    const token = await tokenFor(allocated.username);
    const replies = await Promise.all(Array.from({ length: 12 }, () => ask(token, SUMMARY, { n: allocated.nhs })));
    expect(replies.every((r) => r.status === 200)).toBe(true);
    expect((await entries()).length).toBe(before + 12);
    const { verifyAudit, LA_AUDIT } = await import('../../lib/audit/chain.ts');
    expect(await csc.store.sql.withSession((db) => verifyAudit(db, LA_AUDIT))).toMatchObject({ ok: true });
  });

  it('returns no data when the audit cannot be written', async () => {
    const token = await tokenFor(allocated.username);
    await csc.store.sql.withSession((db) => db.exec('ALTER TABLE la_audit_entry RENAME TO la_audit_entry_away'));
    try {
      const reply = await ask(token, VIEW, { n: allocated.nhs });
      expect(reply.body.data).toBeNull();
      expect(reply.body.errors).toEqual([expect.objectContaining({ extensions: { code: 'SOURCE_UNAVAILABLE', source: 'audit' } })]);
      const search = await ask(token, `query ($i: ChildSearchInput!) { findChildren(input: $i, purpose: EARLY_HELP) { personId } }`, { i: { familyName: 'B', dateOfBirth: '2015-01-01' } });
      expect(search.body.data).toBeNull();
      expect(search.body.errors).toEqual([expect.objectContaining({ extensions: { code: 'SOURCE_UNAVAILABLE', source: 'audit' } })]);
    } finally {
      await csc.store.sql.withSession((db) => db.exec('ALTER TABLE la_audit_entry_away RENAME TO la_audit_entry'));
    }
  });

  it('answers an allocation it holds from memory, and asks the store about any other', async () => {
    let statements = 0;
    const counted = { ...csc.store.sql, withSession: <T>(fn: Parameters<typeof csc.store.sql.withSession<T>>[0]) => (statements++, csc.store.sql.withSession(fn)) };
    const index = new AllocationIndex(counted, 60_000);
    await index.start();
    try {
      expect(statements).toBe(1);
      expect(await index.isAllocated(allocated.username, allocated.nhs)).toBe(true);
      expect(statements).toBe(1);
      expect(await index.isAllocated(other, allocated.nhs)).toBe(false);
      expect(statements).toBe(2);
    } finally {
      index.stop();
    }
  });

  it('stops giving the full view once an allocation ends (at the next reload), and gives it at once to a new one', async () => {
    const token = await tokenFor(allocated.username);
    const decision = async () => {
      await ask(token, SUMMARY, { n: allocated.nhs });
      return (await entries()).at(-1)!.sources.decision;
    };
    const setEnd = (end: string) =>
      csc.store.sql.withSession((db) =>
        db.query(
          `UPDATE ssd_involvements i SET invo_involvement_end_date = ${end} FROM la_user u, ssd_person p
            WHERE i.invo_professional_id = u.prof_professional_id AND p.pers_person_id = i.invo_person_id AND u.username = $1 AND p.pers_common_child_id = $2`,
          [allocated.username, allocated.nhs],
        ),
      );
    expect(await decision()).toBe('FULL');
    await setEnd('current_date - 1');
    try {
      await expect.poll(decision, { timeout: 5000, interval: 200 }).toBe('SUMMARY');
    } finally {
      await setEnd('NULL');
    }
    expect(await decision()).toBe('FULL');
  });
});

/** Practitioners who have asked nothing yet. */
async function quietPractitioners(): Promise<string[]> {
  const actors = new Set((await csc.store.sql.withSession((db) => db.query<{ actor: string }>('SELECT DISTINCT actor FROM la_audit_entry'))).map((r) => r.actor));
  return users.filter((u) => u.roles.includes('csc.practitioner') && !actors.has(u.username)).map((u) => u.username);
}

/**
 * Searches by a caseworker who has made none: the IG officer sees no alert for them until the
 * threshold's search, then one with the count and the window, and never the names searched on.
 */
async function alertsAfterThreshold(base: string, threshold: number, caseworker: string) {
  const post = async (token: string, query: string, variables: Record<string, unknown>) =>
    (await (await fetch(base, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) })).json()) as { data?: any; errors?: any[] };
  const officer = await tokenFor('ivy.officer');
  const today = new Date().toISOString().slice(0, 10);
  const ALERTS = `query ($d: Date!) { igAlerts(from: $d, to: $d) { kind caseworker roles count threshold windowStart windowEnd at } }`;
  const mine = async () => ((await post(officer, ALERTS, { d: today })).data?.igAlerts as { caseworker: string }[]).filter((a) => a.caseworker === caseworker);
  const token = await tokenFor(caseworker);
  const names = ['Thaddeus-Unlikely', 'Ottoline-Rare', 'Perpetua-Seldom', 'Barnaby-Unheard', 'Clementine-Nowhere'];
  // Both searches count, wherever they are written (here one inside a fragment).
  const searches = names.slice(0, threshold + 1).map((familyName, i) => ({
    query: i % 2 === 0 ? `query ($i: ChildSearchInput!) { findChildren(input: $i, purpose: CHILD_IN_NEED_ASSESSMENT) { personId } }` : `query ($i: ChildSearchInput!) { ... on Query { findChildren(input: $i, purpose: EARLY_HELP) { personId } } }`,
    variables: { i: { familyName, dateOfBirth: '2015-03-0' + (i + 1) } },
  }));
  for (const [i, search] of searches.entries()) {
    const reply = await post(token, search.query, search.variables);
    expect(reply.errors).toBeUndefined();
    const alerts = await mine();
    if (i + 1 < threshold) {
      expect(alerts).toEqual([]);
      continue;
    }
    expect(alerts).toEqual([{ kind: 'SEARCH_VOLUME', caseworker, roles: expect.any(Array), count: i + 1, threshold, windowStart: expect.any(String), windowEnd: expect.any(String), at: expect.any(String) }]);
    const [alert] = alerts as unknown as { windowStart: string; windowEnd: string }[];
    expect(new Date(alert!.windowEnd).getTime() - new Date(alert!.windowStart).getTime()).toBeGreaterThanOrEqual(3599_000);
  }
  const everything = JSON.stringify(await post(officer, ALERTS, { d: today }));
  for (const name of names) expect(everything).not.toContain(name);
  // For IG officers only.
  const refused = await post(token, ALERTS, { d: today });
  expect(refused.data).toBeNull();
  expect(refused.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'igAlerts' });
}

describe('search volume', () => {
  it('alerts the IG officer when a caseworker’s searches reach the threshold within the window, not before, and counts them in the metrics', async () => {
    await alertsAfterThreshold(url, ALERT_THRESHOLD, (await quietPractitioners())[0]!);
    const metrics = await readMetrics(url.replace('/graphql', '/metrics'));
    expect(metrics).toMatch(/mais_router_lookups_total\{action="SEARCH"\} [1-9]\d*/);
    expect(metrics).toMatch(/mais_router_ig_alerts_total\{kind="SEARCH_VOLUME"\} [1-9]\d*/);
  });
});

describe('requests without a valid token', () => {
  const LIMIT = 5;
  let limited: Router;
  let limitedUrl: string;
  let forgedToken: string;

  beforeAll(async () => {
    const config = parseRouterConfig({
      la: 'northshire', port: 0, mode: 'production', database: {},
      subgraphs: [{ name: 'csc', url: `${proxy.url}/graphql`, kind: 'la' }],
      oidc: { issuer, audience: AUDIENCE },
      unauthenticatedRateLimitPerMinute: LIMIT,
      // The test's requests arrive as a load balancer's would, naming their client in X-Forwarded-For.
      trustedProxies: ['loopback'],
    });
    limited = await createRouter({ config, internalToken: csc.signer, dfeCredential: null, store: csc.store });
    limitedUrl = `${await serveOnLoopback(limited.server)}/graphql`;
    // Signed as the identity provider would, but with a key it never had.
    forgedToken = await forged({ iss: issuer, aud: AUDIENCE, iat: now(), exp: now() + 300 }, await newKey('idp-1'));
  });
  afterAll(async () => {
    await limited?.stop();
  });

  const send = (forwardedFor: string, authorization: string | undefined) =>
    fetch(limitedUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor, ...(authorization === undefined ? {} : { authorization }) }, body: JSON.stringify({ query: '{ __typename }' }) });

  it('answers 429 with Retry-After past the limit per client address, never to a valid token, and counts the address the trusted proxy saw', async () => {
    const valid = await tokenFor('olivia.bailey');
    let run = 0;
    const bad = fc.oneof(fc.constant(undefined), fc.string({ maxLength: 40 }), fc.string({ minLength: 1, maxLength: 40 }).map((t) => `Bearer ${t}`), fc.constant(`Bearer ${forgedToken}`), fc.constant(`Basic ${valid}`));
    const step = fc.record({ client: fc.nat({ max: 2 }), spoofed: fc.option(fc.ipV4(), { nil: undefined }), valid: fc.nat({ max: 4 }).map((n) => n === 0), authorization: bad });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 3 * (LIMIT + 3) }), async (steps) => {
        // Fresh addresses each run, so each starts with a whole allowance.
        run += 1;
        const counted = new Map<number, number>();
        for (const { client, spoofed, valid: isValid, authorization } of steps) {
          const address = `10.${run}.0.${client + 1}`;
          // Whatever a client puts first in X-Forwarded-For, the address the trusted proxy appended is the one counted.
          const response = await send(spoofed ? `${spoofed}, ${address}` : address, isValid ? `Bearer ${valid}` : authorization);
          const body = (await response.json()) as { errors?: { extensions: { code: string } }[] };
          if (isValid) {
            expect(response.status).toBe(200);
            continue;
          }
          const spent = counted.get(client) ?? 0;
          counted.set(client, spent + 1);
          if (spent < LIMIT) {
            expect(response.status).toBe(401);
            expect(body.errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
          } else {
            expect(response.status).toBe(429);
            expect(body.errors?.[0]?.extensions.code).toBe('RATE_LIMITED');
            expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
          }
        }
      }),
      { numRuns: 25, seed: 32 },
    );
  }, 120_000);

  it('believes X-Forwarded-For only from a trusted proxy: without one, every request counts against the connection’s own address', async () => {
    // A router that trusts no proxy: changing X-Forwarded-For does not give a client a new allowance.
    const config = parseRouterConfig({ la: 'northshire', port: 0, mode: 'development', database: {}, subgraphs: [{ name: 'csc', url: `${proxy.url}/graphql`, kind: 'la' }], oidc: { issuer, audience: AUDIENCE }, unauthenticatedRateLimitPerMinute: LIMIT });
    const direct = await createRouter({ config, internalToken: csc.signer, dfeCredential: null, store: csc.store });
    const directUrl = `${await serveOnLoopback(direct.server)}/graphql`;
    const statuses: number[] = [];
    try {
      for (const forwardedFor of fc.sample(fc.ipV4(), { numRuns: LIMIT + 5, seed: 32 })) {
        const response = await fetch(directUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor, authorization: 'Bearer not-a-token' }, body: JSON.stringify({ query: '{ __typename }' }) });
        statuses.push(response.status);
      }
      // The loopback address is spent; a caseworker with a valid token there is still answered.
      const valid = await fetch(directUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokenFor('olivia.bailey')}` }, body: JSON.stringify({ query: '{ __typename }' }) });
      expect(valid.status).toBe(200);
    } finally {
      await direct.stop();
    }
    expect(statuses).toEqual([...Array(LIMIT).fill(401), ...Array(5).fill(429)]);
  });

  it('refuses a trusted-proxy list that is not addresses or ranges', () => {
    for (const wrong of [['10.0.0.0/33'], ['proxy.example'], [''], ['300.1.1.1']]) {
      expect(() => parseRouterConfig({ la: 'northshire', port: 0, mode: 'insecure-dev', trustedProxies: wrong })).toThrow(/trustedProxies/);
    }
  });
});

describe('withdrawn accounts', () => {
  let withdrawing: Router;
  let withdrawingUrl: string;

  beforeAll(async () => {
    const config = parseRouterConfig({ la: 'northshire', port: 0, mode: 'production', database: {}, subgraphs: [{ name: 'csc', url: `${proxy.url}/graphql`, kind: 'la' }], oidc: { issuer, audience: AUDIENCE }, userRefreshSeconds: 1 });
    withdrawing = await createRouter({ config, internalToken: csc.signer, dfeCredential: null, store: csc.store });
    withdrawingUrl = `${await serveOnLoopback(withdrawing.server)}/graphql`;
  });
  afterAll(async () => {
    await withdrawing?.stop();
  });

  const askAs = async (token: string) => {
    const response = await fetch(withdrawingUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: QUERY, variables: { n: '9434765919' } }) });
    return { status: response.status, body: (await response.json()) as { errors?: { extensions: { code: string; reason?: string } }[] } };
  };
  const refusals = async (username: string) =>
    Number((await csc.store.sql.withSession((db) => db.query<{ n: string }>(`SELECT count(*) AS n FROM la_audit_entry WHERE actor = $1 AND outcome = 'DENIED' AND sources->>'rule' = 'ACCOUNT_WITHDRAWN'`, [username])))[0]!.n);

  it('refuses an account disabled or removed from the LA’s user list from the next refresh, whatever its token’s lifetime, audits each refusal, and lets it back at once when restored', async () => {
    const accounts = users.filter((u) => u.roles.includes('csc.practitioner')).slice(0, 3);
    const tokens = new Map(await Promise.all(accounts.map(async (u) => [u.username, await tokenFor(u.username)] as const)));
    const rows = new Map((await csc.store.prisma.la_user.findMany({ where: { username: { in: accounts.map((u) => u.username) } } })).map((row) => [row.username, row]));
    // What the LA's administrator does to an account, in any order.
    const change = fc.record({ account: fc.nat({ max: accounts.length - 1 }), action: fc.constantFrom('disable', 'enable', 'remove', 'restore') });
    await fc.assert(
      fc.asyncProperty(fc.array(change, { minLength: 1, maxLength: 4 }), async (changes) => {
        const active = new Map(accounts.map((u) => [u.username, true]));
        for (const { account, action } of changes) {
          const { username } = accounts[account]!;
          if (action === 'disable') await csc.store.prisma.la_user.updateMany({ where: { username }, data: { disabled_at: new Date() } });
          if (action === 'enable') await csc.store.prisma.la_user.updateMany({ where: { username }, data: { disabled_at: null } });
          if (action === 'remove') await csc.store.prisma.la_user.deleteMany({ where: { username } });
          if (action === 'restore') await csc.store.prisma.la_user.upsert({ where: { username }, create: { ...rows.get(username)!, disabled_at: null }, update: { disabled_at: null } });
          const exists = (await csc.store.prisma.la_user.findUnique({ where: { username } })) !== null;
          const enabled = exists && (await csc.store.prisma.la_user.findUnique({ where: { username } }))!.disabled_at === null;
          active.set(username, enabled);
          const token = tokens.get(username)!;
          if (enabled) {
            // Restored: answered at once, as the account is asked of the store when it is not held.
            expect((await askAs(token)).status).toBe(200);
          } else {
            const before = await refusals(username);
            // Refused within the refresh (1 s here), though the token is good for an hour.
            await expect.poll(async () => (await askAs(token)).status, { timeout: 2500, interval: 100 }).toBe(401);
            const refused = await askAs(token);
            expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'ACCOUNT_WITHDRAWN' });
            expect(await refusals(username)).toBeGreaterThan(before);
          }
        }
        // Every account the run left active is still answered; the others are not.
        for (const [username, enabled] of active) expect((await askAs(tokens.get(username)!)).status).toBe(enabled ? 200 : 401);
        for (const { username } of accounts) await csc.store.prisma.la_user.upsert({ where: { username }, create: { ...rows.get(username)!, disabled_at: null }, update: { disabled_at: null } });
      }),
      { numRuns: 4, seed: 32 },
    );
  }, 120_000);
});

describe('operations', () => {
  it('serves /metrics only to the operator: the token on the public listener, nothing without configuration, in production and development', async () => {
    const at = url.replace('/graphql', '/metrics');
    // Whatever a caller sends that is not the token: nothing, other schemes, other tokens, near misses.
    const near = fc.nat({ max: METRICS_TOKEN.length - 1 }).chain((i) => fc.string({ minLength: 1, maxLength: 1, unit: 'binary-ascii' }).filter((c) => c !== METRICS_TOKEN[i]).map((c) => `${METRICS_TOKEN.slice(0, i)}${c}${METRICS_TOKEN.slice(i + 1)}`));
    const header = fc.oneof(
      fc.constant(undefined),
      fc.string({ maxLength: 80 }),
      fc.string({ minLength: 1, maxLength: 80 }).map((t) => `Bearer ${t}`),
      near.map((t) => `Bearer ${t}`),
      fc.constantFrom(`Basic ${METRICS_TOKEN}`, `Bearer ${METRICS_TOKEN.slice(0, -1)}`, `Bearer ${METRICS_TOKEN}x`, `Bearer  ${METRICS_TOKEN}`, METRICS_TOKEN, `Bearer ${await tokenFor('olivia.bailey')}`),
    );
    await fc.assert(
      fc.asyncProperty(header, async (authorization) => {
        const response = await fetch(at, { headers: authorization === undefined ? {} : { authorization } }).catch(() => null);
        // A header fetch itself will not send is no request at all.
        if (response === null) return;
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
        const body = await response.text();
        expect(body).not.toContain('mais_router');
        expect(JSON.parse(body).errors[0].extensions.code).toBe('UNAUTHENTICATED');
      }),
      { numRuns: 150, seed: 32 },
    );
    expect(await readMetrics(at)).toMatch(/^# HELP mais_router_/m);
    // A router given neither a token nor a listener serves no metrics, to anyone, in any mode.
    for (const mode of ['production', 'development'] as const) {
      const config = parseRouterConfig({ la: 'northshire', port: 0, mode, database: {}, subgraphs: [{ name: 'csc', url: `${proxy.url}/graphql`, kind: 'la' }], oidc: { issuer, audience: AUDIENCE } });
      const bare = await createRouter({ config, internalToken: csc.signer, dfeCredential: null, store: csc.store });
      try {
        const base = await serveOnLoopback(bare.server);
        for (const headers of [{}, { authorization: `Bearer ${METRICS_TOKEN}` }] as Record<string, string>[]) {
          const response = await fetch(`${base}/metrics`, { headers });
          expect(response.status).toBe(404);
          expect(await response.text()).not.toContain('mais_router');
        }
        expect(bare.metrics.address).toBeNull();
      } finally {
        await bare.stop();
      }
    }
  }, 60_000);

  it('exposes Prometheus metrics and logs one JSON line per request, with no child or caseworker in either', async () => {
    await ask(await tokenFor('olivia.bailey'), QUERY);
    const metrics = await readMetrics(url.replace('/graphql', '/metrics'));
    expect(metrics).toMatch(/mais_router_requests_total\{operation="anonymous",outcome="\w+"\} \d+/);
    expect(metrics).toMatch(/mais_router_subgraph_seconds_count\{subgraph="csc",outcome="ok"\} \d+/);
    expect(metrics).toMatch(/mais_router_audit_writes_total\{result="ok"\} \d+/);
    expect(metrics).toMatch(/mais_router_errors_total\{code="FORBIDDEN"\} \d+/);
    expect(logLines.length).toBeGreaterThan(10);
    const line = JSON.parse(logLines.at(-1)!) as Record<string, unknown>;
    expect(line).toMatchObject({ msg: 'request', operation: 'anonymous', traceId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    const everything = `${metrics}\n${logLines.join('\n')}`;
    const children = new Set((await csc.store.prisma.ssd_person.findMany({ select: { pers_common_child_id: true } })).map((p) => p.pers_common_child_id));
    children.add('9434765919');
    expect((everything.match(/\b\d{10}\b/g) ?? []).filter((digits) => children.has(digits))).toEqual([]);
    for (const user of users) expect(everything).not.toContain(user.username);
  });
});

describe('what leaves the LA', () => {
  it('turns off @apollo/gateway’s instance reports to Apollo for every gateway in the process', () => {
    // Set when the router is created (beforeAll above): @apollo/gateway reads it as each gateway starts.
    expect(process.env.APOLLO_TELEMETRY_DISABLED).toBe('true');
  });
});

describe('production hardening', () => {
  const post = (target: string, body: string, headers: Record<string, string>) => fetch(target, { method: 'POST', headers, body });

  it('refuses introspection, field suggestions and simple cross-site requests', async () => {
    const token = await tokenFor('olivia.bailey');
    const introspection = await ask(token, '{ __schema { types { name } } }', {});
    expect(introspection.body.errors?.[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(JSON.stringify(introspection.body)).not.toMatch(/SocialCareRecord/);
    const typo = await ask(token, 'query ($n: NhsNumber!) { child(nhsNumber: $n, purpose: EARLY_HELP) { socialCar { personId } } }');
    expect(typo.body.errors?.[0].message).not.toMatch(/Did you mean/);
    const csrf = await post(url, JSON.stringify({ query: '{ __typename }' }), { 'content-type': 'text/plain', authorization: `Bearer ${token}` });
    expect(csrf.status).toBe(400);
  });

  it('refuses an alias bomb before anything is fetched', async () => {
    const seen = proxy.seen.length;
    const aliases = Array.from({ length: 40 }, (_, i) => `a${i}: nhsNumber`).join(' ');
    const reply = await ask(await tokenFor('olivia.bailey'), `query ($n: NhsNumber!) { child(nhsNumber: $n, purpose: EARLY_HELP) { ${aliases} } }`);
    expect(reply.body.errors?.[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(reply.body.errors?.[0].message).toMatch(/alias/i);
    expect(proxy.seen.length).toBe(seen);
  });

  it('answers a syntax error, and an operation over the token limit, 400 GRAPHQL_PARSE_FAILED (not a 500)', async () => {
    const token = await tokenFor('olivia.bailey');
    for (const query of ['query { child(', `{ ${Array.from({ length: 1500 }, (_, i) => `a${i}: __typename`).join(' ')} }`]) {
      const reply = await ask(token, query);
      expect(reply.status).toBe(400);
      expect(reply.body.errors?.[0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');
    }
  });

  it('refuses text holding U+0000 (which no PostgreSQL text takes) as BAD_USER_INPUT, in the document or in variables', async () => {
    const token = await tokenFor('olivia.bailey');
    const inDocument = await ask(token, 'query ($n: NhsNumber!) { child(nhsNumber: $n, purpose: EARLY_HELP, breakGlassReason: "a reason long enough \\u0000 to be read") { nhsNumber } }');
    const inVariables = await ask(token, 'query ($n: NhsNumber!, $why: String) { child(nhsNumber: $n, purpose: EARLY_HELP, breakGlassReason: $why) { nhsNumber } }', { n: '9434765919', why: 'a reason long enough \u0000 to be read' });
    for (const reply of [inDocument, inVariables]) {
      expect(reply.status).toBe(400);
      expect(reply.body.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    }
  });

  it('answers generated bad requests with stable codes only: no 5xx but a bare INTERNAL_SERVER_ERROR, no stack trace, nothing of the store', async () => {
    const { fuzz, graphqlCases, judgeGraphql, schemaShape } = await import('../../bench/fuzz.ts');
    const { cscSdl } = await import('../../subgraphs/csc/sdl.ts');
    const { routerSdl } = await import('../../la-router/local-subgraph.ts');
    const nhsNumbers = (await csc.store.prisma.ssd_person.findMany({ where: { pers_common_child_id: { not: null } }, take: 5 })).map((p) => p.pers_common_child_id!);
    const router = await fuzz('router', url, { authorization: `Bearer ${await tokenFor('olivia.bailey')}` }, graphqlCases(schemaShape(`${routerSdl}\n${cscSdl}`), { seed: 7, count: 250, nhsNumbers }), judgeGraphql);
    // Each case with a token of its own, as the router sends them (each used once, bound to a child).
    const subgraph = await fuzz('csc subgraph', csc.url, async () => ({ authorization: `Bearer ${await csc.token('FULL', undefined, nhsNumbers[0])}` }), graphqlCases(schemaShape(cscSdl, { subgraph: true }), { seed: 8, count: 250, nhsNumbers }), judgeGraphql);
    for (const report of [router, subgraph]) {
      expect(report.problems, report.target).toEqual([]);
      expect(report.tried).toBe(250);
      // Every bad input here is refused by name: none reaches a resolver that fails with INTERNAL_SERVER_ERROR.
      expect(report.internalErrors, report.target).toEqual([]);
      // The cases reach past parsing: some are refused by validation, some by the scalars, some answered.
      expect(Object.keys(report.codes)).toEqual(expect.arrayContaining(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST']));
    }
    expect(Object.keys(router.codes)).toEqual(expect.arrayContaining(['UNAUTHENTICATED', 'INVALID_NHS_NUMBER']));
    expect((await fetch(url.replace(/\/graphql$/, '/health'))).status).toBe(200);
  }, 120_000);

  describe('a router locked to its portal’s operations, with tight limits', () => {
    let locked: Router;
    let lockedUrl: string;
    const TRUSTED = 'query ($n: NhsNumber!) { child(nhsNumber: $n, purpose: CHILD_IN_NEED_ASSESSMENT) { nhsNumber } }';

    beforeAll(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'mais-trusted-'));
      const manifest = join(dir, 'manifest.json');
      // Apollo's persisted query manifest, as @apollo/generate-persisted-query-manifest writes it.
      writeFileSync(manifest, JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: documentHash(TRUSTED), name: 'childSummary', type: 'query', body: TRUSTED }] }));
      const config = parseRouterConfig({
        la: 'northshire', port: 0, mode: 'production', database: {},
        subgraphs: [{ name: 'csc', url: `${proxy.url}/graphql`, kind: 'la' }],
        oidc: { issuer, audience: AUDIENCE },
        trustedDocuments: manifest, rateLimitPerMinute: 4, limits: { depth: 3 },
      });
      locked = await createRouter({ config, internalToken: csc.signer, dfeCredential: null, store: csc.store });
      lockedUrl = `${await serveOnLoopback(locked.server)}/graphql`;
    });
    afterAll(async () => {
      await locked?.stop();
    });

    const askLocked = async (token: string, query: string) => {
      const response = await post(lockedUrl, JSON.stringify({ query, variables: { n: '9434765919' } }), { 'content-type': 'application/json', authorization: `Bearer ${token}` });
      return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as { data?: any; errors?: any[] } };
    };

    it('runs only the operations in its manifest, refuses deep ones, and rate-limits each caseworker', async () => {
      const token = await tokenFor('olivia.bailey');
      // By id alone, as the portal sends them; an id the manifest does not hold is not found.
      const byId = async (id: string) => {
        const response = await post(lockedUrl, JSON.stringify({ variables: { n: '9434765919' }, extensions: { persistedQuery: { version: 1, sha256Hash: id } } }), { 'content-type': 'application/json', authorization: `Bearer ${token}` });
        return (await response.json()) as { data?: any; errors?: any[] };
      };
      expect((await byId(documentHash(TRUSTED))).data.child.nhsNumber).toBe('9434765919');
      expect((await byId(documentHash('query { other }'))).errors?.[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
      const other = await askLocked(token, 'query ($n: NhsNumber!) { child(nhsNumber: $n, purpose: CHILD_IN_NEED_ASSESSMENT) { nhsNumber socialCare { personId } } }');
      expect(other.status).toBe(403);
      expect(other.body.errors?.[0].extensions.code).toBe('FORBIDDEN');
      const deep = await askLocked(token, 'query ($n: NhsNumber!) { child(nhsNumber: $n, purpose: EARLY_HELP) { socialCare { status { openCase } } } }');
      expect(deep.body.errors?.[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
      const limited = await askLocked(token, TRUSTED);
      expect(limited.status).toBe(429);
      expect(limited.body.errors?.[0].extensions.code).toBe('RATE_LIMITED');
      expect(Number(limited.retryAfter)).toBeGreaterThan(0);
    });
  });
});

describe('development mode', () => {
  let dev: Router;
  let devBase: string;

  beforeAll(async () => {
    const config = parseRouterConfig({
      la: 'northshire', port: 0, mode: 'development', database: {},
      subgraphs: [{ name: 'csc', url: `${proxy.url}/graphql`, kind: 'la' }],
      oidc: { issuer, audience: AUDIENCE },
      searchAlerts: { threshold: 2 },
    });
    dev = await createRouter({ config, internalToken: csc.signer, dfeCredential: null, store: csc.store });
    devBase = await serveOnLoopback(dev.server);
  });
  afterAll(async () => {
    await dev?.stop();
  });

  it('serves GraphiQL from the installed packages, with the single-view example, and nothing from elsewhere', async () => {
    const page = await fetch(`${devBase}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(sources).toHaveLength(5);
    for (const source of sources) {
      expect(source).toMatch(/^\/graphiql\//);
      const asset = await fetch(`${devBase}${source}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(source.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
      expect((await asset.text()).length).toBeGreaterThan(source.endsWith('start.js') ? 100 : 10_000);
    }
    const start = await (await fetch(`${devBase}/graphiql/start.js`)).text();
    expect(start).toContain(JSON.stringify(EXAMPLE_QUERY));
    expect((await fetch(`${devBase}/graphiql/constructor`)).status).toBe(404);
    expect((await fetch(`${devBase}/graphiql/../package.json`)).status).toBe(404);
  });

  it('answers introspection for a signed-in developer, and nobody else', async () => {
    const introspect = (token?: string) =>
      fetch(`${devBase}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify({ query: '{ __schema { queryType { name } } }' }) });
    expect((await introspect()).status).toBe(401);
    const reply = (await (await introspect(await tokenFor('olivia.bailey'))).json()) as { data: { __schema: { queryType: { name: string } } } };
    expect(reply.data.__schema.queryType.name).toBe('Query');
  });

  it('alerts the IG officer on search volume as production does', async () => {
    await alertsAfterThreshold(`${devBase}/graphql`, 2, (await quietPractitioners())[1]!);
  });

  it('is not served in production', async () => {
    const page = await fetch(url, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toMatch(/graphiql/i);
    expect((await fetch(url.replace(/\/graphql$/, '/graphiql/graphiql.min.js'))).status).toBe(404);
  });
});

describe('the sharing endpoint, for DfE’s relay', () => {
  let sharing: Router;
  let shareUrl: string;
  let dfeKey: JWK;
  let jwksServer: Server;
  let agreementPath: string;
  let jwksUrl: string;
  const DFE_ISSUER = 'https://dfe.example';
  const SHARE = 'query ($n: NhsNumber!) { sharedSummary(nhsNumber: $n) { custodian openCase childProtectionPlan cpCategory lookedAfter allocatedTeam } }';
  let child: string;

  /** A relay token as DfE's relay signs one. */
  const relayToken = async (claims: Record<string, unknown> = {}, key: JWK = dfeKey) =>
    new SignJWT({ requester: 'southshire', requester_type: 'LA', purpose: 'CHILD_PROTECTION_ENQUIRY', child: relayChildDigest(child), jti: randomUUID(), ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid!, typ: 'mais-relay+jwt' })
      .setIssuer(DFE_ISSUER)
      .setAudience((claims.aud as string) ?? 'mais:la:northshire')
      .setIssuedAt()
      .setExpirationTime('60s')
      .sign(await importJWK(key, 'ES256'));

  const share = async (token: string | null, query = SHARE, variables: Record<string, unknown> = { n: child }) => {
    const response = await fetch(shareUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify({ query, variables }) });
    return { status: response.status, body: (await response.json()) as { data?: any; errors?: any[] } };
  };
  const lastEntry = async () => (await csc.store.sql.withSession((db) => db.query<{ actor: string; roles: string[]; purpose: string; nhs_number: string; outcome: string; sources: { decision: string; rule?: string } }>('SELECT * FROM la_audit_entry ORDER BY seq DESC LIMIT 1')))[0]!;

  beforeAll(async () => {
    dfeKey = await newKey('dfe-relay-1');
    const { d: _d, ...publicKey } = dfeKey;
    jwksServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicKey] })));
    jwksUrl = `${await serveOnLoopback(jwksServer)}/.well-known/jwks.json`;
    agreementPath = join(mkdtempSync(join(tmpdir(), 'mais-share-')), 'agreement.json');
    writeFileSync(agreementPath, JSON.stringify(sandboxAgreement('northshire')));
    const config = parseRouterConfig({
      la: 'northshire', port: 0, mode: 'production', database: {},
      subgraphs: [{ name: 'csc', url: `${proxy.url}/graphql`, kind: 'la' }],
      oidc: { issuer, audience: AUDIENCE },
      sharing: { agreement: agreementPath, dfeIssuer: DFE_ISSUER, dfeJwks: jwksUrl },
    });
    sharing = await createRouter({ config, internalToken: csc.signer, dfeCredential: null, store: csc.store });
    shareUrl = `${await serveOnLoopback(sharing.server)}/share/graphql`;
    const [row] = await csc.store.sql.withSession((db) =>
      db.query<{ nhs: string }>(`SELECT p.pers_common_child_id AS nhs FROM ssd_person p JOIN ssd_involvements i ON i.invo_person_id = p.pers_person_id
        WHERE i.invo_involvement_end_date IS NULL AND i.invo_professional_role_id = 'Allocated Social Worker' AND p.pers_common_child_id IS NOT NULL LIMIT 1`),
    );
    child = row!.nhs;
  });
  afterAll(async () => {
    await sharing?.stop();
    jwksServer?.close();
  });

  it('answers only a DfE relay token for this LA: none, a caseworker’s, another LA’s or one not signed by DfE gets 401', async () => {
    const notDfe = await newKey('dfe-relay-1');
    for (const token of [null, await tokenFor('olivia.bailey'), await relayToken({ aud: 'mais:la:southshire' }), await relayToken({}, notDfe)]) {
      const reply = await share(token);
      expect(reply.status).toBe(401);
      expect(reply.body.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    }
  });

  it('shares the summary its agreement allows, and audits the requesting organisation as the reader', async () => {
    const reply = await share(await relayToken());
    expect(reply.body.errors).toBeUndefined();
    expect(reply.body.data.sharedSummary).toMatchObject({ custodian: 'northshire', openCase: true, allocatedTeam: expect.any(String) });
    expect(await lastEntry()).toMatchObject({ actor: 'org:southshire', roles: ['relay'], purpose: 'CHILD_PROTECTION_ENQUIRY', nhs_number: child, outcome: 'OK', sources: { decision: 'FULL' } });
  });

  it('checks its own agreement again: a purpose it does not share for, or a revocation written to its file, is refused and audited', async () => {
    const early = await share(await relayToken({ purpose: 'EARLY_HELP' }));
    expect(early.body.data.sharedSummary).toBeNull();
    expect(early.body.errors?.[0].extensions.code).toBe('FORBIDDEN');
    expect(await lastEntry()).toMatchObject({ actor: 'org:southshire', outcome: 'DENIED', sources: { decision: 'NONE', rule: 'no-rule' } });
    writeFileSync(agreementPath, JSON.stringify({ ...sandboxAgreement('northshire'), version: 2, revocations: [{ destination: 'southshire', from: '2020-01-01T00:00:00Z', reason: 'agreement under review' }] }));
    const revoked = await share(await relayToken());
    expect(revoked.body.data.sharedSummary).toBeNull();
    expect(revoked.body.errors?.[0].extensions.code).toBe('FORBIDDEN');
    expect(await lastEntry()).toMatchObject({ outcome: 'DENIED', sources: { rule: 'revoked' } });
    writeFileSync(agreementPath, JSON.stringify(sandboxAgreement('northshire')));
  });

  it('takes each relay token once, at any replica, for the one child it names, and answers one summary a request', async () => {
    const token = await relayToken();
    expect((await share(token)).body.data.sharedSummary).toMatchObject({ custodian: 'northshire' });
    const again = await share(token);
    expect(again.status).toBe(401);
    expect(again.body.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    // Another replica over the same store knows it too.
    const config = parseRouterConfig({ la: 'northshire', port: 0, mode: 'production', database: {}, subgraphs: [{ name: 'csc', url: `${proxy.url}/graphql`, kind: 'la' }], oidc: { issuer, audience: AUDIENCE }, sharing: { agreement: agreementPath, dfeIssuer: DFE_ISSUER, dfeJwks: jwksUrl } });
    const replica = await createRouter({ config, internalToken: csc.signer, dfeCredential: null, store: csc.store });
    try {
      const replicaUrl = `${await serveOnLoopback(replica.server)}/share/graphql`;
      const fresh = await relayToken();
      expect((await fetch(shareUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${fresh}` }, body: JSON.stringify({ query: SHARE, variables: { n: child } }) })).status).toBe(200);
      expect((await fetch(replicaUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${fresh}` }, body: JSON.stringify({ query: SHARE, variables: { n: child } }) })).status).toBe(401);
    } finally {
      await replica.stop();
    }
    // No child named, or not a token for one request: refused.
    for (const claims of [{ child: undefined }, { jti: undefined }]) expect((await share(await relayToken(claims))).status).toBe(401);
    // Generated requests: several summaries, for the bound child and others, in one request.
    const others = (await csc.store.sql.withSession((db) => db.query<{ nhs: string }>(`SELECT pers_common_child_id AS nhs FROM ssd_person WHERE pers_common_child_id IS NOT NULL AND pers_common_child_id <> $1 LIMIT 3`, [child]))).map((r) => r.nhs);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(child, ...others), { minLength: 1, maxLength: 4 }), async (asked) => {
        const query = `{ ${asked.map((n, i) => `s${i}: sharedSummary(nhsNumber: "${n}") { custodian }`).join(' ')} }`;
        const before = Number((await csc.store.sql.withSession((db) => db.query<{ n: string }>(`SELECT count(*) AS n FROM la_audit_entry WHERE actor = 'org:southshire' AND outcome = 'OK'`)))[0]!.n);
        const reply = await share(await relayToken(), query, {});
        const answered = Object.values(reply.body.data ?? {}).filter((v) => v !== null);
        // At most one summary, and only of the child the token names.
        expect(answered.length).toBeLessThanOrEqual(1);
        if (answered.length === 1) expect(asked.filter((n) => n === child).length).toBeGreaterThan(0);
        const after = Number((await csc.store.sql.withSession((db) => db.query<{ n: string }>(`SELECT count(*) AS n FROM la_audit_entry WHERE actor = 'org:southshire' AND outcome = 'OK'`)))[0]!.n);
        expect(after - before).toBeLessThanOrEqual(1);
      }),
      { numRuns: 25, seed: 32 },
    );
  });

  it('runs nothing but its own schema', async () => {
    const reply = await share(await relayToken(), '{ child(nhsNumber: "9434765919", purpose: CHILD_PROTECTION_ENQUIRY) { nhsNumber } }');
    expect(reply.body.errors?.[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(reply.body.data).toBeUndefined();
  });
});

describe('bounded labels', () => {
  // A router whose trusted documents name one operation, and whose caseworker limit callers never reach.
  const TRUSTED = 'query ChildSummary($n: NhsNumber!) { child(nhsNumber: $n, purpose: CHILD_IN_NEED_ASSESSMENT) { nhsNumber } }';
  let named: Router;
  let namedUrl: string;
  const namedLog: string[] = [];

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mais-trusted-'));
    const manifest = join(dir, 'manifest.json');
    writeFileSync(manifest, JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: documentHash(TRUSTED), name: 'ChildSummary', type: 'query', body: TRUSTED }] }));
    const config = parseRouterConfig({ la: 'northshire', port: 0, mode: 'production', database: {}, subgraphs: [{ name: 'csc', url: `${proxy.url}/graphql`, kind: 'la' }], oidc: { issuer, audience: AUDIENCE }, trustedDocuments: manifest, rateLimitPerMinute: 1_000_000 });
    const logStream = new Writable({ write: (chunk, _encoding, done) => (namedLog.push(...String(chunk).trim().split('\n')), done()) });
    // Metrics on a listener of the operator's choosing, which also asks for the token.
    named = await createRouter({ config, internalToken: csc.signer, dfeCredential: null, store: csc.store, logger: pino(logStream), metrics: { token: METRICS_TOKEN, listen: { host: '127.0.0.1', port: 0 } } });
    namedUrl = `${await serveOnLoopback(named.server)}/graphql`;
  });
  afterAll(async () => {
    await named?.stop();
  });

  it('labels operations and logs them only by trusted documents’ names, however many names callers invent', async () => {
    const token = await tokenFor('olivia.bailey');
    const send = (body: unknown) => fetch(namedUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) }).then((r) => r.arrayBuffer());
    await send({ query: TRUSTED, operationName: 'ChildSummary', variables: { n: '9434765919' } });
    // Names callers choose: identifiers of every shape, an NHS number among them.
    const invented = [...new Set([...fc.sample(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,60}$/), { numRuns: 3000, seed: 7 }), 'Child_9434765919_XXXX'])];
    for (let i = 0; i < invented.length; i += 50) {
      await Promise.all(invented.slice(i, i + 50).map((name) => send({ query: `query ${name} { __typename }`, operationName: name })));
    }
    expect((await fetch(namedUrl.replace('/graphql', '/metrics'))).status).toBe(404);
    const metrics = await readMetrics(`http://127.0.0.1:${named.metrics.address!.port}/metrics`);
    const series = metrics.split('\n').filter((line) => /^mais_router_(requests_total|request_seconds_count)\{/.test(line));
    const labels = new Set(series.map((line) => /operation="([^"]*)"/.exec(line)?.[1]));
    // The trusted name, and `other` (or `anonymous`) for everything else: a handful of series, not thousands.
    expect(labels.has('ChildSummary')).toBe(true);
    expect([...labels].every((l) => ['ChildSummary', 'other', 'anonymous'].includes(String(l)))).toBe(true);
    expect(series.length).toBeLessThanOrEqual(12);
    const logged = new Set(namedLog.map((line) => (JSON.parse(line) as { operation?: string }).operation).filter(Boolean));
    expect([...logged].every((l) => ['ChildSummary', 'other', 'anonymous'].includes(String(l)))).toBe(true);
    const text = `${metrics}\n${namedLog.join('\n')}`;
    for (const name of invented.filter((n) => n.length >= 6)) expect(text).not.toContain(`"${name}"`);
    expect(text).not.toContain('9434765919_XXXX');
  }, 120_000);
});
