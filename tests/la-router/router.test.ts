// The LA router over real subgraphs on loopback ports.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRouterConfig } from '../../la-router/config.ts';
import { createRouter, type Router } from '../../la-router/server.ts';
import { createCscService } from '../../subgraphs/csc/service.ts';
import { createEducationService } from '../../subgraphs/education/service.ts';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import { startLaSubgraph, type TestLaSubgraph } from '../helpers/la-subgraph.ts';
import { freePort, serveOnLoopback } from '../helpers/ports.ts';
import { start } from '../helpers/processes.ts';

async function post(url: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  return { status: response.status, body: (await response.json()) as { data?: any; errors?: any[] } };
}

describe('mais router --supergraph FILE --insecure-dev', () => {
  const stops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  it('serves any Federation 2 supergraph exactly as stock @apollo/gateway does', async () => {
    // Two small subgraphs that know nothing of MAIS.
    const books = buildSubgraphSchema({
      typeDefs: parse(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
        type Query { books: [Book!]! } type Book @key(fields: "id") { id: ID! title: String! }`),
      resolvers: { Query: { books: () => [{ id: '1', title: 'Oliver Twist' }, { id: '2', title: 'Bleak House' }] } } as never,
    });
    const reviews = buildSubgraphSchema({
      typeDefs: parse(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
        type Book @key(fields: "id") { id: ID! stars: Int! }`),
      resolvers: { Book: { __resolveReference: (b: { id: string }) => ({ id: b.id, stars: Number(b.id) + 3 }) } } as never,
    });
    const urls: Record<string, string> = {};
    for (const [name, schema] of Object.entries({ books, reviews })) {
      const server = new ApolloServer({ schema });
      const { url } = await startStandaloneServer(server, { listen: { port: await freePort(), host: '127.0.0.1' } });
      urls[name] = url;
      stops.push(() => server.stop());
    }
    const composed = composeServices([
      { name: 'books', url: urls.books!, typeDefs: parse(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"]) type Query { books: [Book!]! } type Book @key(fields: "id") { id: ID! title: String! }`) },
      { name: 'reviews', url: urls.reviews!, typeDefs: parse(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"]) type Book @key(fields: "id") { id: ID! stars: Int! }`) },
    ]);
    expect(composed.errors).toBeUndefined();
    const file = join(mkdtempSync(join(tmpdir(), 'mais-supergraph-')), 'supergraph.graphql');
    writeFileSync(file, composed.supergraphSdl!);

    const port = await freePort();
    const router = start('npm', ['run', '-s', 'mais', '--', 'router', '--supergraph', file, '--port', String(port), '--insecure-dev'], {});
    stops.push(async () => void (await router.interrupt('SIGINT')));
    await router.waitFor(/LA router ready|http:\/\//);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);

    const stock = new ApolloServer({ gateway: new ApolloGateway({ supergraphSdl: composed.supergraphSdl! }) });
    const { url: stockUrl } = await startStandaloneServer(stock, { listen: { port: await freePort(), host: '127.0.0.1' } });
    stops.push(() => stock.stop());
    for (const query of ['{ books { id title stars } }', '{ books { title } }', '{ books { nope } }', '{ __typename }', 'query { books { id }']) {
      const ours = await post(`http://127.0.0.1:${port}/graphql`, query);
      const theirs = await post(stockUrl, query);
      expect(ours).toEqual(theirs);
    }
    expect((await post(`http://127.0.0.1:${port}/graphql`, '{ books { title stars } }')).body.data.books).toEqual([
      { title: 'Oliver Twist', stars: 4 },
      { title: 'Bleak House', stars: 5 },
    ]);
  }, 60_000);
});

describe('the router over the LA subgraphs', () => {
  let csc: TestLaSubgraph;
  let education: TestLaSubgraph;
  let proxy: FaultProxy;
  let router: Router;
  let url: string;
  let nhsNumber: string;

  beforeAll(async () => {
    csc = await startLaSubgraph('csc', createCscService, { children: 300, seed: 8 });
    education = await startLaSubgraph('education', createEducationService, { children: 300, seed: 8 });
    proxy = await startFaultProxy(education.url.replace(/\/graphql$/, ''));
    const [person] = await csc.store.prisma.ssd_person.findMany({ where: { pers_common_child_id: { not: null }, pupils: { some: {} } }, take: 1 });
    nhsNumber = person!.pers_common_child_id!;
    const config = parseRouterConfig({
      la: 'northshire',
      port: 0,
      mode: 'insecure-dev',
      deadlineMs: 1500,
      circuitBreaker: { failures: 3, openMs: 700 },
      subgraphs: [
        { name: 'csc', url: csc.url, kind: 'la' },
        { name: 'education', url: `${proxy.url}/graphql`, kind: 'la', deadlineMs: 800 },
      ],
    });
    // Both subgraphs trust the same router key in this test (each helper made its own; use csc's for csc and education's for education).
    const signer = { sign: (audience: string, claims: Parameters<TestLaSubgraph['signer']['sign']>[1]) => (audience.endsWith('/csc') ? csc.signer : education.signer).sign(audience, claims), callerName: csc.signer.callerName };
    router = await createRouter({ config, internalToken: signer, dfeCredential: null });
    url = `${await serveOnLoopback(router.server)}/graphql`;
    // Each subgraph answers once directly first: its stores' first queries (compiled on first use, in
    // this process) would otherwise count against the router's deadlines of 1.5 s and 0.8 s below.
    const entity = (field: string) => `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Child { ${field} } } }`;
    await csc.graphql(entity('socialCare { personId }'), { r: [{ __typename: 'Child', nhsNumber }] }, await csc.token('FULL', undefined, nhsNumber));
    await education.graphql(entity('education { enrolments { urn } }'), { r: [{ __typename: 'Child', nhsNumber }] }, await education.token('FULL', undefined, nhsNumber));
  }, 120_000);

  afterAll(async () => {
    await router?.stop();
    await proxy?.close();
    await csc?.close();
    await education?.close();
  });

  const SINGLE_VIEW = `query ($n: NhsNumber!) { child(nhsNumber: $n, purpose: CHILD_PROTECTION_ENQUIRY) { nhsNumber socialCare { personId status { openCase } } education { enrolments { urn } } } }`;

  it('answers the single view from both sources, as each answers directly', async () => {
    const reply = await post(url, SINGLE_VIEW, { n: nhsNumber });
    expect(reply.body.errors).toBeUndefined();
    const direct = await csc.graphql(`query ($r: [_Any!]!) { _entities(representations: $r) { ... on Child { socialCare { personId status { openCase } } } } }`, { r: [{ __typename: 'Child', nhsNumber }] }, await csc.token('FULL', undefined, nhsNumber));
    expect(reply.body.data.child.socialCare).toEqual(direct.body.data._entities[0].socialCare);
    expect(reply.body.data.child.education.enrolments.length).toBeGreaterThan(0);
  });

  it('answers the rest when a source hangs, naming it SOURCE_UNAVAILABLE within its deadline', async () => {
    proxy.next('hang');
    const started = Date.now();
    const reply = await post(url, SINGLE_VIEW, { n: nhsNumber });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(reply.body.data.child.socialCare.personId).toBeTruthy();
    expect(reply.body.data.child.education).toBeNull();
    expect(reply.body.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'SOURCE_UNAVAILABLE', source: 'education' }) })]);
  });

  it('answers the rest when a source’s connection dies mid-request', async () => {
    proxy.next('reset');
    const reply = await post(url, SINGLE_VIEW, { n: nhsNumber });
    expect(reply.body.data.child.socialCare.personId).toBeTruthy();
    expect(reply.body.data.child.education).toBeNull();
    expect(reply.body.errors?.[0].extensions).toMatchObject({ code: 'SOURCE_UNAVAILABLE', source: 'education' });
  });

  it('answers the rest when a source fails', async () => {
    proxy.next({ status: 502, body: { error: 'bad gateway' } });
    const reply = await post(url, SINGLE_VIEW, { n: nhsNumber });
    expect(reply.body.data.child.socialCare.personId).toBeTruthy();
    expect(reply.body.errors?.[0].extensions).toMatchObject({ code: 'SOURCE_UNAVAILABLE', source: 'education' });
  });

  it('stops calling a source that keeps failing, and probes it again later', async () => {
    // Earlier tests' failures may have opened the circuit: let it close with a successful probe first.
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect((await post(url, SINGLE_VIEW, { n: nhsNumber })).body.errors).toBeUndefined();
    proxy.next({ status: 502 }, { status: 502 }, { status: 502 });
    for (let i = 0; i < 3; i++) await post(url, SINGLE_VIEW, { n: nhsNumber });
    const seen = proxy.seen.length;
    const open = await post(url, SINGLE_VIEW, { n: nhsNumber });
    expect(open.body.errors?.[0].extensions).toMatchObject({ code: 'SOURCE_UNAVAILABLE', source: 'education' });
    expect(open.body.data.child.socialCare.personId).toBeTruthy();
    expect(proxy.seen.length).toBe(seen);
    await new Promise((resolve) => setTimeout(resolve, 800));
    const probed = await post(url, SINGLE_VIEW, { n: nhsNumber });
    expect(probed.body.errors).toBeUndefined();
    expect(proxy.seen.length).toBe(seen + 1);
  });

  it('passes on a source’s refusal of the caller’s input as that input error, without counting it against the source', async () => {
    await new Promise((resolve) => setTimeout(resolve, 800));
    const refusal = { status: 400, headers: { 'content-type': 'application/json' }, body: { errors: [{ message: 'A date must be a real calendar date written yyyy-mm-dd', extensions: { code: 'BAD_USER_INPUT' } }] } };
    proxy.next(refusal, refusal, refusal, refusal);
    for (let i = 0; i < 4; i++) {
      const reply = await post(url, SINGLE_VIEW, { n: nhsNumber });
      expect(reply.body.errors).toEqual([expect.objectContaining({ message: 'A date must be a real calendar date written yyyy-mm-dd', extensions: { code: 'BAD_USER_INPUT' } })]);
      expect(reply.body.data.child.socialCare.personId).toBeTruthy();
    }
    // Four refusals, more than the circuit breaker's three failures: the source is still asked.
    const seen = proxy.seen.length;
    expect((await post(url, SINGLE_VIEW, { n: nhsNumber })).body.errors).toBeUndefined();
    expect(proxy.seen.length).toBe(seen + 1);
  });

  it('refuses an invalid NHS number before any source is asked', async () => {
    const seen = proxy.seen.length;
    const reply = await post(url, SINGLE_VIEW, { n: '9434765918' });
    expect(reply.body.errors?.[0].extensions.code).toBe('INVALID_NHS_NUMBER');
    expect(proxy.seen.length).toBe(seen);
  });
});

describe('a source behind a non-null list field (as FIND’s Child.locations and the relay’s Child.sharedRecords are)', () => {
  const QUERY = `query ($n: NhsNumber!) { child(nhsNumber: $n, purpose: CHILD_PROTECTION_ENQUIRY) { socialCare { personId } holders firstHeld } }`;
  let csc: TestLaSubgraph;
  let person: { pers_person_id: string; pers_common_child_id: string | null };
  let holders: ApolloServer;
  let holdersUrl: string;
  let router: Router;
  let url: string;

  /** A subgraph adding `Child.holders` (a non-null list) and `Child.firstHeld`, each child resolved by `resolve`. */
  async function startHolders(resolve: (c: { nhsNumber: string }) => unknown): Promise<{ server: ApolloServer; url: string }> {
    const server = new ApolloServer({
      schema: buildSubgraphSchema({
        typeDefs: parse(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
          scalar NhsNumber type Child @key(fields: "nhsNumber") { nhsNumber: NhsNumber! holders: [String!]! firstHeld: String }`),
        resolvers: { Child: { __resolveReference: resolve } } as never,
      }),
    });
    return { server, url: (await startStandaloneServer(server, { listen: { port: await freePort(), host: '127.0.0.1' } })).url };
  }

  /** A router over csc and a holders subgraph at `at`, called as an LA's subgraph or as DfE's. */
  async function routerOver(at: string, kind: 'la' | 'dfe' = 'la', dfeCredential: Parameters<typeof createRouter>[0]['dfeCredential'] = null): Promise<{ router: Router; url: string }> {
    const config = parseRouterConfig({
      la: 'northshire', port: 0, mode: 'insecure-dev', deadlineMs: 1500,
      subgraphs: [{ name: 'csc', url: csc.url, kind: 'la' }, { name: 'holders', url: at, kind }],
    });
    const started = await createRouter({ config, internalToken: csc.signer, dfeCredential });
    return { router: started, url: `${await serveOnLoopback(started.server)}/graphql` };
  }

  beforeAll(async () => {
    csc = await startLaSubgraph('csc', createCscService, { children: 100, seed: 4 });
    person = (await csc.store.prisma.ssd_person.findFirst({ where: { pers_common_child_id: { not: null } } }))!;
    ({ server: holders, url: holdersUrl } = await startHolders((c) => ({ ...c, holders: ['Southshire'], firstHeld: '2020-01-01' })));
    ({ router, url } = await routerOver(holdersUrl));
  }, 120_000);

  afterAll(async () => {
    await router?.stop();
    await csc?.close();
  });

  it('answers the same when DfE will not issue the LA a token for that source (the LA suspended at DfE)', async () => {
    let suspended = false;
    const refused = await routerOver(holdersUrl, 'dfe', () => ({ token: async () => (suspended ? Promise.reject(new Error('organisation suspended')) : 'a-dfe-token') }));
    suspended = true;
    try {
      const reply = await post(refused.url, QUERY, { n: person.pers_common_child_id });
      expect(reply.body.data.child).toEqual({ socialCare: { personId: person.pers_person_id }, holders: [], firstHeld: null });
      expect(reply.body.errors?.[0].extensions).toMatchObject({ code: 'SOURCE_UNAVAILABLE', source: 'holders' });
    } finally {
      await refused.router.stop();
    }
  });

  it('asks DfE’s source again as soon as DfE reinstates the LA, though a probe fell while DfE would issue it no token', async () => {
    let suspended = false;
    const proxy = await startFaultProxy(holdersUrl.replace(/\/$/, ''));
    const config = parseRouterConfig({
      la: 'northshire', port: 0, mode: 'insecure-dev', deadlineMs: 1500, circuitBreaker: { failures: 2, openMs: 300 },
      subgraphs: [{ name: 'csc', url: csc.url, kind: 'la' }, { name: 'holders', url: `${proxy.url}/`, kind: 'dfe' }],
    });
    const started = await createRouter({ config, internalToken: csc.signer, dfeCredential: () => ({ token: async () => (suspended ? Promise.reject(new Error('organisation suspended')) : 'a-dfe-token'), forget: () => {} }) });
    const at = `${await serveOnLoopback(started.server)}/graphql`;
    const holdersOf = async () => (await post(at, QUERY, { n: person.pers_common_child_id })).body.data.child.holders as string[];
    try {
      expect(await holdersOf()).toEqual(['Southshire']);
      // DfE suspends the LA: the token it holds is refused, the circuit opens, and DfE issues it no new one.
      const refused = { status: 401, body: { errors: [{ message: 'suspended', extensions: { code: 'UNAUTHENTICATED' } }] } };
      proxy.next(refused, refused);
      const messages = async () => JSON.stringify((await post(at, QUERY, { n: person.pers_common_child_id })).body.errors ?? []);
      await expect.poll(messages, { timeout: 2000, interval: 20 }).toMatch(/failing; not asked for now/);
      suspended = true;
      // The circuit's period ends while DfE still issues no token: the probe cannot be sent.
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(await holdersOf()).toEqual([]);
      // DfE reinstates the LA: within the next period or two the source answers again.
      suspended = false;
      await expect.poll(holdersOf, { timeout: 3000, interval: 100 }).toEqual(['Southshire']);
    } finally {
      await started.stop();
      await proxy.close();
    }
  });

  it('never counts a DfE source’s RATE_LIMITED against it: passes it on with Retry-After, and tells the source how long it will wait', async () => {
    const seen: { timeout: string | undefined }[] = [];
    let limited = true;
    const server = new ApolloServer<{ timeout: string | undefined }>({
      schema: buildSubgraphSchema({
        typeDefs: parse(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
          scalar NhsNumber type Child @key(fields: "nhsNumber") { nhsNumber: NhsNumber! holders: [String!]! firstHeld: String }`),
        resolvers: {
          Child: {
            __resolveReference: (c: { nhsNumber: string }) => ({ ...c, holders: ['Southshire'] }),
            firstHeld: (_c: unknown, _args: unknown, context: { timeout: string | undefined }) => {
              seen.push({ timeout: context.timeout });
              if (limited) throw new GraphQLError('Your organisation is past its share of PDS calls for now', { extensions: { code: 'RATE_LIMITED', retryAfter: 7 } });
              return '2020-01-01';
            },
          },
        } as never,
      }),
    });
    const { url: limitedUrl } = await startStandaloneServer(server, { listen: { port: await freePort(), host: '127.0.0.1' }, context: async ({ req }) => ({ timeout: req.headers['mais-timeout-ms'] as string | undefined }) });
    const config = parseRouterConfig({
      la: 'northshire', port: 0, mode: 'insecure-dev', deadlineMs: 1500, circuitBreaker: { failures: 2, openMs: 60_000 },
      subgraphs: [{ name: 'csc', url: csc.url, kind: 'la' }, { name: 'holders', url: limitedUrl, kind: 'dfe' }],
    });
    const started = await createRouter({ config, internalToken: csc.signer, dfeCredential: () => ({ token: async () => 'a-dfe-token', forget: () => {} }) });
    const at = `${await serveOnLoopback(started.server)}/graphql`;
    try {
      // Many more RATE_LIMITED answers than the breaker's two failures: each is passed on, and the source still asked.
      for (let i = 0; i < 5; i++) {
        const response = await fetch(at, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: QUERY, variables: { n: person.pers_common_child_id } }) });
        const body = (await response.json()) as { data: any; errors?: { extensions: Record<string, unknown> }[] };
        expect(response.status).toBe(200);
        expect(response.headers.get('retry-after')).toBe('7');
        expect(body.data.child).toEqual({ socialCare: { personId: person.pers_person_id }, holders: ['Southshire'], firstHeld: null });
        expect(body.errors?.map((e) => e.extensions.code)).toEqual(['RATE_LIMITED']);
      }
      expect(seen).toHaveLength(5);
      // Told how long the router waits: no more than its deadline.
      for (const { timeout } of seen) {
        expect(Number(timeout)).toBeGreaterThan(0);
        expect(Number(timeout)).toBeLessThanOrEqual(1500);
      }
      limited = false;
      const answered = await fetch(at, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: QUERY, variables: { n: person.pers_common_child_id } }) });
      expect(answered.headers.get('retry-after')).toBeNull();
      expect(((await answered.json()) as { data: any }).data.child.firstHeld).toBe('2020-01-01');
    } finally {
      await started.stop();
      await server.stop();
    }
  });

  it.each([
    ['an unexpected error', () => new Error('connect ECONNREFUSED 127.0.0.1:5432')],
    ['SOURCE_UNAVAILABLE of its own', () => new GraphQLError('the register is unavailable at 127.0.0.1:5432', { extensions: { code: 'SOURCE_UNAVAILABLE', source: 'store' } })],
  ])('answers the same when that source answers but fails inside with %s (its own store restarting), without passing on its error', async (_what, failure) => {
    const failing = await startHolders(() => Promise.reject(failure()));
    const withFailing = await routerOver(failing.url);
    try {
      const reply = await post(withFailing.url, QUERY, { n: person.pers_common_child_id });
      expect(reply.body.data.child).toEqual({ socialCare: { personId: person.pers_person_id }, holders: [], firstHeld: null });
      expect(reply.body.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'SOURCE_UNAVAILABLE', source: 'holders' }) })]);
      expect(JSON.stringify(reply.body)).not.toMatch(/ECONNREFUSED|5432/);
    } finally {
      await withFailing.router.stop();
      await failing.server.stop();
    }
  });

  it('answers with an empty list and SOURCE_UNAVAILABLE when that source is down, keeping the rest of the child', async () => {
    const up = await post(url, QUERY, { n: person.pers_common_child_id });
    expect(up.body.data.child).toEqual({ socialCare: { personId: person.pers_person_id }, holders: ['Southshire'], firstHeld: '2020-01-01' });
    await holders.stop();
    const down = await post(url, QUERY, { n: person.pers_common_child_id });
    expect(down.body.data.child).toEqual({ socialCare: { personId: person.pers_person_id }, holders: [], firstHeld: null });
    expect(down.body.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'SOURCE_UNAVAILABLE', source: 'holders' }) })]);
  });
});
