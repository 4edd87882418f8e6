// Scale-out: two LA router replicas over one LA store and two FIND replicas over one central store,
// each replica with its own connection pool, under concurrent load. The audits stay single, valid hash
// chains; a data sharing agreement's revocation is in force on both FIND replicas within 5 seconds;
// and a new supergraph from the registry reaches both routers. Run by `npm run test:pg` against
// PostgreSQL (each replica its own pool on the server) and Redis (TEST_REDIS_URL: the routers share each
// caseworker's rate limit); under `npm test`, on PGlite, the router replicas share the embedded store's
// one connection, and without Redis each counts on its own.
import { once } from 'node:events';
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { exportJWK, generateKeyPair } from 'jose';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CENTRAL_AUDIT, LA_AUDIT, verifyAudit } from '../../lib/audit/chain.ts';
import { openSqlStore, type SqlStore } from '../../lib/db/sql-store.ts';
import { parseRouterConfig } from '../../la-router/config.ts';
import { ROUTER_SUBGRAPH, routerSdl } from '../../la-router/local-subgraph.ts';
import { createRouter, type Router } from '../../la-router/server.ts';
import { createIdentityProvider, SANDBOX_USER_GRANT } from '../../sandbox/idp/provider.ts';
import { cscSdl } from '../../subgraphs/csc/sdl.ts';
import { createCscService } from '../../subgraphs/csc/service.ts';
import { startLaSubgraph, type TestLaSubgraph } from '../helpers/la-subgraph.ts';
import { startLocator, type Replica, type TestLocator } from '../helpers/locator.ts';
import { syntheticNhsNumber } from '../helpers/nhs.ts';
import { freePort, serveOnLoopback } from '../helpers/ports.ts';

const AUDIENCE = 'mais-router:northshire';
const RATE_LIMIT = 200;
/** Requests a minute without a valid token from one client address. */
const ANONYMOUS_LIMIT = 20;
/** A caseworker no other test (nor another run against the same Redis) asks as, so the whole limit is theirs. */
const RATE_TESTER = `rate.tester.${randomUUID().slice(0, 8)}`;
const redisUrl = process.env.TEST_REDIS_URL;
let csc: TestLaSubgraph;
let notices: ApolloServer;
let noticesUrl: string;
let registry: Server;
let served = '';
let idp: Server;
let issuer: string;
let ownStores: SqlStore[] = [];
let routers: { router: Router; url: string }[] = [];
let locator: TestLocator;
let secondLocator: Replica;

const NOTICES = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"]) type Query { notice: String }';
const compose = (withNotices: boolean) =>
  composeServices([
    { name: ROUTER_SUBGRAPH, url: 'http://router.local/graphql', typeDefs: parse(routerSdl) },
    { name: 'csc', url: csc.url, typeDefs: parse(cscSdl) },
    ...(withNotices ? [{ name: 'notices', url: noticesUrl, typeDefs: parse(NOTICES) }] : []),
  ]).supergraphSdl!;

async function tokenFor(username: string): Promise<string> {
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('mais-cli:test-secret').toString('base64')}` },
    body: new URLSearchParams({ grant_type: SANDBOX_USER_GRANT, username }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

async function ask(url: string, token: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  return { status: response.status, body: (await response.json()) as { data?: any; errors?: any[] } };
}

beforeAll(async () => {
  csc = await startLaSubgraph('csc', createCscService, { children: 400, seed: 3 });
  notices = new ApolloServer({ schema: buildSubgraphSchema({ typeDefs: parse(NOTICES), resolvers: { Query: { notice: () => 'Office closed on Friday' } } as never }) });
  noticesUrl = (await startStandaloneServer(notices, { listen: { port: await freePort(), host: '127.0.0.1' } })).url;
  served = compose(false);
  // DfE's registry as the routers see it: the current supergraph, with an ETag.
  registry = createServer((req, res) => {
    if (req.url === '/registry/usage') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    const etag = `"${createHash('sha256').update(served).digest('hex').slice(0, 16)}"`;
    if (req.headers['if-none-match'] === etag) return void res.writeHead(304, { etag }).end();
    res.writeHead(200, { etag, 'content-type': 'text/plain' }).end(served);
  });
  registry.listen(0, '127.0.0.1');
  await once(registry, 'listening');
  const registryUrl = `http://127.0.0.1:${(registry.address() as { port: number }).port}/registry/supergraph`;

  const users = (await csc.store.prisma.la_user.findMany()).map((u) => ({ username: u.username, displayName: u.display_name, roles: u.roles }));
  users.push({ username: RATE_TESTER, displayName: 'Rate Tester', roles: ['csc.practitioner'] });
  await csc.store.prisma.la_user.create({ data: { username: RATE_TESTER, display_name: 'Rate Tester', roles: ['csc.practitioner'] } });
  const port = await freePort();
  issuer = `http://127.0.0.1:${port}`;
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  idp = createIdentityProvider({ la: 'northshire', issuer, audience: AUDIENCE, signingKey: { ...(await exportJWK(privateKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' }, cliSecret: 'test-secret', users }).listen(port, '127.0.0.1');
  await once(idp, 'listening');

  for (const replica of [1, 2]) {
    const config = parseRouterConfig({
      la: 'northshire', port: 0, mode: 'production', database: {},
      subgraphs: [{ name: 'csc', url: csc.url, kind: 'la' }],
      supergraph: { registry: { url: registryUrl, pollMs: 200, cacheFile: join(mkdtempSync(join(tmpdir(), `mais-replica-${replica}-`)), 'supergraph.graphql'), usageReportMs: 60_000 } },
      oidc: { issuer, audience: AUDIENCE },
      exposedRootFields: ['child', 'auditTrail', 'notice'],
      allocationRefreshSeconds: 1,
      rateLimitPerMinute: RATE_LIMIT,
      unauthenticatedRateLimitPerMinute: ANONYMOUS_LIMIT,
      trustedProxies: ['loopback'],
      // What is checked here is the audit chain under concurrent writes, not latency: on PGlite the 60
      // requests share one connection, and on two cores busy with other test files the last of them can
      // wait past the default 3 s deadline (their social care then withheld as unavailable).
      deadlineMs: 20_000,
      ...(redisUrl ? { redisUrl } : {}),
    });
    // Against PostgreSQL each replica has its own pool, as separate processes would.
    const store = csc.databaseUrl ? await openSqlStore({ kind: 'local', url: csc.databaseUrl, poolSize: 4, migrate: false }) : csc.store;
    if (store !== csc.store) ownStores.push(store as SqlStore);
    const router = await createRouter({ config, internalToken: csc.signer, dfeCredential: null, store });
    routers.push({ router, url: `${await serveOnLoopback(router.server)}/graphql` });
  }

  locator = await startLocator();
  secondLocator = await locator.replica();
}, 180_000);

afterAll(async () => {
  for (const { router } of routers) await router.stop();
  for (const store of ownStores) await store.close();
  await secondLocator?.close();
  await locator?.close();
  idp?.close();
  registry?.close();
  await notices?.stop();
  await csc?.close();
  routers = [];
  ownStores = [];
});

describe('two LA router replicas over one LA store', () => {
  it('keep the audit one valid hash chain under concurrent load on both', async () => {
    const [row] = await csc.store.sql.withSession((db) =>
      db.query<{ username: string; nhs: string }>(
        `SELECT u.username, p.pers_common_child_id AS nhs FROM la_user u JOIN ssd_involvements i ON i.invo_professional_id = u.prof_professional_id
           JOIN ssd_person p ON p.pers_person_id = i.invo_person_id
          WHERE i.invo_involvement_end_date IS NULL AND p.pers_common_child_id IS NOT NULL AND 'csc.practitioner' = ANY(u.roles) LIMIT 1`,
      ),
    );
    const token = await tokenFor(row!.username);
    const count = async () => Number((await csc.store.sql.withSession((db) => db.query<{ n: string }>('SELECT count(*) AS n FROM la_audit_entry')))[0]!.n);
    const before = await count();
    const QUERY = `query ($n: NhsNumber!) { child(nhsNumber: $n, purpose: CHILD_PROTECTION_ENQUIRY) { socialCare { status { openCase } } } }`;
    const replies = await Promise.all(Array.from({ length: 60 }, (_, i) => ask(routers[i % 2]!.url, token, QUERY, { n: row!.nhs })));
    expect(replies.map((r) => r.status)).toEqual(Array(60).fill(200));
    expect(replies.every((r) => typeof r.body.data?.child?.socialCare?.status?.openCase === 'boolean')).toBe(true);
    expect(await count()).toBe(before + 60);
    expect(await csc.store.sql.withSession((db) => verifyAudit(db, LA_AUDIT))).toMatchObject({ ok: true, entries: before + 60 });
  });

  it(redisUrl ? 'share each caseworker’s rate limit through Redis' : 'count each caseworker’s rate limit on their own without Redis', async () => {
    const token = await tokenFor(RATE_TESTER);
    const asked = RATE_LIMIT + 10;
    const statuses: number[] = [];
    for (let i = 0; i < asked; i += 10) statuses.push(...(await Promise.all(Array.from({ length: 10 }, (_, j) => ask(routers[(i + j) % 2]!.url, token, '{ __typename }')))).map((r) => r.status));
    const allowed = statuses.filter((s) => s === 200).length;
    expect(allowed + statuses.filter((s) => s === 429).length).toBe(asked);
    // Shared: the limit holds across both replicas. On their own: each replica allows its half.
    expect(allowed).toBe(redisUrl ? RATE_LIMIT : asked);
  });

  it(redisUrl ? 'share each client address’s limit on requests without a valid token through Redis' : 'count requests without a valid token per client address on their own without Redis', async () => {
    // Addresses no other run against the same Redis has used (in IPv6's documentation range, each its own /64).
    const network = () => `2001:db8:${randomUUID().slice(0, 4)}:${randomUUID().slice(0, 4)}`;
    const address = `${network()}::1`;
    const other = `${network()}::1`;
    const asked = ANONYMOUS_LIMIT + 10;
    const statuses: number[] = [];
    for (let i = 0; i < asked; i += 1) {
      const response = await fetch(routers[i % 2]!.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer forged-${i}`, 'x-forwarded-for': address }, body: JSON.stringify({ query: '{ __typename }' }) });
      statuses.push(response.status);
      if (response.status === 429) expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    // Shared: the limit holds across both replicas. On their own: each replica allows its half.
    expect(statuses.filter((s) => s === 401).length).toBe(redisUrl ? ANONYMOUS_LIMIT : asked);
    expect(statuses.filter((s) => s === 429).length).toBe(redisUrl ? asked - ANONYMOUS_LIMIT : 0);
    // Another address is not held back by the first one's requests.
    const elsewhere = await fetch(routers[0]!.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': other }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(elsewhere.status).toBe(401);
  });

  it('both take a new supergraph from the registry', async () => {
    const officer = await tokenFor((await csc.store.prisma.la_user.findFirstOrThrow({ where: { roles: { has: 'csc.practitioner' } } })).username);
    for (const { url } of routers) expect((await ask(url, officer, '{ notice }')).body.errors?.[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    served = compose(true);
    for (const { url } of routers) {
      await expect.poll(async () => (await ask(url, officer, '{ notice }')).body.data?.notice, { timeout: 5000, interval: 100 }).toBe('Office closed on Friday');
    }
  });
});

describe('two FIND replicas over one central store', () => {
  const REGISTER = `mutation ($input: [RecordRegistration!]!) { registerRecords(input: $input) { written } }`;
  const LOCATIONS = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Child { locations { custodian { code } } } } }`;

  it('apply a revocation on both within 5 seconds while answering concurrent lookups, and keep the central audit one valid chain', async () => {
    const children = Array.from({ length: 20 }, (_, i) => syntheticNhsNumber(700_000 + i * 13));
    const PUBLISH = `mutation ($d: String!) { publishDataSharingAgreement(document: $d) { version } }`;
    const agreement = { source: 'southshire', version: 1, defaults: [{ id: 'las-know-existence', effect: 'ALLOW', destinations: { organisationTypes: ['LA'] }, recordTypes: ['*'], modes: ['EXISTENCE'], purposes: ['*'] }] };
    expect((await locator.graphql(PUBLISH, { d: JSON.stringify(agreement) }, { as: 'southshire' })).body.errors).toBeUndefined();
    await locator.graphql(REGISTER, { input: children.map((nhsNumber) => ({ nhsNumber, systemId: 'southshire-csc', recordType: 'csc.referral' })) }, { as: 'southshire' });
    const visibleOn = async (url: string) => (await locator.graphql(LOCATIONS, { reps: children.map((nhsNumber) => ({ __typename: 'Child', nhsNumber })) }, { as: 'eastshire', purpose: 'EARLY_HELP', url })).body.data._entities.filter((c: { locations: unknown[] }) => c.locations.length > 0).length;
    for (const url of [locator.url, secondLocator.url]) await expect.poll(() => visibleOn(url), { timeout: 5000 }).toBe(20);

    // Lookups keep arriving at both replicas while southshire revokes eastshire's access.
    let loading = true;
    const load = (async () => {
      let sent = 0;
      while (loading) {
        await Promise.all([locator.url, secondLocator.url].map((url) => visibleOn(url)));
        sent += 2;
      }
      return sent;
    })();
    const revoked = { ...agreement, version: 2, revocations: [{ destination: 'eastshire', from: '2020-01-01T00:00:00Z', reason: 'agreement ended' }] };
    const published = await locator.graphql(PUBLISH, { d: JSON.stringify(revoked) }, { as: 'southshire' });
    expect(published.body.errors).toBeUndefined();
    const started = Date.now();
    for (const url of [locator.url, secondLocator.url]) await expect.poll(() => visibleOn(url), { timeout: 5000, interval: 50 }).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    loading = false;
    expect(await load).toBeGreaterThan(0);
    expect(await locator.store.sql.withSession((db) => verifyAudit(db, CENTRAL_AUDIT))).toMatchObject({ ok: true });
  });
});
