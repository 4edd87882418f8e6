// `npm run bench:router [-- --children N --pairs N --duration S --rounds N --concurrency 1,8,64]`: the LA router with
// every security plugin on (caseworker tokens, decisions from the LA store, minimisation, limits, audit
// written per request) against stock @apollo/gateway in @apollo/server and @graphql-hive/gateway, on the
// same supergraph (the router's Query.child, csc and education over a seeded LA store) and the same
// single-view query. Each request asks about the next of N children in turn, as the caseworker allocated
// to that child, so concurrent requests differ as they do in use. Driven by autocannon at fixed
// concurrency; prints req/s, p50, p99 and peak RSS for each and the ratios; writes bench/results/router.json.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { composeServices } from '@apollo/composition';
import autocannon from 'autocannon';
import { exportJWK, generateKeyPair } from 'jose';
import pg from 'pg';
import { routerNodeFlags } from '../la-router/config.ts';
import { routerSdl } from '../la-router/local-subgraph.ts';
import { CHILD_HEADER } from './router/internal-token.ts';
import { freePort } from '../lib/net.ts';
import { DEFAULT_AS_OF, generatePopulation } from '../sandbox/population/generate.ts';
import { startService, stopService, type ChildService } from '../lib/service/supervisor.ts';
import { createIdentityProvider, CLI_CLIENT, SANDBOX_USER_GRANT } from '../sandbox/idp/provider.ts';
import { cscTypeDefs } from '../subgraphs/csc/sdl.ts';
import { educationTypeDefs } from '../subgraphs/education/sdl.ts';
import { parse } from 'graphql';
import { createScratchDatabase } from '../lib/db/scratch.ts';
import { openStore } from '../lib/db/store.ts';
import { seedLocalStore } from '../sandbox/seed.ts';

const { values } = parseArgs({
  options: {
    children: { type: 'string', default: '3000' },
    duration: { type: 'string', default: '15' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '1,8,64' },
    pairs: { type: 'string', default: '200' },
    'database-url': { type: 'string' },
  },
});
const log = (line: string) => process.stderr.write(`${line}\n`);
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const LA = 'northshire';
const work = mkdtempSync(join(tmpdir(), 'mais-bench-router-'));
const services: ChildService[] = [];
const spawned: ChildProcess[] = [];
let dropDatabase = async () => {};

/** Starts a plain script and waits for the line it prints when listening. */
async function spawnScript(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; url: string }> {
  // As in the LA router, no gateway sends Apollo its hourly instance report during the measurement.
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { env: { ...process.env, APOLLO_TELEMETRY_DISABLED: 'true', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  spawned.push(child);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /(http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return { child, url };
}

function peakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024);
}

try {
  const populationDir = join(work, 'population');
  await generatePopulation({ seed: 42, children: Number(values.children), outDir: populationDir, asOf: DEFAULT_AS_OF });
  // The LA store: a fresh database on the given PostgreSQL server, or the embedded store served as the sandbox serves it.
  let store: { url: string };
  if (values['database-url']) {
    const scratch = await createScratchDatabase(values['database-url'], 'mais_bench_router');
    dropDatabase = scratch.drop;
    store = { url: scratch.url };
    const opened = await openStore({ kind: 'local', dataDir: '', databaseUrl: store.url });
    await seedLocalStore(opened.prisma, populationDir, LA);
    await opened.close();
  } else {
    const host = await startService({
      name: `${LA} store`,
      main: here('../sandbox/store-host.ts'),
      args: ['--name', LA, '--kind', 'local', '--data-dir', join(work, 'store'), '--port', String(await freePort()), '--population', populationDir],
      startTimeoutMs: 180_000,
    });
    services.push(host);
    store = host;
  }

  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const routerKey = { ...(await exportJWK(privateKey)), kid: 'bench-router', alg: 'ES256' };
  writeFileSync(join(work, 'router.private.jwk.json'), JSON.stringify(routerKey));
  writeFileSync(join(work, 'router.jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'bench-router', alg: 'ES256' }] }));
  const subgraph = async (kind: 'csc' | 'education') => {
    const service = await startService({
      name: `${LA} ${kind} subgraph`,
      main: here(`../subgraphs/${kind}/main.ts`),
      args: ['--la', LA, '--port', String(await freePort()), '--database-url', store.url, '--router-issuer', `mais-router:${LA}`, '--router-jwks', join(work, 'router.jwks.json')],
    });
    services.push(service);
    return service.url;
  };
  const cscUrl = await subgraph('csc');
  const educationUrl = await subgraph('education');
  const routerSubgraph = await spawnScript(here('./router/router-subgraph.ts'), [String(await freePort())]);
  const composed = composeServices([
    { name: 'router', url: routerSubgraph.url, typeDefs: parse(routerSdl) },
    { name: 'csc', url: cscUrl, typeDefs: cscTypeDefs },
    { name: 'education', url: educationUrl, typeDefs: educationTypeDefs },
  ]);
  if (composed.errors) throw new Error(`composition failed: ${composed.errors.map((e) => e.message).join('; ')}`);
  const supergraphFile = join(work, 'supergraph.graphql');
  writeFileSync(supergraphFile, composed.supergraphSdl);

  // The caseworker: an allocated practitioner and their child, signed in at a real OpenID Connect provider.
  const db = new pg.Client({ connectionString: store.url });
  await db.connect();
  const users = (await db.query<{ username: string; display_name: string; roles: string[] }>('SELECT username, display_name, roles FROM la_user')).rows;
  // Many caseworkers, each asking about a child allocated to them, so no two concurrent requests need be alike.
  const allocations = (
    await db.query<{ username: string; nhs: string }>(
      `SELECT DISTINCT ON (p.pers_common_child_id) u.username, p.pers_common_child_id AS nhs FROM la_user u
         JOIN ssd_involvements i ON i.invo_professional_id = u.prof_professional_id
         JOIN ssd_person p ON p.pers_person_id = i.invo_person_id
        WHERE i.invo_professional_role_id = 'Allocated Social Worker' AND i.invo_involvement_end_date IS NULL AND p.pers_common_child_id IS NOT NULL
        ORDER BY p.pers_common_child_id LIMIT $1`,
      [Number(values.pairs)],
    )
  ).rows;
  await db.end();
  const idpPort = await freePort();
  const issuer = `http://127.0.0.1:${idpPort}`;
  const idp = createIdentityProvider({
    la: LA, issuer, audience: `mais-router:${LA}`, cliSecret: 'bench', users: users.map((u) => ({ username: u.username, displayName: u.display_name, roles: u.roles })),
    signingKey: { ...(await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey)), kid: 'bench-idp', alg: 'ES256', use: 'sig' },
  });
  const idpServer = idp.listen(idpPort, '127.0.0.1');

  const routerConfig = join(work, 'router.json');
  writeFileSync(
    routerConfig,
    JSON.stringify({
      la: LA, port: await freePort(), mode: 'production', supergraph: { file: supergraphFile },
      subgraphs: [{ name: 'csc', url: cscUrl, kind: 'la' }, { name: 'education', url: educationUrl, kind: 'la' }],
      internalTokenKey: join(work, 'router.private.jwk.json'), database: { url: store.url },
      oidc: { issuer, audience: `mais-router:${LA}` }, rateLimitPerMinute: 100_000_000, logLevel: 'warn',
    }),
  );
  const router = await startService({ name: 'LA router', main: here('../la-router/main.ts'), args: ['--config', routerConfig], nodeFlags: [...routerNodeFlags(), ...(process.env.BENCH_ROUTER_FLAGS?.split(' ') ?? [])] });
  services.push(router);
  const caseworkerTokens = new Map<string, string>();
  for (const username of new Set(allocations.map((a) => a.username))) {
    const tokenResponse = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${CLI_CLIENT}:bench`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: SANDBOX_USER_GRANT, username }),
    });
    caseworkerTokens.set(username, ((await tokenResponse.json()) as { access_token: string }).access_token);
  }
  // Stock gateways cannot decide: each signs every subgraph call a token with the full-view decision,
  // bound to the child its request names in a header (bench/router/internal-token.ts).
  const signing = JSON.stringify({ key: routerKey, issuer: `mais-router:${LA}`, la: LA, claims: { sub: allocations[0]!.username, roles: ['csc.practitioner'], purpose: 'CHILD_PROTECTION_ENQUIRY', decision: 'FULL', categories: ['*'] } });
  const stock = await spawnScript(here('./router/stock-gateway.ts'), [supergraphFile, String(await freePort())], { BENCH_SIGNING: signing });
  const hive = await spawnScript(here('./router/hive-gateway.ts'), [supergraphFile, String(await freePort())], { BENCH_SIGNING: signing });

  const query = `query View($n: NhsNumber!) { child(nhsNumber: $n, purpose: CHILD_PROTECTION_ENQUIRY) { nhsNumber socialCare { status { openCase childProtectionPlan lookedAfter } referrals { referralDate primaryNeedCode } } education { enrolments { schoolName startDate } attendance { percentage persistentAbsence } } } }`;
  const bodies = allocations.map((a) => JSON.stringify({ query, operationName: 'View', variables: { n: a.nhs } }));
  const json = { 'content-type': 'application/json' };
  const contenders: { name: string; url: string; pid: number; headers: (i: number) => Record<string, string> }[] = [
    { name: 'LA router (all on)', url: router.url, pid: router.pid, headers: (i) => ({ ...json, authorization: `Bearer ${caseworkerTokens.get(allocations[i]!.username)}` }) },
    { name: 'stock @apollo/gateway', url: `${stock.url.replace(/\/$/, '')}/`, pid: stock.child.pid!, headers: (i) => ({ ...json, [CHILD_HEADER]: allocations[i]!.nhs }) },
    { name: '@graphql-hive/gateway', url: hive.url, pid: hive.child.pid!, headers: (i) => ({ ...json, [CHILD_HEADER]: allocations[i]!.nhs }) },
  ];
  // The security plugins must not change an authorised answer: every child's answer is compared.
  let same = true;
  for (let i = 0; i < bodies.length; i++) {
    const answers = await Promise.all(contenders.map(async (c) => JSON.stringify(await (await fetch(c.url, { method: 'POST', headers: c.headers(i), body: bodies[i] })).json())));
    if (answers.every((answer) => answer === answers[0])) continue;
    same = false;
    answers.forEach((answer, j) => log(`${contenders[j]!.name} answered: ${answer.slice(0, 400)}`));
    break;
  }
  /** Each request asks about the next child in turn, as its caseworker. */
  const load = (c: (typeof contenders)[number], connections: number, duration: number) => {
    let next = 0;
    return autocannon({
      url: c.url,
      method: 'POST',
      connections,
      duration,
      requests: [
        {
          setupRequest: (request) => {
            const i = next++ % bodies.length;
            return { ...request, headers: c.headers(i), body: bodies[i] };
          },
        },
      ],
    });
  };

  const levels = values.concurrency.split(',').map(Number);
  const rows: { gateway: string; concurrency: number; rps: number; p50: number; p99: number; errors: number }[] = [];
  // At each concurrency the gateways take turns, in rounds (the first to go rotating), so a drift in the
  // machine or the database during the run falls on all of them alike. req/s is over all rounds; p50
  // and p99 are the median of the rounds'.
  const rounds = Number(values.rounds);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const connections of levels) {
    for (const c of contenders) await load(c, connections, 2); // warm up
    const results = new Map(contenders.map((c) => [c.name, [] as autocannon.Result[]]));
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < contenders.length; i++) {
        const c = contenders[(i + round) % contenders.length]!;
        results.get(c.name)!.push(await load(c, connections, Number(values.duration) / rounds));
      }
    }
    for (const c of contenders) {
      const runs = results.get(c.name)!;
      const rps = Math.round(runs.reduce((n, r) => n + r.requests.total, 0) / runs.reduce((n, r) => n + r.duration, 0));
      const row = { gateway: c.name, concurrency: connections, rps, p50: median(runs.map((r) => r.latency.p50)), p99: median(runs.map((r) => r.latency.p99)), errors: runs.reduce((n, r) => n + r.errors + r.non2xx, 0) };
      rows.push(row);
      log(`${c.name} c=${connections}: ${row.rps} req/s p50 ${row.p50} ms p99 ${row.p99} ms`);
    }
  }
  const rss = Object.fromEntries(contenders.map((c) => [c.name, peakRss(c.pid)]));
  idpServer.close();

  const ratios = levels.map((connections) => {
    const ours = rows.find((r) => r.gateway === contenders[0]!.name && r.concurrency === connections)!;
    const theirs = rows.find((r) => r.gateway === contenders[1]!.name && r.concurrency === connections)!;
    return { concurrency: connections, throughput: +(ours.rps / theirs.rps).toFixed(2), addedP99ms: +(ours.p99 - theirs.p99).toFixed(1) };
  });
  const result = { backend: values['database-url'] ? 'PostgreSQL' : 'PGlite (embedded, served over the wire)', machine: { cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30) }, children: Number(values.children), caseworkerChildPairs: bodies.length, durationSeconds: Number(values.duration), rounds, sameAnswer: same, rows, peakRssMiB: rss, ratios, targets: { throughputRatio: 0.9, addedP99msAtConcurrency1: 2, peakRssMiB: 300 } };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/router.json', `${JSON.stringify(result, null, 2)}\n`);
  const lines = [`single-view query over ${result.backend}, ${bodies.length} children asked about in turn by their allocated caseworkers, ${values.duration} s for each gateway at each concurrency in ${rounds} alternating rounds (autocannon); answers identical: ${same ? 'yes' : 'NO'}`, '  gateway                     c    req/s    p50 ms   p99 ms   errors'];
  for (const r of rows) lines.push(`  ${r.gateway.padEnd(26)} ${String(r.concurrency).padStart(3)} ${String(r.rps).padStart(8)} ${String(r.p50).padStart(9)} ${String(r.p99).padStart(8)} ${String(r.errors).padStart(8)}`);
  for (const r of ratios) lines.push(`  c=${r.concurrency}: LA router / stock throughput ${r.throughput} (target ≥ 0.9), added p99 ${r.addedP99ms} ms${r.concurrency === 1 ? ' (target < 2 ms)' : ''}`);
  for (const [name, mib] of Object.entries(rss)) lines.push(`  peak RSS ${name}: ${mib} MiB${name.startsWith('LA') ? ' (target < 300 MiB)' : ''}`);
  lines.push('  written to bench/results/router.json');
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  for (const child of spawned) child.kill('SIGTERM');
  for (const service of services.reverse()) await stopService(service).catch(() => {});
  await dropDatabase().catch(() => {});
  rmSync(work, { recursive: true, force: true });
}
