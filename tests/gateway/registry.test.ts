// The schema registry at DfE's gateway, as organisations use it: publish and check with every reason
// for a refusal, history, supergraphs delivered with ETags, and DfE's own changes checked against
// every organisation's composition.
import { once } from 'node:events';
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
  for (const [code, type] of [['dfe', 'DFE'], ['northshire', 'LA'], ['southshire', 'LA']] as const) {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    keys.set(code, { ...(await exportJWK(privateKey)), kid: `${code}-1`, alg: 'ES256' });
    await store.prisma.organisation.create({ data: { code, name: code, type, scopes: [], jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: `${code}-1`, alg: 'ES256', use: 'sig' }] } as never } });
  }
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  gateway = await createGateway({ sql: store.sql, issuer: base, signingKey: { ...(await exportJWK(privateKey)), kid: 'dfe-1', alg: 'ES256' } });
  gateway.server.listen(port, '127.0.0.1');
  await once(gateway.server, 'listening');
  expect((await publish('dfe', 'locator', locatorSdl)).body).toMatchObject({ ok: true, version: 1 });
}, 60_000);

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

  it('answers only a DfE token for the registry', async () => {
    expect((await fetch(`${base}/registry/supergraph`)).status).toBe(401);
    const locatorToken = await useDfeTokenClient({ tokenUrl: `${base}/oauth2/token`, organisation: 'northshire', privateKey: keys.get('northshire')!, resource: 'mais:dfe:locator' }).token();
    expect((await fetch(`${base}/registry/supergraph`, { headers: { authorization: `Bearer ${locatorToken}` } })).status).toBe(401);
  });
});
