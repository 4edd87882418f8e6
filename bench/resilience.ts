// `npm run bench:resilience [-- --duration S --fault-seconds S --connections N --children N --seed N --pds-rate-limit N]`:
// the sandbox under a steady mix of single-view queries from many caseworkers (autocannon, fixed
// duration), then the same load through faults, one at a time: a local subgraph hangs, a local subgraph
// is killed (and started again by the sandbox, as a cluster would), DfE's gateway stops, PDS answers 429
// and 503 storms, DfE suspends the LA. For each: 5xx answers,
// data-bearing and partial answers (which sources were unavailable), error
// rate, p50/p99/max latency, the router's RSS, how long the service took to recover after the fault
// ended, and whether every data-bearing answer has its audit entry (and the chain verifies). Prints a
// table and writes bench/results/resilience.json.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { LA_AUDIT, verifyAudit } from '../lib/audit/chain.ts';
import { openSqlStore } from '../lib/db/sql-store.ts';
import { freePort } from '../lib/net.ts';
import { CLI_CLIENT, SANDBOX_USER_GRANT } from '../sandbox/idp/provider.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '300' },
    'fault-seconds': { type: 'string', default: '30' },
    connections: { type: 'string', default: '16' },
    children: { type: 'string', default: '1500' },
    seed: { type: 'string', default: '11' },
    'pds-rate-limit': { type: 'string', default: '200' },
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
// sets it to what its load asks (`--pds-rate-limit`).
const env: NodeJS.ProcessEnv = { ...process.env, MAIS_DATA_DIR: join(work, 'data'), MAIS_CHILDREN: values.children, MAIS_SEED: values.seed, MAIS_PDS_RATE_LIMIT: values['pds-rate-limit'] };
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
const idpUrl = line('northshire identity provider');
const storeUrl = line('northshire store');
const centralUrl = line('central store');
const pdsOrigin = new URL(line('PDS sandbox')).origin;
const state = () => JSON.parse(readFileSync(join(env.MAIS_DATA_DIR!, 'sandbox.json'), 'utf8')) as { services: { name: string; pid: number }[] };
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
  const secret = readFileSync(join(env.MAIS_DATA_DIR!, 'secrets', 'northshire-idp-cli.secret'), 'utf8').trim();
  const tokenFor = async (username: string) => {
    const response = await fetch(`${idpUrl}/token`, {
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
    education { attendance { persistentAbsence } } locations { custodian { code } recordType } } }`;
  const requests: { headers: Record<string, string>; body: string }[] = [];
  for (const worker of loaders) {
    const token = await tokenFor(worker.username);
    for (const n of worker.allocatedChildren) requests.push({ headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: QUERY, variables: { n } }) });
  }
  const probeToken = await tokenFor(prober.username);
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

  interface PhaseResult {
    phase: string;
    requests: number;
    dataBearing: number;
    partial: number;
    /** SOURCE_UNAVAILABLE answers by source. */
    unavailable: Record<string, number>;
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
  }

  /** Load for `seconds`, with `fault` started after 2 s and ended `faultSeconds` later; then time to recovery. */
  async function phase(name: string, seconds: number, fault?: { sources: string[]; faultSeconds: number; start(): void | Promise<void>; end(): void | Promise<void> }): Promise<PhaseResult> {
    let next = 0;
    let dataBearing = 0;
    let fiveXx = 0;
    let errored = 0;
    let partial = 0;
    const unavailable: Record<string, number> = {};
    const auditBefore = await auditedAnswers();
    const rssStart = rss();
    const run = autocannon({
      url: routerUrl,
      method: 'POST',
      connections: Number(values.connections),
      duration: seconds,
      timeout: 10,
      requests: [
        {
          setupRequest: (request) => ({ ...request, ...requests[next++ % requests.length]! }),
          onResponse: (status, body) => {
            if (status >= 500) fiveXx++;
            try {
              const parsed = JSON.parse(body) as { data?: { child?: unknown } | null; errors?: unknown[] };
              if (parsed.data?.child) dataBearing++;
              if (parsed.data?.child && (parsed.errors ?? []).length > 0) partial++;
              for (const e of (parsed.errors ?? []) as { extensions?: { code?: string; source?: string } }[]) {
                if (e.extensions?.code === 'SOURCE_UNAVAILABLE') unavailable[e.extensions.source ?? '?'] = (unavailable[e.extensions.source ?? '?'] ?? 0) + 1;
              }
              if (status !== 200 || !parsed.data?.child) errored++;
            } catch {
              errored++;
            }
          },
        },
      ],
    });
    let recoveredMs: number | null = null;
    if (fault) {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      log(`  ${name}: fault on for ${fault.faultSeconds} s`);
      await fault.start();
      await new Promise((resolve) => setTimeout(resolve, fault.faultSeconds * 1000));
      await fault.end();
      const ended = Date.now();
      while (Date.now() - ended < 60_000 && !(await healthy(fault.sources))) await new Promise((resolve) => setTimeout(resolve, 250));
      recoveredMs = Date.now() - ended;
      log(`  ${name}: fault off; recovered in ${recoveredMs} ms`);
    }
    const result = await run;
    // Entries are written before answers leave; give the last ones a moment to commit.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const auditEntries = (await auditedAnswers()) - auditBefore;
    return {
      phase: name,
      requests: result.requests.total,
      dataBearing,
      partial,
      unavailable,
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
    };
  }

  log('warming up');
  await phase('warm-up', 10);
  const results: PhaseResult[] = [];
  log(`load held: ${values.duration} s`);
  results.push(await phase('load held', Number(values.duration)));
  const faultSeconds = Number(values['fault-seconds']);
  const signal = (service: string, sig: NodeJS.Signals) => () => void process.kill(pidOf(service), sig);
  results.push(await phase('csc subgraph hangs', faultSeconds + 15, { sources: ['csc'], faultSeconds, start: signal('northshire csc subgraph', 'SIGSTOP'), end: signal('northshire csc subgraph', 'SIGCONT') }));
  let killed = 0;
  results.push(
    await phase('csc subgraph killed', 30, {
      sources: ['csc'],
      faultSeconds: 0,
      start: () => {
        killed = pidOf('northshire csc subgraph');
        process.kill(killed, 'SIGKILL');
      },
      // The fault ends when the sandbox has started it again (as a cluster would) and it answers /health.
      end: async () => {
        for (;;) {
          const pid = state().services.find((s) => s.name === 'northshire csc subgraph')?.pid;
          if (pid && pid !== killed) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      },
    }),
  );
  results.push(await phase('DfE gateway stopped', faultSeconds + 15, { sources: ['locator', 'matching', 'relay'], faultSeconds, start: signal('DfE gateway', 'SIGSTOP'), end: signal('DfE gateway', 'SIGCONT') }));
  const pdsStorm = (status: 429 | 503) => ({
    sources: ['matching'],
    faultSeconds,
    start: async () => void (await fetch(`${pdsOrigin}/_sandbox/fault`, { method: 'PUT', body: JSON.stringify({ status, seconds: faultSeconds + 5 }) })),
    end: async () => void (await fetch(`${pdsOrigin}/_sandbox/fault`, { method: 'DELETE' })),
  });
  results.push(await phase('PDS 429 storm', faultSeconds + 15, pdsStorm(429)));
  results.push(await phase('PDS 503 storm', faultSeconds + 15, pdsStorm(503)));
  // DfE suspends the LA itself: its DfE calls are refused until it is reinstated; its own records still show.
  const central = await openSqlStore({ kind: 'central', url: centralUrl, poolSize: 1, migrate: false });
  const setStatus = (status: 'ACTIVE' | 'SUSPENDED') => async () => void (await central.sql.withSession((db) => db.query(`UPDATE organisation SET status = $1 WHERE code = 'northshire'`, [status])));
  results.push(await phase('northshire suspended at DfE', faultSeconds + 15, { sources: ['locator', 'matching'], faultSeconds, start: setStatus('SUSPENDED'), end: setStatus('ACTIVE') }));
  await central.close();
  const chain = await audit.sql.withSession((db) => verifyAudit(db, LA_AUDIT));
  await audit.close();

  const report = {
    machine: { cpus: cpus().length, node: process.version },
    settings: { durationSeconds: Number(values.duration), faultSeconds, connections: Number(values.connections), children: Number(values.children), seed: Number(values.seed), deadlineMs: DEADLINE_MS, recoveryLimitMs: RECOVERY_LIMIT_MS },
    phases: results,
    auditChain: chain,
    ok: results.every((r) => r.fiveXx === 0 && r.errorRate === 0 && r.auditLost === 0 && (r.recoveredMs === null || r.recoveredMs <= RECOVERY_LIMIT_MS)) && chain.ok && results.every((r, i) => i > 0 || r.rssEndMiB <= r.rssStartMiB * 1.1),
  };
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(join(root, 'bench', 'results', 'resilience.json'), `${JSON.stringify(report, null, 2)}\n`);
  const header = ['phase', 'requests', 'with data', 'partial', 'unavailable', '5xx', 'error rate', 'p50 ms', 'p99 ms', 'max ms', 'RSS MiB', 'recovered', 'audited', 'lost'];
  const rows = results.map((r) => [r.phase, r.requests, r.dataBearing, r.partial, Object.entries(r.unavailable).map(([k, v]) => `${k} ${v}`).join(', ') || '–', r.fiveXx, `${(r.errorRate * 100).toFixed(2)}%`, r.p50Ms, r.p99Ms, r.maxMs, `${r.rssStartMiB}→${r.rssEndMiB}`, r.recoveredMs === null ? '–' : `${(r.recoveredMs / 1000).toFixed(1)} s`, r.auditEntries, r.auditLost].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const format = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  process.stdout.write(`${[format(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(format)].join('\n')}\n`);
  process.stdout.write(`audit chain: ${chain.ok ? `valid (${chain.entries} entries)` : `BROKEN at ${chain.seq}: ${chain.problem}`}; ${report.ok ? 'all held' : 'NOT ALL HELD'}\n`);
  if (!report.ok) process.exitCode = 1;
} finally {
  await shutdown();
  rmSync(work, { recursive: true, force: true });
}
