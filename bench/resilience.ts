// `npm run bench:resilience [-- --duration S --fault-seconds S --connections N --children N --seed N --pds-rate-limit N]`:
// the sandbox under a steady mix of single-view queries from many caseworkers (autocannon, fixed
// duration), then the same load through faults, one at a time: a local subgraph hangs, a local subgraph
// is killed (and started again by the sandbox, as a cluster would), DfE's gateway stops, PDS answers 429
// and 503 storms, DfE suspends the LA, and another LA posts the largest schema checks DfE's registry
// allows as fast as its limits let it (held when the steady load's p99 stays within 1.5× of the load
// phase's and DfE's /health answers throughout), and another LA's caseworkers flood MATCH with children
// PDS does not hold (held when none of the load's answers is unavailable, a caseworker asking for
// demographics alone gets them every time with a p99 within 1.5× of the load phase's, and the flood is
// refused RATE_LIMITED past its share). For each: 5xx answers,
// data-bearing and partial answers (which sources were unavailable), error
// rate, p50/p99/max latency, the router's RSS, how long the service took to recover after the fault
// ended, and whether every data-bearing answer has its audit entry (and the chain verifies). Prints a
// table and writes bench/results/resilience.json.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import type { JWK } from 'jose';
import { LA_AUDIT, verifyAudit } from '../lib/audit/chain.ts';
import { openSqlStore } from '../lib/db/sql-store.ts';
import { freePort } from '../lib/net.ts';
import { CLI_CLIENT, SANDBOX_USER_GRANT } from '../sandbox/idp/provider.ts';
import { MATCH_PDS_APPLICATION } from '../sandbox/config.ts';
import { useDfeTokenClient } from '../lib/dfe-token.ts';
import { useInternalTokenSigner } from '../lib/internal-token.ts';
import { openStore, type LocalClient } from '../lib/db/store.ts';
import { PdsClient } from '../subgraphs/matching/pds/client.ts';
import { cscSdl } from '../subgraphs/csc/sdl.ts';
import { educationSdl } from '../subgraphs/education/sdl.ts';
import { findIdentifiers, populationIdentifiers, scanDatabase } from './leak-scan.ts';
import { fuzz, fuzzSsdImport, graphqlCases, judgeFhir, judgeGraphql, pdsCases, schemaShape, writeSsdExtract, type FuzzReport } from './fuzz.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '300' },
    'fault-seconds': { type: 'string', default: '30' },
    connections: { type: 'string', default: '16' },
    children: { type: 'string', default: '1500' },
    seed: { type: 'string', default: '11' },
    'pds-rate-limit': { type: 'string', default: '100' },
    'gateway-rate-limit': { type: 'string', default: '60000' },
    'router-rate-limit': { type: 'string', default: '60000' },
    phases: { type: 'string' },
    'keep-logs': { type: 'boolean', default: false },
    'fuzz-requests': { type: 'string', default: '1000' },
  },
});
const log = (line: string) => process.stderr.write(`${line}\n`);
const root = fileURLToPath(new URL('..', import.meta.url));
const DEADLINE_MS = 3000;
const RECOVERY_LIMIT_MS = 10_000;
const work = mkdtempSync(join(tmpdir(), 'mais-bench-resilience-'));

// ---- the sandbox, on free ports in a folder of its own
// PDS's rate limit is per application and agreed with NHS England; the sandbox's default (5/s, PDS's
// starting limit) would make every view past the fifth in a second wait for demographics, so the bench
// sets it to what its load asks (`--pds-rate-limit`, 100: about three times what the steady load asks, so that another LA's flood contends for it). Likewise DfE's per-organisation limit (6,000 calls a
// minute: each view is three calls, to FIND, MATCH and the relay) and the router's per-caseworker limit
// (600 a minute): the bench's ten caseworkers each ask many times faster than a person does.
const env: NodeJS.ProcessEnv = { ...process.env, MAIS_DATA_DIR: join(work, 'data'), MAIS_CHILDREN: values.children, MAIS_SEED: values.seed, MAIS_PDS_RATE_LIMIT: values['pds-rate-limit'], MAIS_GATEWAY_RATE_LIMIT: values['gateway-rate-limit'], MAIS_ROUTER_RATE_LIMIT: values['router-rate-limit'] };
for (const name of ['PDS', 'MATCHING', 'LOCATOR', 'CENTRAL_STORE', 'GATEWAY', ...['STORE', 'ROUTER', 'CSC', 'EDUCATION', 'IDP'].flatMap((k) => [`NORTHSHIRE_${k}`, `SOUTHSHIRE_${k}`])]) {
  env[`MAIS_${name}_PORT`] = String(await freePort());
}
log(`starting the sandbox (${values.children} children, seed ${values.seed}) in ${work}`);
const sandboxLog = openSync(join(work, 'sandbox.log'), 'a');
const sandbox = spawn(process.execPath, ['--import', 'tsx', join(root, 'sandbox/main.ts')], { cwd: root, env, stdio: ['ignore', 'pipe', sandboxLog] });
const printed = await new Promise<string>((resolve, reject) => {
  let out = '';
  sandbox.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (/MAIS sandbox ready/.test(out)) resolve(out);
  });
  sandbox.once('exit', (code) => reject(new Error(`the sandbox exited (${code}) before it was ready; see ${join(work, 'sandbox.log')}`)));
});
const line = (name: string) => new RegExp(`^${name}\\s+(\\S+)$`, 'm').exec(printed)?.[1] ?? '';
const routerUrl = line('northshire router');
const storeUrl = line('northshire store');
const centralUrl = line('central store');
const pdsOrigin = new URL(line('PDS sandbox')).origin;
let failed = false;
const state = () => {
  try {
    return JSON.parse(readFileSync(join(env.MAIS_DATA_DIR!, 'sandbox.json'), 'utf8')) as { services: { name: string; url: string; pid: number }[] };
  } catch {
    failed = true;
    throw new Error(`the sandbox stopped; its log is kept: ${join(work, 'sandbox.log')}`);
  }
};
const pidOf = (name: string) => state().services.find((s) => s.name === name)!.pid;

async function shutdown(): Promise<void> {
  if (sandbox.exitCode === null && sandbox.signalCode === null) {
    const exited = new Promise((resolve) => sandbox.once('exit', resolve));
    sandbox.kill('SIGINT');
    await exited;
  }
  closeSync(sandboxLog);
}

try {
  // ---- many caseworkers, each asking about the children allocated to them
  const demo = JSON.parse(
    await new Promise<string>((resolve, reject) => {
      const cli = spawn(process.execPath, ['--import', 'tsx', join(root, 'cli/main.ts'), 'demo', '--json'], { cwd: root, env, stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      cli.stdout.on('data', (c: Buffer) => (out += c.toString()));
      cli.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`mais demo exited ${code}`))));
    }),
  ) as { las: { code: string; caseworkers: { username: string; roles: string[]; allocatedChildren: string[] }[] }[] };
  /** A caseworker's access token from their LA's identity provider, as the CLI gets one. */
  const tokenFor = async (username: string, la = 'northshire') => {
    const secret = readFileSync(join(env.MAIS_DATA_DIR!, 'secrets', `${la}-idp-cli.secret`), 'utf8').trim();
    const response = await fetch(`${line(`${la} identity provider`)}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${CLI_CLIENT}:${secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: SANDBOX_USER_GRANT, username }),
    });
    return ((await response.json()) as { access_token: string }).access_token;
  };
  const workers = demo.las.find((l) => l.code === 'northshire')!.caseworkers.filter((c) => c.roles.includes('csc.practitioner') && c.allocatedChildren.length > 0);
  const [prober, ...loaders] = workers;
  if (!prober || loaders.length === 0) throw new Error('the population has too few allocated caseworkers');
  const QUERY = `query ($n: NhsNumber!) { child(nhsNumber: $n, purpose: CHILD_PROTECTION_ENQUIRY) {
    nhsNumber demographics { familyName } socialCare { status { openCase childProtectionPlan lookedAfter } referrals { referralDate } }
    education { attendance { persistentAbsence } } locations { custodian { code } recordType }
    sharedRecords { custodian socialCare { openCase childProtectionPlan allocatedTeam asOf } } } }`;
  // Each connection is one caseworker's (two each for sixteen connections), asking about their children in
  // turn, as a team at work does: no caseworker has more views open at once than their connections.
  const perWorker: { headers: Record<string, string>; body: string }[][] = [];
  for (const worker of loaders) {
    const token = await tokenFor(worker.username);
    perWorker.push(worker.allocatedChildren.map((n) => ({ headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: QUERY, variables: { n } }) })));
  }
  const requests = perWorker.flat();
  const probeToken = await tokenFor(prober.username);
  // The prober (a caseworker the load does not use) asks for their children's demographics alone.
  const demographicsRequests = prober.allocatedChildren.map((n) => ({
    headers: { 'content-type': 'application/json', authorization: `Bearer ${probeToken}` },
    body: JSON.stringify({ query: `query ($n: NhsNumber!) { child(nhsNumber: $n, purpose: CHILD_PROTECTION_ENQUIRY) { demographics { familyName } } }`, variables: { n } }),
  }));
  const probeChild = prober.allocatedChildren[0]!;
  log(`${loaders.length} caseworkers, ${requests.length} distinct single-view requests; prober ${prober.username}`);

  /** One probe: true when none of `sources` is named SOURCE_UNAVAILABLE. */
  const healthy = async (sources: string[]) => {
    try {
      const response = await fetch(routerUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${probeToken}` }, body: JSON.stringify({ query: QUERY, variables: { n: probeChild } }), signal: AbortSignal.timeout(DEADLINE_MS + 2000) });
      const body = (await response.json()) as { data?: { child?: unknown }; errors?: { extensions?: { code?: string; source?: string } }[] };
      return response.status === 200 && Boolean(body.data?.child) && !(body.errors ?? []).some((e) => e.extensions?.code === 'SOURCE_UNAVAILABLE' && sources.includes(e.extensions.source ?? ''));
    } catch {
      return false;
    }
  };
  const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pidOf('northshire router')}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  const audit = await openSqlStore({ kind: 'local', url: storeUrl, poolSize: 1, migrate: false });
  const loaderNames = loaders.map((w) => w.username);
  const auditedAnswers = async () =>
    Number((await audit.sql.withSession((db) => db.query<{ n: string }>(`SELECT count(*) AS n FROM la_audit_entry WHERE actor = ANY($1) AND outcome IN ('OK', 'PARTIAL')`, [loaderNames])))[0]!.n);

  /** What the relay carried from southshire to northshire during the run: none of it may be left at DfE. */
  const carried = new Set<string>();

  interface PhaseResult {
    phase: string;
    requests: number;
    dataBearing: number;
    partial: number;
    /** The demographics-only probe beside the load: how many asked, answered without them, and latency. */
    demographics: { asked: number; missing: number; p50Ms: number; p99Ms: number };
    /** Partial answers by their first error's code (and source). */
    partialWhy: Record<string, number>;
    /** SOURCE_UNAVAILABLE answers by source. */
    unavailable: Record<string, number>;
    /** Answers without the child, by their first error's code (and source). */
    withoutData: Record<string, number>;
    fiveXx: number;
    errorRate: number;
    p50Ms: number;
    p99Ms: number;
    maxMs: number;
    rssStartMiB: number;
    rssEndMiB: number;
    recoveredMs: number | null;
    auditEntries: number;
    auditLost: number;
    /** For the registry phase: the bombs' answers by HTTP status, and DfE's /health probed meanwhile. */
    registry?: { checks: Record<string, number>; healthProbes: number; healthFailures: number; healthMaxMs: number };
    /** For the PDS flood: the flood's answers by status or error code, and PDS calls made for each organisation meanwhile. */
    flood?: { answers: Record<string, number>; pdsCalls: Record<string, number> };
    /** No 5xx, no audit entry lost, no answer without the child except as the phase allows, recovered in time (and, under steady load, RSS grew at most 10%). */
    held?: boolean;
  }

  interface Fault {
    /** The sources a probe must find answering again for the service to count as recovered. */
    sources: string[];
    faultSeconds: number;
    start(): void | Promise<void>;
    end(): void | Promise<void>;
  }

  /** Load for `seconds`, with `fault` started after 2 s and ended `faultSeconds` later; then time to recovery. */
  async function phase(name: string, seconds: number, fault?: Fault): Promise<PhaseResult> {
    let next = 0;
    let dataBearing = 0;
    let fiveXx = 0;
    let errored = 0;
    let partial = 0;
    const partialWhy: Record<string, number> = {};
    const unavailable: Record<string, number> = {};
    const withoutData: Record<string, number> = {};
    const auditBefore = await auditedAnswers();
    const rssStart = rss();
    const run = autocannon({
      url: routerUrl,
      method: 'POST',
      connections: Number(values.connections),
      duration: seconds,
      timeout: 10,
      // autocannon clears a connection's context when it comes to the end of this list: a long list of
      // the same request keeps each connection with its caseworker.
      requests: Array.from({ length: 100_000 }, () => ({
          setupRequest: (request: object, context: { own?: { headers: Record<string, string>; body: string }[]; asked?: number }) => {
            context.own ??= perWorker[next++ % perWorker.length]!;
            context.asked = (context.asked ?? 0) + 1;
            return { ...request, ...context.own[context.asked % context.own.length]! };
          },
          onResponse: (status, body) => {
            if (status >= 500) fiveXx++;
            try {
              const parsed = JSON.parse(body) as { data?: { child?: unknown } | null; errors?: unknown[] };
              if (parsed.data?.child) dataBearing++;
              for (const record of (parsed.data?.child as { sharedRecords?: { socialCare?: { allocatedTeam?: string | null; asOf?: string } | null }[] } | undefined)?.sharedRecords ?? []) {
                if (record.socialCare?.asOf) carried.add(record.socialCare.asOf);
                if (record.socialCare?.allocatedTeam) carried.add(record.socialCare.allocatedTeam);
              }
              if (parsed.data?.child && (parsed.errors ?? []).length > 0) {
                partial++;
                const first = ((parsed.errors ?? []) as { extensions?: { code?: string; source?: string; serviceName?: string } }[])[0]?.extensions;
                const why = [first?.code ?? '?', first?.source ?? first?.serviceName].filter(Boolean).join(' ');
                partialWhy[why] = (partialWhy[why] ?? 0) + 1;
              }
              for (const e of (parsed.errors ?? []) as { extensions?: { code?: string; source?: string } }[]) {
                if (e.extensions?.code === 'SOURCE_UNAVAILABLE') unavailable[e.extensions.source ?? '?'] = (unavailable[e.extensions.source ?? '?'] ?? 0) + 1;
              }
              if (status !== 200 || !parsed.data?.child) {
                errored++;
                const first = ((parsed.errors ?? []) as { extensions?: { code?: string; source?: string } }[])[0]?.extensions;
                const why = first ? [first.code, first.source].filter(Boolean).join(' ') : `HTTP ${status}`;
                withoutData[why] = (withoutData[why] ?? 0) + 1;
              }
            } catch {
              errored++;
              withoutData[`HTTP ${status}, not JSON`] = (withoutData[`HTTP ${status}, not JSON`] ?? 0) + 1;
            }
          },
        })),
    });
    // Beside the load, the caseworkers' demographics alone, ten times a second: what a PDS flood must not slow.
    const demographics = { latencies: [] as number[], missing: 0 };
    let probing = true;
    const demographicsProbe = (async () => {
      for (let i = 0; probing; i++) {
        const started = performance.now();
        const answer = await fetch(routerUrl, { method: 'POST', headers: demographicsRequests[i % demographicsRequests.length]!.headers, body: demographicsRequests[i % demographicsRequests.length]!.body, signal: AbortSignal.timeout(DEADLINE_MS + 2000) })
          .then((r) => r.json() as Promise<{ data?: { child?: { demographics?: unknown } | null }; errors?: unknown[] }>)
          .catch(() => null);
        demographics.latencies.push(performance.now() - started);
        if (!answer?.data?.child?.demographics || (answer.errors ?? []).length > 0) demographics.missing++;
        await sleep(100);
      }
    })();
    let recoveredMs: number | null = null;
    if (fault) {
      await sleep(2000);
      log(`  ${name}: fault on for ${fault.faultSeconds} s`);
      await fault.start();
      await sleep(fault.faultSeconds * 1000);
      await fault.end();
      const ended = Date.now();
      while (Date.now() - ended < 60_000 && !(await healthy(fault.sources))) await sleep(250);
      recoveredMs = Date.now() - ended;
      log(`  ${name}: fault off; recovered in ${recoveredMs} ms`);
    }
    const result = await run;
    probing = false;
    await demographicsProbe;
    const sorted = demographics.latencies.sort((a, b) => a - b);
    const percentile = (p: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0);
    // Entries are written before answers leave; give the last ones a moment to commit.
    await sleep(500);
    const auditEntries = (await auditedAnswers()) - auditBefore;
    return {
      phase: name,
      requests: result.requests.total,
      dataBearing,
      partial,
      partialWhy,
      unavailable,
      withoutData,
      fiveXx,
      errorRate: result.requests.total ? Math.round((errored / result.requests.total) * 10_000) / 10_000 : 0,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      maxMs: result.latency.max,
      rssStartMiB: Math.round(rssStart),
      rssEndMiB: Math.round(rss()),
      recoveredMs,
      auditEntries,
      auditLost: Math.max(0, dataBearing - auditEntries),
      demographics: { asked: sorted.length, missing: demographics.missing, p50Ms: percentile(50), p99Ms: percentile(99) },
    };
  }

  const faultSeconds = Number(values['fault-seconds']);
  const signal = (service: string, sig: NodeJS.Signals) => () => void process.kill(pidOf(service), sig);
  /** Stops `service` with `sig`; the fault ends when the sandbox has started it again (as a cluster would). */
  const restarted = (service: string, sig: NodeJS.Signals) => {
    let stopped = 0;
    return {
      faultSeconds: 0,
      start: () => {
        stopped = pidOf(service);
        process.kill(stopped, sig);
      },
      end: async () => {
        for (;;) {
          const pid = state().services.find((s) => s.name === service)?.pid;
          if (pid && pid !== stopped) break;
          await sleep(100);
        }
      },
    };
  };
  const pdsStorm = (status: 429 | 500 | 503) => ({
    sources: ['matching'],
    faultSeconds,
    start: async () => void (await fetch(`${pdsOrigin}/_sandbox/fault`, { method: 'PUT', body: JSON.stringify({ status, seconds: faultSeconds + 5 }) })),
    end: async () => void (await fetch(`${pdsOrigin}/_sandbox/fault`, { method: 'DELETE' })),
  });
  // DfE suspends the LA itself: its DfE calls are refused until it is reinstated; its own records still show.
  const setStatus = (status: 'ACTIVE' | 'SUSPENDED') => async () => {
    const central = await openSqlStore({ kind: 'central', url: centralUrl, poolSize: 1, migrate: false });
    await central.sql.withSession((db) => db.query(`UPDATE organisation SET status = $1 WHERE code = 'northshire'`, [status]));
    await central.close();
  };
  /**
   * Southshire, as a hostile organisation would, posts the largest schema DfE's registry allows (490 keyed
   * types, 4,900 fields and arguments, padded to 250 KiB; it composes, so every check does the whole
   * work) from four loops, as fast as its limits allow (a 429's Retry-After, at most a second), while
   * DfE's /health is asked every 200 ms.
   */
  const registryBombs = () => {
    const health = { probes: 0, failures: 0, maxMs: 0 };
    const checks: Record<string, number> = {};
    let running = false;
    let loops: Promise<void>[] = [];
    const types = Array.from({ length: 490 }, (_, i) => `type T${i} @key(fields: "id") { id: ID! ${[0, 1, 2].map((j) => `f${j}(a: Int, b: String): T${(i * 7 + j) % 490}`).join(' ')} }`);
    const core = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])\ntype Query { bomb: T0 }\n${types.join('\n')}\n`;
    const sdl = `${core}# ${'x'.repeat(250 * 1024 - core.length)}\n`;
    return {
      fault: {
        sources: ['locator', 'matching', 'relay'],
        faultSeconds,
        start: () => {
          running = true;
          const gateway = state().services.find((s) => s.name === 'DfE gateway')!.url;
          const key = JSON.parse(readFileSync(join(env.MAIS_DATA_DIR!, 'secrets', 'southshire-dfe.private.jwk.json'), 'utf8')) as JWK;
          const client = useDfeTokenClient({ tokenUrl: `${gateway}/oauth2/token`, organisation: 'southshire', privateKey: key, resource: 'mais:dfe:registry' });
          const body = JSON.stringify({ name: 'bomb', url: 'http://southshire.example/bomb/graphql', sdl });
          const bomber = async () => {
            while (running) {
              const response = await fetch(`${gateway}/registry/check`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${await client.token()}` }, body }).catch(() => null);
              const status = response ? String(response.status) : 'no answer';
              checks[status] = (checks[status] ?? 0) + 1;
              await response?.arrayBuffer();
              if (response?.status === 429) await sleep(Math.min(1000, Number(response.headers.get('retry-after') ?? 1) * 1000));
            }
          };
          const prober = async () => {
            while (running) {
              const started = performance.now();
              const ok = await fetch(`${gateway}/health`, { signal: AbortSignal.timeout(5000) }).then((r) => r.ok, () => false);
              health.probes++;
              if (!ok) health.failures++;
              health.maxMs = Math.max(health.maxMs, Math.round(performance.now() - started));
              await sleep(200);
            }
          };
          loops = [bomber(), bomber(), bomber(), bomber(), prober()];
        },
        end: async () => {
          running = false;
          await Promise.all(loops);
        },
      } satisfies Fault,
      result: () => ({ checks, healthProbes: health.probes, healthFailures: health.failures, healthMaxMs: health.maxMs }),
    };
  };
  const bombs = registryBombs();
  /**
   * Southshire's caseworkers flood MATCH, as a team running a bulk match might, with children PDS does not
   * hold (each match makes every search MATCH knows before it gives up): four accounts, each from six
   * loops, through southshire's router, as fast as MATCH lets them (a refusal's Retry-After, at most a
   * second). PDS calls by organisation are read from MATCH's metrics before and after.
   */
  const pdsFlood = () => {
    const answers: Record<string, number> = {};
    let running = false;
    let loops: Promise<void>[] = [];
    let before: Record<string, number> = {};
    let after: Record<string, number> = {};
    const southRouter = line('southshire router');
    const metricsToken = readFileSync(join(env.MAIS_DATA_DIR!, 'secrets', 'metrics.token'), 'utf8').trim();
    const pdsCalls = async () => {
      const text = await (await fetch(new URL('/metrics', state().services.find((s) => s.name === 'matching subgraph')!.url), { headers: { authorization: `Bearer ${metricsToken}` } })).text();
      return Object.fromEntries([...text.matchAll(/^mais_match_pds_calls_total\{organisation="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
    };
    /** A name for each number, in letters only (as names are): 0 → a, 25 → z, 26 → ba, … */
    const letters = (n: number): string => (n >= 26 ? letters(Math.floor(n / 26)) : '') + String.fromCharCode(97 + (n % 26));
    const MATCH_QUERY = `query ($input: DemographicsInput!) { matchChild(input: $input, purpose: CHILD_IN_NEED_ASSESSMENT) { status } }`;
    return {
      fault: {
        sources: ['matching'],
        faultSeconds,
        start: async () => {
          running = true;
          before = await pdsCalls();
          const south = demo.las.find((l) => l.code === 'southshire')!.caseworkers.filter((c) => c.roles.includes('csc.practitioner')).slice(0, 4);
          const tokens = await Promise.all(south.map((c) => tokenFor(c.username, 'southshire')));
          let serial = 0;
          const flooder = async (token: string) => {
            while (running) {
              // A middle name and a postcode, as a bulk extract has them: MATCH tries every search it knows.
              const input = { givenName: `Nobody${letters(serial++)} Ann`, familyName: 'Unheldsworth', dateOfBirth: '2015-06-15', gender: 'FEMALE', postcode: 'LS1 6AE' };
              const response = await fetch(southRouter, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: MATCH_QUERY, variables: { input } }), signal: AbortSignal.timeout(10_000) }).catch(() => null);
              const body = response ? ((await response.json().catch(() => null)) as { data?: { matchChild?: { status?: string } | null }; errors?: { extensions?: { code?: string } }[] } | null) : null;
              const outcome = !response ? 'no answer' : (body?.data?.matchChild?.status ?? body?.errors?.[0]?.extensions?.code ?? `HTTP ${response.status}`);
              answers[outcome] = (answers[outcome] ?? 0) + 1;
              // As fast as MATCH lets it: a refusal's Retry-After, at most a second.
              if (outcome === 'RATE_LIMITED') await sleep(Math.min(1000, Number(response?.headers.get('retry-after') ?? 1) * 1000));
            }
          };
          loops = tokens.flatMap((token) => Array.from({ length: 6 }, () => flooder(token)));
        },
        end: async () => {
          running = false;
          await Promise.all(loops);
          after = await pdsCalls();
        },
      } satisfies Fault,
      result: () => ({ answers, pdsCalls: Object.fromEntries(Object.keys(after).map((organisation) => [organisation, (after[organisation] ?? 0) - (before[organisation] ?? 0)])) }),
    };
  };
  const flood = pdsFlood();

  /** `refusals`: why an answer may carry no child during this phase (first error's code and source); otherwise every answer must. */
  const PHASES: { key: string; name: string; seconds: number; fault?: Fault; refusals?: string[] }[] = [
    { key: 'load', name: 'load held', seconds: Number(values.duration) },
    { key: 'csc-hangs', name: 'csc subgraph hangs', seconds: faultSeconds + 15, fault: { sources: ['csc'], faultSeconds, start: signal('northshire csc subgraph', 'SIGSTOP'), end: signal('northshire csc subgraph', 'SIGCONT') } },
    { key: 'csc-killed', name: 'csc subgraph killed', seconds: 30, fault: { sources: ['csc'], ...restarted('northshire csc subgraph', 'SIGKILL') } },
    // A store restarted as an operator restarts PostgreSQL: it stops cleanly and comes back on the same port.
    // While the LA store is away nothing can be audited, so no child's data may leave: those answers must
    // name the audit unavailable.
    { key: 'la-store', name: 'LA store restarted', seconds: 30, refusals: ['SOURCE_UNAVAILABLE audit'], fault: { sources: ['csc', 'education'], ...restarted('northshire store', 'SIGTERM') } },
    { key: 'central-store', name: 'central store restarted', seconds: 30, fault: { sources: ['locator', 'matching', 'relay'], ...restarted('central store', 'SIGTERM') } },
    { key: 'gateway', name: 'DfE gateway stopped', seconds: faultSeconds + 15, fault: { sources: ['locator', 'matching', 'relay'], faultSeconds, start: signal('DfE gateway', 'SIGSTOP'), end: signal('DfE gateway', 'SIGCONT') } },
    { key: 'pds-429', name: 'PDS 429 storm', seconds: faultSeconds + 15, fault: pdsStorm(429) },
    { key: 'pds-500', name: 'PDS 500 storm', seconds: faultSeconds + 15, fault: pdsStorm(500) },
    { key: 'pds-503', name: 'PDS 503 storm', seconds: faultSeconds + 15, fault: pdsStorm(503) },
    { key: 'suspended', name: 'northshire suspended at DfE', seconds: faultSeconds + 15, fault: { sources: ['locator', 'matching', 'relay'], faultSeconds, start: setStatus('SUSPENDED'), end: setStatus('ACTIVE') } },
    { key: 'registry-bombs', name: 'registry bombs from southshire', seconds: faultSeconds + 15, fault: bombs.fault },
    { key: 'pds-flood', name: 'PDS flood from southshire', seconds: faultSeconds + 15, fault: flood.fault },
  ];
  const keys = [...PHASES.map((p) => p.key), 'bad-inputs'];
  const chosen = values.phases ? values.phases.split(',') : keys;
  const unknown = chosen.filter((key) => !keys.includes(key));
  if (unknown.length > 0) throw new Error(`no phase ${unknown.join(', ')}; the phases are ${keys.join(', ')}`);

  log('warming up');
  const warmUp = await phase('warm-up', 10);
  const results: PhaseResult[] = [];
  for (const { key, name, seconds, fault, refusals = [] } of PHASES) {
    if (!chosen.includes(key)) continue;
    log(`${name}: ${seconds} s`);
    const result = await phase(name, seconds, fault);
    // The bombs' phase holds only if the others' answers stay as fast as under steady load, and DfE's /health answers throughout.
    const steadyP99 = results.find((r) => r.phase === 'load held')?.p99Ms ?? warmUp.p99Ms;
    const steadyDemographicsP99 = results.find((r) => r.phase === 'load held')?.demographics.p99Ms ?? warmUp.demographics.p99Ms;
    if (key === 'registry-bombs') result.registry = bombs.result();
    if (key === 'pds-flood') result.flood = flood.result();
    result.held =
      (key !== 'registry-bombs' || (result.p99Ms <= Math.max(1, steadyP99) * 1.5 && result.registry!.healthFailures === 0 && result.registry!.healthProbes > 0)) &&
      // Northshire's demographics answer as under steady load while southshire floods MATCH: none missing or
      // unavailable, their p99 within 1.5× of the load phase's; and the flood was refused past its share.
      (key !== 'pds-flood' ||
        (result.demographics.missing === 0 &&
          result.demographics.p99Ms <= Math.max(1, steadyDemographicsP99) * 1.5 &&
          Object.keys(result.unavailable).length === 0 &&
          (result.flood!.answers.RATE_LIMITED ?? 0) > 0)) &&
      result.fiveXx === 0 &&
      result.auditLost === 0 &&
      Object.keys(result.withoutData).every((why) => refusals.includes(why)) &&
      (result.recoveredMs === null || result.recoveredMs <= RECOVERY_LIMIT_MS) &&
      (key !== 'load' || result.rssEndMiB <= result.rssStartMiB * 1.1);
    results.push(result);
  }
  // ---- bad inputs: generated requests to every GraphQL service, to PDS, and spoilt SSD extracts
  const badInputs: FuzzReport[] = [];
  if (chosen.includes('bad-inputs')) {
    const n = Number(values['fuzz-requests']);
    const seed = Number(values.seed);
    const dataDir = env.MAIS_DATA_DIR!;
    const secrets = join(dataDir, 'secrets');
    const before = state().services.map((s) => `${s.name}:${s.pid}`).sort();
    const urlOf = (name: string) => state().services.find((s) => s.name === name)!.url;
    const nhsNumbers = [...new Set(workers.flatMap((w) => w.allocatedChildren))];
    const graphqlTarget = async (target: string, url: string, headers: Parameters<typeof fuzz>[2], sdl: string, subgraph: boolean) => {
      log(`  bad inputs: ${n} generated requests to ${target}`);
      badInputs.push(await fuzz(target, url, headers, graphqlCases(schemaShape(sdl, { subgraph }), { seed, count: n, nhsNumbers }), judgeGraphql));
    };
    await graphqlTarget('northshire router', routerUrl, { authorization: `Bearer ${probeToken}` }, readFileSync(join(dataDir, 'northshire-supergraph.graphql'), 'utf8'), false);
    // Each LA subgraph as the router calls it: a token signed with the router's key, the decision made.
    const signer = useInternalTokenSigner({ issuer: 'mais-router:northshire', privateKey: JSON.parse(readFileSync(join(secrets, 'northshire-router.private.jwk.json'), 'utf8')) as JWK, ttlSeconds: 300 });
    for (const [name, sdl] of [['csc', cscSdl], ['education', educationSdl]] as const) {
      // A token for each case, as the router sends them: each used once, bound to a child.
      const token = async () => ({ authorization: `Bearer ${await signer.sign(`northshire/${name}`, { sub: prober.username, roles: prober.roles, purpose: 'CHILD_PROTECTION_ENQUIRY', decision: 'FULL', child: nhsNumbers[0], categories: ['*'] })}` });
      await graphqlTarget(`northshire ${name} subgraph`, urlOf(`northshire ${name} subgraph`), token, sdl, true);
    }
    // DfE's subgraphs through DfE's gateway, as an LA reaches them.
    const gatewayUrl = urlOf('DfE gateway');
    for (const name of ['locator', 'matching', 'relay']) {
      const token = await useDfeTokenClient({ tokenUrl: `${gatewayUrl}/oauth2/token`, organisation: 'northshire', privateKey: JSON.parse(readFileSync(join(secrets, 'northshire-dfe.private.jwk.json'), 'utf8')) as JWK, resource: `mais:dfe:${name}` }).token();
      const sdl = readFileSync(join(root, 'subgraphs', name, 'schema.graphql'), 'utf8');
      await graphqlTarget(`DfE ${name} (through the gateway)`, `${gatewayUrl}/subgraphs/${name}/graphql`, { authorization: `Bearer ${token}`, 'mais-purpose': 'CHILD_PROTECTION_ENQUIRY' }, sdl, true);
    }
    // PDS's FHIR API, as MATCH calls it.
    const pdsKey = JSON.parse(readFileSync(join(secrets, `${MATCH_PDS_APPLICATION}.private.jwk.json`), 'utf8')) as JWK;
    const pds = new PdsClient({ baseUrl: `${pdsOrigin}/personal-demographics/FHIR/R4`, credentials: { apiKey: MATCH_PDS_APPLICATION, keyId: pdsKey.kid!, privateKey: pdsKey } });
    log(`  bad inputs: ${n} generated requests to the PDS sandbox`);
    badInputs.push(await fuzz('PDS sandbox (FHIR)', `${pdsOrigin}/personal-demographics/FHIR/R4`, { authorization: `Bearer ${await pds.bearerToken()}`, 'x-request-id': randomUUID() }, pdsCases({ seed, count: n, nhsNumbers }), judgeFhir));
    // The SSD importer, into a store of its own, with spoilt copies of a small good extract.
    const ssdCount = Math.max(20, Math.round(n / 10));
    log(`  bad inputs: ${ssdCount} spoilt SSD extracts`);
    const good = join(work, 'ssd-extract');
    writeSsdExtract(join(dataDir, 'population'), 'northshire', good, 25);
    const ssdStore = await openStore({ kind: 'local', dataDir: join(work, 'ssd-store') });
    try {
      badInputs.push(await fuzzSsdImport(ssdStore.prisma as LocalClient, good, { seed, count: ssdCount, nhsNumbers }));
    } finally {
      await ssdStore.close();
    }
    // No process crashed or was started again, and every service still answers.
    const after = state().services.map((s) => `${s.name}:${s.pid}`).sort();
    const crashed = before.filter((s) => !after.includes(s)).map((s) => s.split(':')[0]!);
    const notHealthy: string[] = [];
    // Every service that speaks HTTP (the stores speak PostgreSQL's protocol: the audit reads above reach them).
    for (const s of state().services.filter((x) => x.url.startsWith('http'))) {
      const probe = s.name.endsWith('identity provider') ? `${s.url}/.well-known/openid-configuration` : new URL('/health', s.url);
      const ok = await fetch(probe, { signal: AbortSignal.timeout(5000) }).then((r) => r.ok, () => false);
      if (!ok) notHealthy.push(s.name);
    }
    // Counted against the first target (the router), so that ok fails and the table shows them.
    const problems = [...crashed.map((name) => `${name} stopped and was started again`), ...notHealthy.map((name) => `${name} did not answer /health afterwards`)];
    badInputs[0]!.problems.push(...problems);
    badInputs[0]!.problemCount += problems.length;
  }

  // ---- nothing leaks: after everything above, DfE's store, every service's log and metrics
  const ids = populationIdentifiers(join(env.MAIS_DATA_DIR!, 'population'));
  for (const text of carried) ids.carried.add(text);
  log(`nothing leaks: scanning DfE's store, the logs and every service's metrics for ${ids.nhsNumbers.size} NHS numbers, ${ids.names.size} names, ${ids.births.size} dates of birth and ${carried.size} things the relay carried`);
  // Agreements name the dates they run from and to, which may fall on a child's birthday.
  const dfeStore = await scanDatabase(centralUrl, ids, { birthsAllowedIn: ['dsa_document'] });
  const logText = readFileSync(join(work, 'sandbox.log'), 'utf8');
  const metricsText: string[] = [];
  const withMetrics: string[] = [];
  // Metrics are for the operator: read with the sandbox's metrics token.
  const metricsToken = readFileSync(join(env.MAIS_DATA_DIR!, 'secrets', 'metrics.token'), 'utf8').trim();
  for (const s of state().services.filter((x) => x.url.startsWith('http'))) {
    const response = await fetch(new URL('/metrics', s.url), { headers: { authorization: `Bearer ${metricsToken}` } }).catch(() => null);
    if (response?.ok && /^# (HELP|TYPE) /m.test(await response.clone().text())) {
      metricsText.push(await response.text());
      withMetrics.push(s.name);
    }
  }
  const leaks = {
    dfeStore: { valuesScanned: dfeStore.scanned, found: dfeStore.found },
    logs: { bytesScanned: Buffer.byteLength(logText), found: findIdentifiers(logText, ids, { births: false }) },
    metrics: { services: withMetrics, found: findIdentifiers(metricsText.join('\n'), ids) },
    relayCarried: carried.size,
  };
  // The same scan of northshire's own store, which holds them by design, finds them: the scan can fail.
  const control = (await scanDatabase(storeUrl, { ...ids, names: new Set(), births: new Set(), carried: new Set() })).found.some((f) => f.endsWith('an NHS number'));

  const chain = await audit.sql.withSession((db) => verifyAudit(db, LA_AUDIT));
  await audit.close();

  const report = {
    machine: { cpus: cpus().length, node: process.version },
    settings: { durationSeconds: Number(values.duration), faultSeconds, connections: Number(values.connections), children: Number(values.children), seed: Number(values.seed), deadlineMs: DEADLINE_MS, recoveryLimitMs: RECOVERY_LIMIT_MS },
    phases: results,
    auditChain: chain,
    badInputs,
    leaks: { ...leaks, controlScanFoundLaStoreIdentifiers: control },
    ok: results.every((r) => r.held) && chain.ok && badInputs.every((r) => r.problemCount === 0) && control && leaks.dfeStore.found.length + leaks.logs.found.length + leaks.metrics.found.length === 0,
  };
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  // Only a run of every phase replaces the figures the README quotes.
  const resultsFile = join(root, 'bench', 'results', values.phases ? 'resilience-partial.json' : 'resilience.json');
  writeFileSync(resultsFile, `${JSON.stringify(report, null, 2)}\n`);
  const counts = (byKey: Record<string, number>) => Object.entries(byKey).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ') || '–';
  const header = ['phase', 'requests', 'with data', 'partial', 'unavailable', 'without data', '5xx', 'p50 ms', 'p99 ms', 'max ms', 'RSS MiB', 'recovered', 'audited', 'lost', 'held'];
  const rows = results.map((r) => [r.phase, r.requests, r.dataBearing, r.partial, counts(r.unavailable), counts(r.withoutData), r.fiveXx, r.p50Ms, r.p99Ms, r.maxMs, `${r.rssStartMiB}→${r.rssEndMiB}`, r.recoveredMs === null ? '–' : `${(r.recoveredMs / 1000).toFixed(1)} s`, r.auditEntries, r.auditLost, r.held ? 'yes' : 'NO'].map(String));
  /** A Markdown table whose columns are as wide as their widest cell. */
  const table = (head: string[], body: string[][]) => {
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
    const format = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
    return `${[format(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(format)].join('\n')}\n`;
  };
  process.stdout.write(table(header, rows));
  for (const r of results) {
    process.stdout.write(`\n${r.phase}: demographics alone ${r.demographics.asked} asked, ${r.demographics.missing} without them, p50 ${r.demographics.p50Ms} ms, p99 ${r.demographics.p99Ms} ms\n`);
    if (Object.keys(r.partialWhy).length > 0) process.stdout.write(`\n${r.phase}: partial answers by first error ${counts(r.partialWhy)}\n`);
    if (r.flood) process.stdout.write(`\n${r.phase}: the flood's matches answered ${counts(r.flood.answers)}; PDS calls meanwhile ${counts(r.flood.pdsCalls)}\n`);
    if (r.registry) process.stdout.write(`\n${r.phase}: checks answered ${counts(r.registry.checks)}; DfE /health ${r.registry.healthProbes - r.registry.healthFailures} of ${r.registry.healthProbes} answered, slowest ${r.registry.healthMaxMs} ms\n`);
  }
  if (badInputs.length > 0) {
    process.stdout.write(`\n${table(['bad inputs to', 'tried', 'answers (HTTP status, first code)', 'problems'], badInputs.map((r) => [r.target, String(r.tried), counts(r.outcomes), String(r.problemCount)]))}`);
    for (const r of badInputs) for (const problem of r.problems) process.stdout.write(`  ${r.target}: ${problem}\n`);
  }
  process.stdout.write(
    `\nnothing leaks: DfE's store ${leaks.dfeStore.found.length ? `FOUND ${leaks.dfeStore.found.join(', ')}` : `clean (${leaks.dfeStore.valuesScanned} values)`}; logs ${leaks.logs.found.length ? `FOUND ${leaks.logs.found.join(', ')}` : `clean (${Math.round(leaks.logs.bytesScanned / 1024)} KiB)`}; metrics ${leaks.metrics.found.length ? `FOUND ${leaks.metrics.found.join(', ')}` : `clean (${leaks.metrics.services.join(', ')})`}; ${leaks.relayCarried} things the relay carried looked for${control ? '' : '; CONTROL SCAN OF THE LA STORE FOUND NOTHING'}\n`,
  );
  process.stdout.write(`audit chain: ${chain.ok ? `valid (${chain.entries} entries)` : `BROKEN at ${chain.seq}: ${chain.problem}`}; ${report.ok ? 'all held' : 'NOT ALL HELD'}\n`);
  if (!report.ok) process.exitCode = 1;
} finally {
  await shutdown();
  if (values['keep-logs'] || failed) log(`the sandbox's log: ${join(work, 'sandbox.log')}`);
  else rmSync(work, { recursive: true, force: true });
}
