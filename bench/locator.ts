// `npm run bench:locator [-- --rows N] [--database-url postgresql://...] [--concurrency 2]`: loads N
// register rows into FIND through its GraphQL API (10,000 per call, each call as one custodian with
// its own credential), then measures lookups of one child and of 100 children over HTTP (pointers read,
// data sharing agreements applied, every lookup audited), DSA decisions per second in-process, and the
// database's size. Embedded PGlite by default (1,000,000 rows); with --database-url, a fresh database
// on that PostgreSQL server (10,000,000 rows by default), dropped afterwards. Figures are printed and
// written to bench/results/locator.json.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../lib/net.ts';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { createScratchDatabase } from '../lib/db/scratch.ts';
import { openStore } from '../lib/db/store.ts';
import { DsaPolicy, type DecisionRequest, type DsaDocument, type OrganisationType } from '../lib/dsa/policy.ts';
import { publishDsa } from '../gateway/dsa-registry.ts';
import { nhsCheckDigit } from '../lib/nhs-number.ts';
import { LocatorClient } from '../la-router/register/client.ts';
import type { Organisation } from '../lib/organisation-credential.ts';
import { useDfeTokenClient } from '../lib/dfe-token.ts';
import { serveTokenService } from '../gateway/token-service.ts';
import { PURPOSES } from '../lib/purposes.ts';
import { writePseudonymKeys } from '../gateway/pseudonym.ts';
import { LOCATOR_AUDIENCE } from '../schema/audiences.ts';
import { AuditWriter, CENTRAL_AUDIT } from '../lib/audit/chain.ts';
import { CentralDirectory } from '../gateway/directory.ts';
import { lookupLocations } from '../subgraphs/locator/lookup.ts';
import { startService, stopService } from '../lib/service/supervisor.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string' },
    'database-url': { type: 'string' },
    concurrency: { type: 'string', default: '2' },
    samples: { type: 'string', default: '2000' },
    'batch-samples': { type: 'string', default: '300' },
    decisions: { type: 'string', default: '5000000' },
  },
});
const serverUrl = values['database-url'];
const targetRows = Number(values.rows ?? (serverUrl ? 10_000_000 : 1_000_000));
const concurrency = Number(values.concurrency);
const log = (line: string) => process.stderr.write(`${line}\n`);

// England: about 150 LAs, 42 integrated care boards, 43 police forces.
const LAS = 150;
const ICBS = 42;
const FORCES = 43;
interface Custodian {
  code: string;
  type: OrganisationType;
  index: number;
  modulus: number;
}
const custodians: Custodian[] = [
  ...Array.from({ length: LAS }, (_, i) => ({ code: `la-${i}`, type: 'LA' as const, index: i, modulus: LAS })),
  ...Array.from({ length: ICBS }, (_, i) => ({ code: `icb-${i}`, type: 'HEALTH' as const, index: i, modulus: ICBS })),
  ...Array.from({ length: FORCES }, (_, i) => ({ code: `police-${i}`, type: 'POLICE' as const, index: i, modulus: FORCES })),
];

/** Child i's NHS number: valid modulus 11, from a range of its own. */
function nhsFor(i: number): string {
  for (let n = 4_000_000_00 + i * 2; ; n++) {
    const nine = String(n).padStart(9, '0');
    const check = nhsCheckDigit(nine);
    if (check !== undefined) return `${nine}${check}`;
  }
}

/** What custodian `c` holds about child i: an LA has education for all its children and social care for some. */
function recordsOf(c: Custodian, i: number): string[] {
  if (c.type === 'LA') return ['education.enrolment', ...(i % 3 === 0 ? ['csc.referral'] : []), ...(i % 17 === 0 ? ['csc.cp_plan'] : [])];
  if (c.type === 'HEALTH') return ['health.gp_registration'];
  return i % 5 === 0 ? ['police.incident'] : [];
}
// Rows per child on average: 1 + 1/3 + 1/17 (LA) + 1 (health) + 1/5 (police).
const ROWS_PER_CHILD = 1 + 1 / 3 + 1 / 17 + 1 + 1 / 5;
const children = Math.ceil(targetRows / ROWS_PER_CHILD);

function agreement(source: Custodian): DsaDocument {
  return {
    source: source.code,
    version: 1,
    defaults: [
      { id: 'las', effect: 'ALLOW', destinations: { organisationTypes: ['LA'] }, recordTypes: ['*'], modes: ['EXISTENCE'], purposes: ['*'] },
      { id: 'health-protection', effect: 'ALLOW', destinations: { organisationTypes: ['HEALTH'] }, recordTypes: ['csc.*', 'police.*'], modes: ['EXISTENCE'], purposes: ['CHILD_PROTECTION_ENQUIRY'] },
      { id: 'police-protection', effect: 'ALLOW', destinations: { organisationTypes: ['POLICE'] }, recordTypes: ['csc.cp_plan'], modes: ['EXISTENCE'], purposes: ['CHILD_PROTECTION_ENQUIRY'] },
    ],
    exceptions: [
      { id: 'early-help-no-police', effect: 'DENY', destinations: { organisationTypes: ['LA'] }, recordTypes: ['police.*'], modes: ['EXISTENCE'], purposes: ['EARLY_HELP'] },
      { id: 'neighbour-content', effect: 'ALLOW', destinations: { organisations: [`la-${(source.index + 1) % LAS}`] }, recordTypes: ['csc.*'], modes: ['CONTENT'], purposes: ['CHILD_PROTECTION_ENQUIRY'] },
    ],
    revocations: [{ destination: `la-${(source.index + 7) % LAS}`, from: '2026-01-01T00:00:00Z', reason: 'bench' }],
  };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

// The store: a fresh PGlite folder, or a fresh database on the given server.
const work = mkdtempSync(join(tmpdir(), 'mais-bench-locator-'));
let databaseUrl: string | undefined;
let dropDatabase = async () => {};
if (serverUrl) {
  const scratch = await createScratchDatabase(serverUrl, 'mais_bench_locator');
  databaseUrl = scratch.url;
  dropDatabase = scratch.drop;
}
let store = await openStore({ kind: 'central', dataDir: join(work, 'store'), poolSize: 8, ...(databaseUrl ? { databaseUrl } : {}) });
const backend = databaseUrl ? 'PostgreSQL' : 'PGlite (embedded)';

try {
  log(`bench:locator: ${targetRows.toLocaleString('en-GB')} rows for ${children.toLocaleString('en-GB')} children from ${custodians.length} custodians on ${backend}`);
  const privateKeys = new Map<string, JWK>();
  for (const c of [...custodians, { code: 'dfe', type: 'DFE' as const, index: 0, modulus: 1 }]) {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    privateKeys.set(c.code, { ...(await exportJWK(privateKey)), kid: `${c.code}-1`, alg: 'ES256' });
    await store.prisma.organisation.create({
      data: { code: c.code, name: c.code, type: c.type, scopes: ['find', 'register'], systems: [`${c.code}-system`], jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: `${c.code}-1`, alg: 'ES256' }] } as never },
    });
  }
  for (const c of custodians) await store.sql.withSession((db) => publishDsa(db, agreement(c), 'dfe'));

  // DfE's token endpoint, in this process, over the same organisations (FIND takes only DfE access tokens).
  const organisations = new Map((await store.prisma.organisation.findMany()).map((o) => [o.code, { code: o.code, name: o.name, type: o.type, status: o.status, scopes: o.scopes, systems: o.systems, jwks: o.jwks } as Organisation]));
  const tokenService = await serveTokenService(organisations, 'dfe-bench');
  const { issuer, tokenUrl } = tokenService;

  // FIND in its own process, as it runs in production; an embedded store is handed over to it.
  const keysFile = join(work, 'pseudonym-keys.json');
  writePseudonymKeys(keysFile, [{ version: 1, secret: randomBytes(32) }]);
  if (!databaseUrl) await store.close();
  const locator = await startService({
    name: 'locator subgraph',
    main: fileURLToPath(new URL('../subgraphs/locator/main.ts', import.meta.url)),
    args: ['--port', String(await freePort()), '--pseudonym-keys', keysFile, '--dfe-issuer', issuer, '--dfe-jwks', tokenService.jwks.href, ...(databaseUrl ? ['--database-url', databaseUrl] : ['--data-dir', join(work, 'store')])],
  });
  const url = locator.url;

  // Registration: each custodian sends what it holds, 10,000 items a call, `concurrency` calls at once.
  const calls = (function* () {
    for (const c of custodians) {
      let items: { nhsNumber: string; systemId: string; recordType: string }[] = [];
      for (let i = c.index; i < children; i += c.modulus) {
        for (const recordType of recordsOf(c, i)) {
          items.push({ nhsNumber: nhsFor(i), systemId: `${c.code}-system`, recordType });
          if (items.length === 10_000) {
            yield { c, items };
            items = [];
          }
        }
      }
      if (items.length > 0) yield { c, items };
    }
  })();
  const clients = new Map(custodians.map((c) => [c.code, new LocatorClient({ url, tokenUrl, organisation: c.code, privateKey: privateKeys.get(c.code)! })]));
  let registered = 0;
  let lastReport = performance.now();
  const registerStarted = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let call = calls.next(); !call.done; call = calls.next()) {
        const reply = await clients.get(call.value.c.code)!.registerRecords(call.value.items);
        if (!reply.written) throw new Error(`registration refused: ${JSON.stringify(reply.errors.slice(0, 3))}`);
        registered += call.value.items.length;
        if (performance.now() - lastReport > 10_000) {
          lastReport = performance.now();
          log(`  registered ${registered.toLocaleString('en-GB')} (${Math.round(registered / ((lastReport - registerStarted) / 1000)).toLocaleString('en-GB')} rows/s)`);
        }
      }
    }),
  );
  const registerSeconds = (performance.now() - registerStarted) / 1000;
  if (databaseUrl) await store.sql.withSession((db) => db.exec('ANALYZE register_entry'));

  // Lookups, as an LA router asks: `_entities` over HTTP with the LA's credential and a purpose.
  const asker = 'la-3';
  const token = await useDfeTokenClient({ tokenUrl, organisation: asker, privateKey: privateKeys.get(asker)!, resource: LOCATOR_AUDIENCE }).token();
  const query = `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Child { locations { custodian { code kind } recordType firstSeen lastSeen stale } } } }`;
  let pointersSeen = 0;
  const lookup = async (n: number) => {
    const r = Array.from({ length: n }, () => ({ __typename: 'Child', nhsNumber: nhsFor(Math.floor(Math.random() * children)) }));
    const started = performance.now();
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'mais-purpose': PURPOSES[Math.floor(Math.random() * PURPOSES.length)]! },
      body: JSON.stringify({ query, variables: { r } }),
    });
    const body = (await response.json()) as { data?: { _entities: { locations: unknown[] }[] }; errors?: unknown[] };
    const ms = performance.now() - started;
    if (body.errors || !body.data) throw new Error(`lookup failed: ${JSON.stringify(body.errors)}`);
    pointersSeen += body.data._entities.reduce((sum, e) => sum + e.locations.length, 0);
    return ms;
  };
  const sample = async (n: number, samples: number, fn: (n: number) => Promise<number>) => {
    for (let i = 0; i < 20; i++) await fn(n); // warm up
    const times: number[] = [];
    for (let i = 0; i < samples; i++) times.push(await fn(n));
    return times.sort((a, b) => a - b);
  };
  const httpSingle = await sample(1, Number(values.samples), lookup);
  const httpBatch = await sample(100, Number(values['batch-samples']), lookup);

  // DSA decisions in-process, on the compiled policy, over a spread of requests.
  const policy = DsaPolicy.compile(agreement(custodians[0]!));
  const types = ['LA', 'HEALTH', 'POLICE'] as const;
  const recordTypes = ['csc.referral', 'csc.cp_plan', 'education.enrolment', 'health.gp_registration', 'police.incident'];
  const requests: DecisionRequest[] = Array.from({ length: 1024 }, (_, i) => ({
    destination: `la-${i % LAS}`,
    destinationType: types[i % 3]!,
    recordType: recordTypes[i % recordTypes.length]!,
    mode: i % 4 === 0 ? 'CONTENT' : 'EXISTENCE',
    purpose: PURPOSES[i % PURPOSES.length]!,
    at: Date.now(),
  }));
  const decisions = Number(values.decisions);
  let allowed = 0;
  const decideStarted = performance.now();
  for (let i = 0; i < decisions; i++) if (policy.decide(requests[i & 1023]!).allow) allowed++;
  const decisionsPerSecond = decisions / ((performance.now() - decideStarted) / 1000);

  await stopService(locator);
  await tokenService.close();
  if (!databaseUrl) {
    store = await openStore({ kind: 'central', dataDir: join(work, 'store') });
    await store.sql.withSession((db) => db.exec('ANALYZE register_entry; ANALYZE audit_entry'));
  }

  // The register lookup itself, as the locator runs it for each request: pseudonyms, one statement for
  // the pointers, the agreements applied, and the audit entries committed.
  // Propagation is tested elsewhere; here a slow embedded store must show in the figures, not stop the run.
  const directory = new CentralDirectory({ sql: store.sql, keys: keysFile, maxStalenessMs: 600_000 });
  await directory.start();
  const audit = new AuditWriter(store.sql, CENTRAL_AUDIT);
  const caller = directory.organisations.get(asker)!;
  const direct = async (n: number) => {
    const nhsNumbers = Array.from({ length: n }, () => nhsFor(Math.floor(Math.random() * children)));
    const started = performance.now();
    await lookupLocations(store.sql, directory, audit, { caller, purpose: PURPOSES[Math.floor(Math.random() * PURPOSES.length)]!, nhsNumbers, at: Date.now() });
    return performance.now() - started;
  };
  const single = await sample(1, Number(values.samples), direct);
  const batch = await sample(100, Number(values['batch-samples']), direct);
  directory.stop();
  const [size] = await store.sql.withSession((db) =>
    db.query<{ rows: string; database: string; register: string; audit: string }>(
      `SELECT (SELECT count(*) FROM register_entry)::text AS rows, pg_database_size(current_database())::text AS database,
              pg_total_relation_size('register_entry')::text AS register, pg_total_relation_size('audit_entry')::text AS audit`,
    ),
  );
  const mib = (bytes: string) => Math.round(Number(bytes) / 1024 / 1024);
  const result = {
    backend,
    machine: { cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30) },
    rows: Number(size!.rows),
    children,
    custodians: custodians.length,
    registration: { rowsPerSecond: Math.round(registered / registerSeconds), seconds: Math.round(registerSeconds), concurrency },
    lookupOne: { samples: single.length, p50ms: +percentile(single, 0.5).toFixed(2), p99ms: +percentile(single, 0.99).toFixed(2) },
    lookupHundred: { samples: batch.length, p50ms: +percentile(batch, 0.5).toFixed(2), p99ms: +percentile(batch, 0.99).toFixed(2) },
    httpLookupOne: { samples: httpSingle.length, p50ms: +percentile(httpSingle, 0.5).toFixed(2), p99ms: +percentile(httpSingle, 0.99).toFixed(2) },
    httpLookupHundred: { samples: httpBatch.length, p50ms: +percentile(httpBatch, 0.5).toFixed(2), p99ms: +percentile(httpBatch, 0.99).toFixed(2) },
    pointersPerChildSeen: +(pointersSeen / (20 + httpSingle.length + 100 * (20 + httpBatch.length))).toFixed(2),
    dsaDecisionsPerSecond: Math.round(decisionsPerSecond),
    dsaAllowedShare: +(allowed / decisions).toFixed(3),
    sizeMiB: { database: mib(size!.database), register: mib(size!.register), audit: mib(size!.audit) },
    targets: { lookupOneP99ms: 5, lookupHundredP99ms: 20, registrationRowsPerSecond: 20_000, dsaDecisionsPerSecond: 1_000_000, on: 'PostgreSQL 15, 10,000,000 rows' },
  };
  mkdirSync('bench/results', { recursive: true });
  // One entry per back-end, so the embedded and the PostgreSQL figures sit side by side.
  const file = 'bench/results/locator.json';
  const previous = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  writeFileSync(file, `${JSON.stringify({ ...('backend' in previous ? {} : previous), [databaseUrl ? 'postgresql' : 'pglite']: result }, null, 2)}\n`);
  // The targets are for PostgreSQL with 10,000,000 rows; the embedded store is for one LA's trial.
  const meets = (ok: boolean) => (!databaseUrl ? 'PostgreSQL target' : ok ? 'meets target' : 'misses target');
  process.stdout.write(
    [
      `FIND register on ${backend}: ${result.rows.toLocaleString('en-GB')} rows, ${children.toLocaleString('en-GB')} children, ${custodians.length} custodians`,
      `  registration (GraphQL, 10,000 a call, ${concurrency} at once): ${result.registration.rowsPerSecond.toLocaleString('en-GB')} rows/s (${meets(result.registration.rowsPerSecond >= 20_000)} of 20,000)`,
      `  register lookup, 1 child (pointers, agreements, audit committed): p50 ${result.lookupOne.p50ms} ms, p99 ${result.lookupOne.p99ms} ms (${meets(result.lookupOne.p99ms < 5)} of 5 ms)`,
      `  register lookup, 100 children:                                    p50 ${result.lookupHundred.p50ms} ms, p99 ${result.lookupHundred.p99ms} ms (${meets(result.lookupHundred.p99ms < 20)} of 20 ms)`,
      `  the same over HTTP as a router asks (GraphQL _entities, credential checked): 1 child p50 ${result.httpLookupOne.p50ms} ms, p99 ${result.httpLookupOne.p99ms} ms; 100 children p50 ${result.httpLookupHundred.p50ms} ms, p99 ${result.httpLookupHundred.p99ms} ms`,
      `  DSA decisions in-process: ${result.dsaDecisionsPerSecond.toLocaleString('en-GB')}/s (${meets(result.dsaDecisionsPerSecond >= 1_000_000)} of 1,000,000)`,
      `  size: database ${result.sizeMiB.database} MiB, register ${result.sizeMiB.register} MiB, audit ${result.sizeMiB.audit} MiB`,
      '  written to bench/results/locator.json',
    ].join('\n') + '\n',
  );
} finally {
  await store.close().catch(() => {});
  await dropDatabase();
  rmSync(work, { recursive: true, force: true });
}
