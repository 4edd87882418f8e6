// `npm start` as a user runs it: a real process tree, real ports, Ctrl-C to the process group.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { importJWK, SignJWT } from 'jose';
import { useInternalTokenSigner } from '../../lib/internal-token.ts';
import pg from 'pg';
import { useDfeTokenClient } from '../../lib/dfe-token.ts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { processesMentioning, run, start } from '../helpers/processes.ts';
import { killLeftovers, sandboxEnv, takeSandboxTurn } from '../helpers/sandbox.ts';

let env: NodeJS.ProcessEnv;
let dataDir: string;
let endTurn: () => void = () => {};

beforeAll(async () => {
  endTurn = await takeSandboxTurn();
  // 800 children: enough for what is counted here (over 50 social care persons, over 100 pupils), and
  // each of this file's three starts generates or reads no more than that.
  ({ env, dataDir } = await sandboxEnv(800));
}, 600_000);

afterEach(() => killLeftovers(dataDir));
afterAll(() => {
  killLeftovers(dataDir);
  endTurn();
});

async function count(url: string, table: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    return result.rows[0]!.n;
  } finally {
    await client.end();
  }
}

describe('npm start', () => {
  it('starts every service, prints where each is, serves seeded stores, and stops cleanly on Ctrl-C', async () => {
    const sandbox = start('npm', ['start'], env);
    await sandbox.waitFor(/MAIS sandbox ready/);
    const out = sandbox.stdout();
    const urls = Object.fromEntries([...out.matchAll(/^(\S+) store\s+(postgresql:\/\/\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    expect(Object.keys(urls).sort()).toEqual(['central', 'northshire', 'southshire']);
    expect(out).toMatch(/^PDS sandbox\s+http:/m);
    expect(urls.northshire).toBe(`postgresql://postgres@127.0.0.1:${env.MAIS_NORTHSHIRE_STORE_PORT}/postgres`);
    expect(out.trim().split('\n').at(-1)).toMatch(/^MAIS sandbox ready/);

    expect(await count(urls.central!, 'organisation')).toBe(3);
    const persons = await count(urls.northshire!, 'ssd_person');
    expect(persons).toBeGreaterThan(50);
    expect(await count(urls.southshire!, 'edu_pupil')).toBeGreaterThan(100);

    // The CLI finds the running sandbox and reaches its stores through it.
    const demo = run(['demo', '--json'], env);
    expect(demo.status).toBe(0);
    const scenario = JSON.parse(demo.stdout);
    expect(scenario.running).toBe(true);
    expect(scenario.services.map((s: { name: string }) => s.name).sort()).toEqual([
      'DfE gateway',
      'PDS sandbox',
      'central store',
      'locator subgraph',
      'matching subgraph',
      'northshire csc subgraph',
      'northshire education subgraph',
      'northshire identity provider',
      'northshire router',
      'northshire store',
      'southshire csc subgraph',
      'southshire education subgraph',
      'southshire identity provider',
      'southshire router',
      'southshire store',
    ]);

    // /metrics is for the operator: no service answers it without the token the sandbox made (and says
    // where it is); the routers and the gateway answer it with the token.
    const metricsToken = readFileSync(join(dataDir, 'secrets', 'metrics.token'), 'utf8').trim();
    expect(out).toContain(join(dataDir, 'secrets', 'metrics.token'));
    const served: string[] = [];
    for (const service of scenario.services as { name: string; url: string }[]) {
      if (!service.url.startsWith('http')) continue;
      const bare = await fetch(new URL('/metrics', service.url));
      expect([401, 404], service.name).toContain(bare.status);
      expect(await bare.text()).not.toMatch(/^# (HELP|TYPE) /m);
      const authorised = await fetch(new URL('/metrics', service.url), { headers: { authorization: `Bearer ${metricsToken}` } });
      if (authorised.ok && /^# HELP mais_/m.test(await authorised.text())) served.push(service.name);
    }
    expect(served.sort()).toEqual(['DfE gateway', 'matching subgraph', 'northshire router', 'southshire router']);

    // The PDS sandbox serves the population to the application the sandbox registered for MATCH.
    const pdsUrl = `http://127.0.0.1:${env.MAIS_PDS_PORT}`;
    expect(out).toMatch(new RegExp(`^PDS sandbox +${pdsUrl}/personal-demographics/FHIR/R4$`, 'm'));
    const privateJwk = JSON.parse(readFileSync(join(dataDir, 'secrets', 'dfe-match.private.jwk.json'), 'utf8'));
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS512', kid: privateJwk.kid, typ: 'JWT' })
      .setIssuer('dfe-match')
      .setSubject('dfe-match')
      .setAudience(`${pdsUrl}/oauth2/token`)
      .setJti(crypto.randomUUID())
      .setExpirationTime('4m')
      .sign(await importJWK(privateJwk, 'RS512'));
    const token = await fetch(`${pdsUrl}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }),
    }).then((r) => r.json() as Promise<{ access_token: string }>);
    const example = scenario.exampleChildren[0].nhsNumber as string;
    const patient = await fetch(`${pdsUrl}/personal-demographics/FHIR/R4/Patient/${example}`, {
      headers: { Authorization: `Bearer ${token.access_token}`, 'X-Request-ID': crypto.randomUUID() },
    });
    expect(patient.status).toBe(200);
    expect(((await patient.json()) as { id: string }).id).toBe(example);

    // MATCH reaches PDS with that application's credentials; organisations reach MATCH through DfE's gateway, with a DfE token.
    const entities = JSON.stringify({ query: `{ _entities(representations: [{ __typename: "Child", nhsNumber: "${example}" }]) { ... on Child { demographics { dateOfBirth } } } }` });
    const throughGateway = `http://127.0.0.1:${env.MAIS_GATEWAY_PORT}/subgraphs/matching/graphql`;
    for (const target of [throughGateway, `http://127.0.0.1:${env.MAIS_MATCHING_PORT}/graphql`]) {
      expect((await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: entities })).status).toBe(401);
    }
    const laKey = JSON.parse(readFileSync(join(dataDir, 'secrets', 'northshire-dfe.private.jwk.json'), 'utf8'));
    const dfeToken = await useDfeTokenClient({ tokenUrl: `http://127.0.0.1:${env.MAIS_GATEWAY_PORT}/oauth2/token`, organisation: 'northshire', privateKey: laKey, resource: 'mais:dfe:matching' }).token();
    // Demographics for a stated purpose only, as the LA router states its caseworker's.
    const matching = await fetch(throughGateway, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${dfeToken}`, 'mais-purpose': 'CHILD_IN_NEED_ASSESSMENT' }, body: entities }).then(
      (r) => r.json() as Promise<{ data: { _entities: { demographics: { dateOfBirth: string } | null }[] } }>,
    );
    expect(matching.data._entities[0]!.demographics?.dateOfBirth).toMatch(/^\d{4}-\d{2}-\d{2}$/);

    // The LA subgraphs answer the LA router's internal token, and nobody else.
    const cscUrl = `http://127.0.0.1:${env.MAIS_NORTHSHIRE_CSC_PORT}/graphql`;
    const entity = JSON.stringify({ query: `{ _entities(representations: [{ __typename: "Child", nhsNumber: "${example}" }]) { ... on Child { socialCare { personId status { openCase } } } } }` });
    const anonymous = await fetch(cscUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: entity });
    expect(anonymous.status).toBe(401);
    const routerKey = JSON.parse(readFileSync(join(dataDir, 'secrets', 'northshire-router.private.jwk.json'), 'utf8'));
    const internal = await useInternalTokenSigner({ issuer: 'mais-router:northshire', privateKey: routerKey }).sign('northshire/csc', {
      sub: 'test', roles: ['csc.practitioner'], purpose: 'CHILD_IN_NEED_ASSESSMENT', decision: 'FULL', child: example, categories: ['*'],
    });
    const answered = await fetch(cscUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${internal}` }, body: entity }).then(
      (r) => r.json() as Promise<{ data: { _entities: { socialCare: { personId: string } | null }[] } }>,
    );
    expect(answered.data._entities).toHaveLength(1);
    expect(scenario.las.map((la: { code: string; routerUrl: string }) => [la.code, la.routerUrl])).toEqual([
      ['northshire', `http://127.0.0.1:${env.MAIS_NORTHSHIRE_ROUTER_PORT}/graphql`],
      ['southshire', `http://127.0.0.1:${env.MAIS_SOUTHSHIRE_ROUTER_PORT}/graphql`],
    ]);
    expect(scenario.exampleChildren.length).toBeGreaterThan(0);
    const migrate = run(['db', 'migrate', '--json'], env);
    expect(migrate.stderr).toBe('');
    expect(migrate.status).toBe(0);
    expect(JSON.parse(migrate.stdout).map((r: { location: string; applied: string[] }) => [r.location.startsWith('postgresql://'), r.applied])).toEqual([
      [true, []],
      [true, []],
      [true, []],
    ]);

    // A service that dies is started again by the sandbox, on the same port, and recorded with its new pid.
    const pidOf = () => (JSON.parse(readFileSync(join(dataDir, 'sandbox.json'), 'utf8')) as { services: { name: string; pid: number }[] }).services.find((s) => s.name === 'northshire education subgraph')!.pid;
    const killed = pidOf();
    process.kill(killed, 'SIGKILL');
    await expect.poll(pidOf, { timeout: 30_000, interval: 200 }).not.toBe(killed);
    const health = await fetch(`http://127.0.0.1:${env.MAIS_NORTHSHIRE_EDUCATION_PORT}/health`);
    expect(health.status).toBe(200);
    expect(sandbox.stderr()).toMatch(/northshire education subgraph stopped unexpectedly \(SIGKILL\); starting it again/);

    // DfE's gateway dies while the central store it needs restarts: the gateway is tried again until the
    // store is back, and both serve again.
    const pids = () => Object.fromEntries((JSON.parse(readFileSync(join(dataDir, 'sandbox.json'), 'utf8')) as { services: { name: string; pid: number }[] }).services.map((s) => [s.name, s.pid]));
    const before = pids();
    process.kill(before['central store']!, 'SIGTERM');
    process.kill(before['DfE gateway']!, 'SIGKILL');
    await expect.poll(() => { const now = pids(); return now['central store'] !== before['central store'] && now['DfE gateway'] !== before['DfE gateway']; }, { timeout: 60_000, interval: 250 }).toBe(true);
    await expect.poll(async () => (await fetch(`http://127.0.0.1:${env.MAIS_GATEWAY_PORT}/ready`).catch(() => null))?.status, { timeout: 30_000, interval: 250 }).toBe(200);

    expect(await sandbox.interrupt('SIGINT')).toBe(0);
    expect(processesMentioning(dataDir)).toEqual([]);
    expect(existsSync(join(dataDir, 'sandbox.json'))).toBe(false);

    // Second start: the same data, no generation, no seeding.
    const again = start('npm', ['start'], env);
    await again.waitFor(/MAIS sandbox ready/);
    expect(again.stderr()).not.toMatch(/generating|seeded/);
    expect(await count(urls.northshire!, 'ssd_person')).toBe(persons);
    expect(await again.interrupt('SIGTERM')).toBe(0);
    expect(processesMentioning(dataDir)).toEqual([]);
  }, 240_000);

  it('says which service could not start and why, exits non-zero and leaves nothing running', async () => {
    const blocker: Server = createServer();
    const port = Number(env.MAIS_SOUTHSHIRE_STORE_PORT);
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const sandbox = start('npm', ['start'], env);
      const code = await new Promise<number | null>((resolve) => sandbox.child.once('exit', resolve));
      expect(code).not.toBe(0);
      expect(sandbox.stderr()).toMatch(new RegExp(`southshire store did not start: .*EADDRINUSE.*${port}`));
      expect(sandbox.stderr()).not.toMatch(/\n\s+at /);
      expect(processesMentioning(dataDir)).toEqual([]);
    } finally {
      blocker.close();
    }
  });

  it('starts afresh with --reset', async () => {
    const sandbox = start('npm', ['start', '--', '--reset'], { ...env, MAIS_CHILDREN: '600' });
    await sandbox.waitFor(/MAIS sandbox ready/);
    expect(sandbox.stderr()).toMatch(/generating a synthetic population of 600 children/);
    expect(sandbox.stderr()).toMatch(/northshire store: seeded \d+ rows/);
    expect(await sandbox.interrupt('SIGINT')).toBe(0);
  }, 150_000);
});
