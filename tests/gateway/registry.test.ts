// The schema registry at DfE's gateway, as organisations use it: publish and check with every reason
// for a refusal, history, supergraphs delivered with ETags, and DfE's own changes checked against
// every organisation's composition.
import { once } from 'node:events';
import fc from 'fast-check';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../gateway/server.ts';
import { openStore, type CentralClient, type Store } from '../../lib/db/store.ts';
import { useDfeTokenClient } from '../../lib/dfe-token.ts';
import { cscSdl } from '../../subgraphs/csc/sdl.ts';
import { educationSdl } from '../../subgraphs/education/sdl.ts';
import { locatorSdl } from '../../subgraphs/locator/service.ts';
import { freshDatabase, type TestDatabase } from '../helpers/database.ts';
import { freePort } from '../helpers/ports.ts';

let database: TestDatabase;
let store: Store<CentralClient>;
let gateway: Gateway;
let base: string;
const keys = new Map<string, JWK>();

const LINK = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@composeDirective"])
  @link(url: "https://schema.mais.education.gov.uk/data-category/v1.0", import: ["@dataCategory"]) @composeDirective(name: "@dataCategory")
directive @dataCategory(name: String!) on FIELD_DEFINITION | OBJECT
scalar NhsNumber`;
const youth = (recordFields: string, category = '@dataCategory(name: "csc.status")') =>
  `${LINK}\ntype Child @key(fields: "nhsNumber") { nhsNumber: NhsNumber! youthJustice: YouthRecord ${category} }\ntype YouthRecord { ${recordFields} }`;

async function call(org: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const token = await useDfeTokenClient({ tokenUrl: `${base}/oauth2/token`, organisation: org, privateKey: keys.get(org)!, resource: 'mais:dfe:registry' }).token();
  const response = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers }, ...(body ? { body: JSON.stringify(body) } : {}) });
  return response;
}

async function publish(org: string, name: string, sdl: string, options: { force?: boolean; check?: boolean } = {}) {
  const response = await call(org, 'POST', options.check ? '/registry/check' : '/registry/publish', { name, url: `http://${org}.example/${name}/graphql`, sdl, force: options.force ?? false });
  return { status: response.status, body: (await response.json()) as { ok: boolean; reasons: { kind: string; message: string; path?: string; organisation?: string }[]; forced: unknown[]; version?: number } };
}

beforeAll(async () => {
  database = await freshDatabase();
  store = await openStore({ kind: 'central', dataDir: database.dataDir, poolSize: 4, ...(database.databaseUrl ? { databaseUrl: database.databaseUrl } : {}) });
  // `rogue` is a hostile organisation: its scopes are whatever a test gives it.
  for (const [code, type, scopes] of [['dfe', 'DFE', ['registry:admin']], ['northshire', 'LA', ['registry', 'find']], ['southshire', 'LA', ['registry']], ['rogue', 'POLICE', ['registry']]] as const) {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    keys.set(code, { ...(await exportJWK(privateKey)), kid: `${code}-1`, alg: 'ES256' });
    await store.prisma.organisation.create({ data: { code, name: code, type, scopes: [...scopes], jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: `${code}-1`, alg: 'ES256', use: 'sig' }] } as never } });
  }
  ({ gateway, base } = await startGateway());
  expect((await publish('dfe', 'locator', locatorSdl)).body).toMatchObject({ ok: true, version: 1 });
}, 60_000);

async function startGateway(registry?: Parameters<typeof createGateway>[0]['registry']): Promise<{ gateway: Gateway; base: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const started = await createGateway({ sql: store.sql, issuer: url, refreshMs: 100, signingKey: { ...(await exportJWK(privateKey)), kid: 'dfe-1', alg: 'ES256' }, ...(registry ? { registry } : {}) });
  started.server.listen(port, '127.0.0.1');
  await once(started.server, 'listening');
  return { gateway: started, base: url };
}

/** A schema of `types` keyed types, each with nine fields of two arguments: valid, and slow to compose. */
function heavySdl(types: number): string {
  const defs = Array.from({ length: types }, (_, i) => `type T${i} @key(fields: "id") { id: ID! ${Array.from({ length: 9 }, (_, j) => `f${j}(a: Int, b: String): T${(i * 7 + j) % types}`).join(' ')} }`);
  return `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])\ntype Query { heavy: T0 }\n${defs.join('\n')}`;
}

afterAll(async () => {
  await gateway?.stop();
  await store?.close();
  await database?.drop();
});

describe('schema registry', () => {
  it('composes an LA’s subgraphs with DfE’s and delivers the supergraph with an ETag', async () => {
    expect((await publish('northshire', 'csc', cscSdl)).body).toMatchObject({ ok: true, version: 1 });
    expect((await publish('northshire', 'education', educationSdl)).body).toMatchObject({ ok: true, version: 1 });
    const first = await call('northshire', 'GET', '/registry/supergraph');
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    const sdl = await first.text();
    for (const field of ['socialCare', 'education', 'locations']) expect(sdl).toMatch(new RegExp(`\\b${field}\\b`));
    expect((await call('northshire', 'GET', '/registry/supergraph', undefined, { 'if-none-match': etag })).status).toBe(304);
    expect((await publish('northshire', 'youth', youth('id: ID! team: String'))).body.ok).toBe(true);
    const next = await call('northshire', 'GET', '/registry/supergraph', undefined, { 'if-none-match': etag });
    expect(next.status).toBe(200);
    expect(await next.text()).toMatch(/youthJustice/);
    // Another organisation's supergraph is its own.
    expect((await call('southshire', 'GET', '/registry/supergraph')).status).toBe(404);
  });

  it('refuses a composition error, a contract violation and a field on Child without a data category, each with its reason, and saves none', async () => {
    const clash = await publish('northshire', 'finder', `${LINK}\ntype Child @key(fields: "nhsNumber") { nhsNumber: NhsNumber! locations: String @dataCategory(name: "find.location") }`);
    expect(clash.status).toBe(422);
    expect(clash.body.reasons).toContainEqual(expect.objectContaining({ kind: 'composition', organisation: 'northshire' }));
    const contract = await publish('northshire', 'csc', cscSdl.replace(/\bcpPlans\b/g, 'protectionPlans'));
    expect(contract.body.reasons).toContainEqual(expect.objectContaining({ kind: 'contract', path: expect.stringMatching(/cpPlans/) }));
    const uncategorised = await publish('northshire', 'health', `${LINK}\ntype Child @key(fields: "nhsNumber") { nhsNumber: NhsNumber! health: String }`);
    expect(uncategorised.body.reasons).toEqual([expect.objectContaining({ kind: 'data-category', path: 'Child.health' })]);
    const unknownCategory = await publish('northshire', 'health', `${LINK}\ntype Child @key(fields: "nhsNumber") { nhsNumber: NhsNumber! health: String @dataCategory(name: "gossip.rumour") }`);
    expect(unknownCategory.body.reasons).toEqual([expect.objectContaining({ kind: 'data-category', message: expect.stringMatching(/gossip\.rumour/) })]);
    const syntax = await publish('northshire', 'health', 'type {');
    expect(syntax.body.reasons[0]).toMatchObject({ kind: 'syntax' });
    const history = (await (await call('northshire', 'GET', '/registry/history')).json()) as { subgraph: string }[];
    expect(history.map((h) => h.subgraph)).not.toContain('finder');
    expect(history.map((h) => h.subgraph)).not.toContain('health');
  });

  it('refuses a breaking change unless forced, and records who forced it', async () => {
    const check = await publish('northshire', 'youth', youth('id: ID!'), { check: true });
    expect(check.status).toBe(422);
    expect(check.body.reasons).toEqual([expect.objectContaining({ kind: 'breaking', path: 'YouthRecord.team' })]);
    const forced = await publish('northshire', 'youth', youth('id: ID!'), { force: true });
    expect(forced.body).toMatchObject({ ok: true, version: 2, forced: [expect.objectContaining({ kind: 'breaking' })] });
    // Force never passes anything but a breaking change.
    const stillRefused = await publish('northshire', 'youth', youth('id: ID!', ''), { force: true });
    expect(stillRefused.body.reasons).toContainEqual(expect.objectContaining({ kind: 'data-category' }));
    const history = (await (await call('northshire', 'GET', '/registry/history?name=youth')).json()) as { version: number; forced: boolean; publishedBy: string }[];
    expect(history.map((h) => [h.version, h.forced, h.publishedBy])).toEqual([[2, true, 'northshire'], [1, false, 'northshire']]);
  });

  it('refuses a change to one of DfE’s subgraphs that would break an LA’s composition, naming the LA', async () => {
    expect((await publish('southshire', 'reports', `${LINK}\ntype Query { regionReport: String }`)).body.ok).toBe(true);
    const breaksSouthshire = await publish('dfe', 'locator', locatorSdl.replace(/type Query \{/, 'type Query {\n  regionReport: String'));
    expect(breaksSouthshire.status).toBe(422);
    expect(breaksSouthshire.body.reasons).toContainEqual(expect.objectContaining({ kind: 'composition', organisation: 'southshire' }));
    expect(breaksSouthshire.body.reasons.filter((r) => r.organisation === 'northshire')).toEqual([]);
    const history = (await (await call('dfe', 'GET', '/registry/history?name=locator')).json()) as unknown[];
    expect(history).toHaveLength(1);
  });

  it('is usage-aware: a breaking change to a field no reporting router used passes, one to a used field is refused naming who used it, and silence counts as use', async () => {
    expect((await publish('northshire', 'youth', youth('id: ID! team: String office: String'))).body).toMatchObject({ ok: true, version: 3 });
    const report = await call('northshire', 'POST', '/registry/usage', { fields: { 'YouthRecord.id': 5, 'Child.youthJustice': 5 } });
    expect(await report.json()).toEqual({ recorded: 2 });
    const unused = await publish('northshire', 'youth', youth('id: ID! team: String'));
    expect(unused.body).toMatchObject({ ok: true, version: 4, reasons: [], forced: [], unused: [expect.objectContaining({ kind: 'breaking', path: 'YouthRecord.office' })] });
    const used = await publish('northshire', 'youth', youth('team: String'), { check: true });
    expect(used.status).toBe(422);
    expect(used.body.reasons).toEqual([expect.objectContaining({ kind: 'breaking', path: 'YouthRecord.id', message: expect.stringMatching(/used in the last 30 days by northshire \(5\)/) })]);
    // Southshire's routers report nothing, so nothing of its schema counts as unused.
    const silent = await publish('southshire', 'reports', `${LINK}\ntype Query { otherReport: String }`, { check: true });
    expect(silent.body.reasons).toContainEqual(expect.objectContaining({ kind: 'breaking', message: expect.stringMatching(/southshire report no usage/) }));
    // Reports carry coordinates and counts only.
    for (const fields of [{ 'not a coordinate': 1 }, { 'YouthRecord.id': -1 }, ['YouthRecord.id']]) {
      const refused = await call('northshire', 'POST', '/registry/usage', { fields });
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
    }
  });

  it('lets in only an organisation with the registry scope, whatever else it holds', async () => {
    const SCOPES = ['match', 'find', 'register', 'relay', 'dsa', 'dsa:admin', 'registry', 'registry:admin', 'REGISTRY', 'registry ', 'registryx', 'registry:'];
    // A token rogue got while it held the scope: the registry is asked again on every call.
    const held = await useDfeTokenClient({ tokenUrl: `${base}/oauth2/token`, organisation: 'rogue', privateKey: keys.get('rogue')!, resource: 'mais:dfe:registry' }).token();
    const withHeld = (method: string, path: string, body?: unknown) => fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${held}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.constantFrom(...SCOPES), { maxLength: 4 }), async (scopes) => {
        await store.prisma.organisation.update({ where: { code: 'rogue' }, data: { scopes } });
        await expect.poll(() => gateway.organisations.get('rogue')?.scopes).toEqual(scopes);
        const allowed = scopes.includes('registry') || scopes.includes('registry:admin');
        const fresh = await useDfeTokenClient({ tokenUrl: `${base}/oauth2/token`, organisation: 'rogue', privateKey: keys.get('rogue')!, resource: 'mais:dfe:registry' })
          .token()
          .then((token) => ({ token }), (error: Error) => ({ refused: error.message }));
        const read = await withHeld('GET', '/registry/history');
        const check = await withHeld('POST', '/registry/check', { name: 'rogue-sg', url: 'http://rogue.example/graphql', sdl: youth('id: ID!') });
        if (allowed) {
          expect(fresh).toEqual({ token: expect.stringMatching(/^ey/) });
          expect(read.status).toBe(200);
          expect(check.status).toBe(200);
        } else {
          // No new token, and the one held is refused.
          expect(fresh).toEqual({ refused: expect.stringMatching(/rogue has no scope for mais:dfe:registry/) });
          for (const response of [read, check]) {
            expect(response.status).toBe(403);
            expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'FORBIDDEN' } }] });
          }
        }
      }),
      { numRuns: 15 },
    );
    await store.prisma.organisation.update({ where: { code: 'rogue' }, data: { scopes: ['registry'] } });
  }, 60_000);

  it('refuses a schema over its size, token, type or field limits, with the limit as the reason, and saves none', async () => {
    const before = await call('northshire', 'GET', '/registry/history');
    const versions = ((await before.json()) as unknown[]).length;
    const big = `${youth('id: ID!')}\n# ${'x'.repeat(300 * 1024)}`;
    const tooLarge = await publish('northshire', 'youth-big', big);
    expect(tooLarge.status).toBe(422);
    expect(tooLarge.body.reasons).toEqual([{ kind: 'limit', message: expect.stringMatching(/bytes; at most 262144/) }]);
    const manyTypes = await publish('northshire', 'youth-wide', `${youth('id: ID!')}\n${Array.from({ length: 501 }, (_, i) => `type Extra${i} { a: Int }`).join('\n')}`);
    expect(manyTypes.body.reasons).toEqual([{ kind: 'limit', message: expect.stringMatching(/types .* at most 500/) }]);
    const manyFields = await publish('northshire', 'youth-deep', youth(Array.from({ length: 5001 }, (_, i) => `f${i}: Int`).join(' ')));
    expect(manyFields.body.reasons).toEqual([{ kind: 'limit', message: expect.stringMatching(/5003 fields.* at most 500 and 5000/) }]);
    // A body far over the limit is refused before it is read whole.
    const huge = await call('northshire', 'POST', '/registry/check', { name: 'youth', url: 'http://x.example/graphql', sdl: 'x'.repeat(1024 * 1024) });
    expect(huge.status).toBe(413);
    expect(((await (await call('northshire', 'GET', '/registry/history')).json()) as unknown[]).length).toBe(versions);
    // Tokens: graphql-js stops parsing at the limit (here a gateway that allows 500).
    const own = await startGateway({ maxTokens: 500 });
    try {
      const token = await useDfeTokenClient({ tokenUrl: `${own.base}/oauth2/token`, organisation: 'northshire', privateKey: keys.get('northshire')!, resource: 'mais:dfe:registry' }).token();
      const response = await fetch(`${own.base}/registry/check`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'youth-long', url: 'http://x.example/graphql', sdl: youth(Array.from({ length: 200 }, (_, i) => `f${i}: Int`).join(' ')) }) });
      expect(response.status).toBe(422);
      expect(((await response.json()) as { reasons: unknown[] }).reasons).toEqual([{ kind: 'limit', message: expect.stringMatching(/500 tokens/) }]);
    } finally {
      await own.gateway.stop();
    }
  });

  it('checks off the event loop: a check that runs too long is stopped, a full queue refused, and everyone else answered meanwhile', async () => {
    // A gateway of its own whose checks may run 1 s, one at a time, one waiting (and as large as they like).
    const own = await startGateway({ checkMs: 1000, workers: 1, queue: 1, perMinute: 1000, maxSdlBytes: 4 * 1024 * 1024, maxTokens: 10_000_000, maxTypes: 100_000, maxFields: 1_000_000 });
    const at = (path: string, body: unknown) =>
      useDfeTokenClient({ tokenUrl: `${own.base}/oauth2/token`, organisation: 'northshire', privateKey: keys.get('northshire')!, resource: 'mais:dfe:registry' })
        .token()
        .then((token) => fetch(`${own.base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }));
    const probe = { name: 'probe', url: 'http://northshire.example/probe/graphql', sdl: `${LINK}\ntype Query { probe: String }` };
    try {
      // Its worker started (and a small check passes) before the heavy ones arrive.
      expect(await (await at('/registry/check', probe)).json()).toMatchObject({ ok: true });
      const heavy = { name: 'heavy', url: 'http://northshire.example/heavy/graphql', sdl: heavySdl(2000) };
      let settled = 0;
      const bombs = [at('/registry/check', heavy), at('/registry/check', heavy), at('/registry/check', heavy)].map((p) => p.finally(() => settled++));
      // While they run, the gateway answers: its health, and another organisation's token.
      const health = await fetch(`${own.base}/health`);
      expect(health.status).toBe(200);
      const token = await useDfeTokenClient({ tokenUrl: `${own.base}/oauth2/token`, organisation: 'southshire', privateKey: keys.get('southshire')!, resource: 'mais:dfe:registry' }).token();
      expect(token).toMatch(/^ey/);
      expect(settled).toBeLessThan(3);
      const answers = await Promise.all(bombs);
      const statuses = answers.map((a) => a.status).sort();
      // One ran and was stopped, one waited and was stopped, one found the queue full.
      expect(statuses).toEqual([422, 422, 429]);
      const busy = answers.find((a) => a.status === 429)!;
      expect(Number(busy.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await busy.json()).toMatchObject({ errors: [{ extensions: { code: 'RATE_LIMITED' } }] });
      for (const stopped of answers.filter((a) => a.status === 422)) expect(await stopped.json()).toMatchObject({ ok: false, reasons: [{ kind: 'limit', message: expect.stringMatching(/ran longer than/) }] });
      // The worker that was stopped is replaced: a small check passes again.
      expect(await (await at('/registry/check', probe)).json()).toMatchObject({ ok: true });
    } finally {
      await own.gateway.stop();
    }
  }, 60_000);

  it('limits each organisation’s checks and publishes a minute, with Retry-After', async () => {
    const own = await startGateway({ perMinute: 3 });
    try {
      const token = await useDfeTokenClient({ tokenUrl: `${own.base}/oauth2/token`, organisation: 'southshire', privateKey: keys.get('southshire')!, resource: 'mais:dfe:registry' }).token();
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 5; i++) {
        last = await fetch(`${own.base}/registry/check`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'youth', url: 'http://southshire.example/graphql', sdl: youth('id: ID!') }) });
        statuses.push(last.status);
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
      // Another organisation's allowance is its own.
      const other = await useDfeTokenClient({ tokenUrl: `${own.base}/oauth2/token`, organisation: 'northshire', privateKey: keys.get('northshire')!, resource: 'mais:dfe:registry' }).token();
      expect((await fetch(`${own.base}/registry/check`, { method: 'POST', headers: { authorization: `Bearer ${other}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'youth', url: 'http://northshire.example/graphql', sdl: youth('id: ID!') }) })).status).toBe(200);
    } finally {
      await own.gateway.stop();
    }
  });

  it('answers only a DfE token for the registry', async () => {
    expect((await fetch(`${base}/registry/supergraph`)).status).toBe(401);
    const locatorToken = await useDfeTokenClient({ tokenUrl: `${base}/oauth2/token`, organisation: 'northshire', privateKey: keys.get('northshire')!, resource: 'mais:dfe:locator' }).token();
    expect((await fetch(`${base}/registry/supergraph`, { headers: { authorization: `Bearer ${locatorToken}` } })).status).toBe(401);
  });
});
