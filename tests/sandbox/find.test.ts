// FIND in the sandbox as users meet it: both LAs' holdings registered at start, `mais register sync`
// sending only changes, lookups across LAs, a key rotation while it runs, and afterwards a scan of
// every text, JSON and binary column of DfE's store for any child's NHS number, name or date of birth.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useDfeTokenClient } from '../../lib/dfe-token.ts';
import { EXAMPLE_QUERY } from '../../la-router/graphiql.ts';
import { populationPaths } from '../../lib/population/generate.ts';
import { processesMentioning, run, start, type Started } from '../helpers/processes.ts';
import { killLeftovers, sandboxEnv } from '../helpers/sandbox.ts';
import { startOtlpReceiver } from '../helpers/otlp-receiver.ts';

let env: NodeJS.ProcessEnv;
let dataDir: string;
let sandbox: Started;
let collector: Awaited<ReturnType<typeof startOtlpReceiver>>;
const storeUrl = (port: string | undefined) => `postgresql://postgres@127.0.0.1:${port}/postgres`;

async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

async function locations(as: string, nhsNumber: string, purpose: string): Promise<{ custodian: { code: string }; recordType: string }[]> {
  const privateKey = JSON.parse(readFileSync(join(dataDir, 'secrets', `${as}-dfe.private.jwk.json`), 'utf8'));
  const token = await useDfeTokenClient({ tokenUrl: `http://127.0.0.1:${env.MAIS_GATEWAY_PORT}/oauth2/token`, organisation: as, privateKey, resource: 'mais:dfe:locator' }).token();
  const reply = await fetch(`http://127.0.0.1:${env.MAIS_LOCATOR_PORT}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'mais-purpose': purpose },
    body: JSON.stringify({ query: `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Child { locations { custodian { code } recordType } } } }`, variables: { r: [{ __typename: 'Child', nhsNumber }] } }),
  }).then((r) => r.json() as Promise<{ data: { _entities: { locations: { custodian: { code: string }; recordType: string }[] }[] } }>);
  return reply.data._entities[0]!.locations;
}

beforeAll(async () => {
  ({ env, dataDir } = await sandboxEnv(1500, 11));
  // Every service sends its spans to this collector.
  collector = await startOtlpReceiver();
  Object.assign(env, { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: '200' });
  sandbox = start('npm', ['start'], env);
  await sandbox.waitFor(/MAIS sandbox ready/);
}, 180_000);

afterAll(async () => {
  if (sandbox) await sandbox.interrupt('SIGINT');
  killLeftovers(dataDir);
  await collector?.close();
});

describe('FIND in the sandbox', () => {
  const central = () => storeUrl(env.MAIS_CENTRAL_STORE_PORT);

  it('registered both LAs’ holdings at start, and a sync afterwards sends only what changed', async () => {
    expect(sandbox.stderr()).toMatch(/northshire: FIND register sync: \d+ registered/);
    const counts = await query<{ custodian_code: string; n: number }>(central(), 'SELECT custodian_code, count(*)::int AS n FROM register_entry GROUP BY 1 ORDER BY 1');
    expect(counts.map((c) => c.custodian_code)).toEqual(['northshire', 'southshire']);
    const [sent] = await query<{ n: number }>(storeUrl(env.MAIS_NORTHSHIRE_STORE_PORT), 'SELECT count(*)::int AS n FROM la_register_item');
    expect(counts[0]!.n).toBe(sent!.n);

    const unchanged = run(['register', 'sync', '--la', 'northshire', '--json'], env);
    expect(unchanged.status).toBe(0);
    expect(JSON.parse(unchanged.stdout)).toMatchObject({ la: 'northshire', registered: 0, retired: 0, unchanged: sent!.n, calls: 0 });

    // A child's only CP plan is deleted at the LA: the next sync retires that one pointer and sends nothing else.
    const la = storeUrl(env.MAIS_NORTHSHIRE_STORE_PORT);
    const [plan] = await query<{ person: string; nhs: string }>(
      la,
      `SELECT c.cppl_person_id AS person, p.pers_common_child_id AS nhs FROM ssd_cp_plans c JOIN ssd_person p ON p.pers_person_id = c.cppl_person_id
        WHERE p.pers_common_child_id IS NOT NULL GROUP BY 1, 2 HAVING count(*) = 1
          AND (SELECT count(*) FROM ssd_person q WHERE q.pers_common_child_id = p.pers_common_child_id) = 1 LIMIT 1`,
    );
    expect(await locations('southshire', plan!.nhs, 'CHILD_PROTECTION_ENQUIRY')).toContainEqual({ custodian: { code: 'northshire' }, recordType: 'csc.cp_plan' });
    await query(la, 'DELETE FROM ssd_cp_plans WHERE cppl_person_id = $1', [plan!.person]);
    const changed = run(['register', 'sync', '--la', 'northshire', '--json'], env);
    expect(changed.status).toBe(0);
    expect(JSON.parse(changed.stdout)).toMatchObject({ registered: 0, retired: 1, calls: 1 });
    const [pointer] = await query<{ provenance: string }>(central(), `SELECT provenance FROM register_entry WHERE custodian_code = 'northshire' AND record_type = 'csc.cp_plan' AND retired_at IS NOT NULL`);
    expect(pointer!.provenance).toBe('RETIRED');
  });

  it('answers lookups across LAs under the sandbox agreements, before and after a key rotation', async () => {
    const [child] = await query<{ nhs: string }>(
      storeUrl(env.MAIS_SOUTHSHIRE_STORE_PORT),
      `SELECT p.pers_common_child_id AS nhs FROM ssd_cin_episodes e JOIN ssd_person p ON p.pers_person_id = e.cine_person_id JOIN edu_pupil u ON u.pers_person_id = p.pers_person_id
        WHERE p.pers_common_child_id IS NOT NULL LIMIT 1`,
    );
    const before = await locations('northshire', child!.nhs, 'CHILD_IN_NEED_ASSESSMENT');
    expect(before).toContainEqual({ custodian: { code: 'southshire' }, recordType: 'csc.referral' });
    expect(before.some((l) => l.recordType.startsWith('education.'))).toBe(true);
    // Southshire's agreement withholds education records from LAs for early help.
    const earlyHelp = await locations('northshire', child!.nhs, 'EARLY_HELP');
    expect(earlyHelp.some((l) => l.recordType.startsWith('education.'))).toBe(false);
    expect(earlyHelp.length).toBeGreaterThan(0);

    const rotated = run(['locator', 'rotate-key', '--json'], env);
    expect(rotated.stderr).toMatch(/added pseudonym key version 2/);
    expect(rotated.status).toBe(0);
    expect(JSON.parse(rotated.stdout)).toMatchObject({ from: 1, to: 2 });
    const versions = await query<{ key_version: number }>(central(), 'SELECT DISTINCT key_version FROM register_entry');
    expect(versions).toEqual([{ key_version: 2 }]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await locations('northshire', child!.nhs, 'CHILD_IN_NEED_ASSESSMENT')).toEqual(before);
    const audit = run(['audit', 'verify', '--central', '--json'], env);
    expect(audit.status).toBe(0);
    expect(JSON.parse(audit.stdout)).toMatchObject({ ok: true });
  }, 60_000);

  it('gives an allocated caseworker the single view through the LA router with a `mais token`: social care, education, demographics and locations', async () => {
    const [allocation] = await query<{ username: string; nhs: string }>(
      storeUrl(env.MAIS_NORTHSHIRE_STORE_PORT),
      `SELECT u.username, p.pers_common_child_id AS nhs FROM la_user u JOIN ssd_involvements i ON i.invo_professional_id = u.prof_professional_id
         JOIN ssd_person p ON p.pers_person_id = i.invo_person_id JOIN edu_pupil e ON e.pers_person_id = p.pers_person_id
        WHERE i.invo_involvement_end_date IS NULL AND p.pers_common_child_id IS NOT NULL LIMIT 1`,
    );
    const token = run(['token', '--la', 'northshire', '--user', allocation!.username], env);
    expect(token.status).toBe(0);
    expect(token.stderr).toBe('');
    const view = `{ child(nhsNumber: "${allocation!.nhs}", purpose: CHILD_PROTECTION_ENQUIRY) { demographics { dateOfBirth } socialCare { status { openCase } referrals { referralDate } } education { enrolments { urn } } locations { custodian { code } recordType } } }`;
    const router = `http://127.0.0.1:${env.MAIS_NORTHSHIRE_ROUTER_PORT}/graphql`;
    const ask = (bearer?: string, body: unknown = { query: view }) =>
      fetch(router, { method: 'POST', headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) }, body: JSON.stringify(body) });
    expect((await ask()).status).toBe(401);
    const reply = (await (await ask(token.stdout.trim())).json()) as { data: { child: Record<string, any> }; errors?: unknown[] };
    expect(reply.errors).toBeUndefined();
    expect(reply.data.child.demographics.dateOfBirth).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(reply.data.child.socialCare.status.openCase).toBe(true);
    expect(reply.data.child.socialCare.referrals.length).toBeGreaterThan(0);
    expect(reply.data.child.education.enrolments.length).toBeGreaterThan(0);
    expect(reply.data.child.locations).toContainEqual({ custodian: { code: 'northshire' }, recordType: 'csc.referral' });
    // The router audited the read in the LA's store.
    const [entry] = await query<{ actor: string; nhs_number: string; outcome: string; trace_id: string }>(storeUrl(env.MAIS_NORTHSHIRE_STORE_PORT), 'SELECT actor, nhs_number, outcome, trace_id FROM la_audit_entry ORDER BY seq DESC LIMIT 1');
    expect(entry).toMatchObject({ actor: allocation!.username, nhs_number: allocation!.nhs, outcome: 'OK' });
    // One OpenTelemetry trace, the audit entry's, runs from the router through each subgraph it asked, DfE's locator included.
    const served = (subgraph: string) => {
      const spans = collector.spans.filter((span) => span.traceId === entry!.trace_id);
      const fetch = spans.find((span) => span.service === 'mais-la-router' && span.name === 'gateway.fetch' && span.attributes.service === subgraph);
      return spans.find((span) => fetch && span.parentSpanId === fetch.spanId && span.name === 'POST /graphql')?.service ?? null;
    };
    for (const subgraph of ['csc', 'education', 'locator']) {
      await expect.poll(() => served(subgraph), { timeout: 10_000, message: `${subgraph}'s server span, a child of the router's fetch` }).toMatch(new RegExp(`^mais-.*${subgraph}-subgraph$`));
    }
    // Spans say what ran, never about whom.
    expect(collector.raw.join('\n')).not.toContain(allocation!.nhs);
    // Each router's sharing endpoint is open to DfE's relay only.
    const share = await fetch(`http://127.0.0.1:${env.MAIS_NORTHSHIRE_ROUTER_PORT}/share/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token.stdout.trim()}` }, body: JSON.stringify({ query: `{ sharedSummary(nhsNumber: "${allocation!.nhs}") { openCase } }` }) });
    expect(share.status).toBe(401);
    // The sandbox routers run in development mode: GraphiQL, whose example answers in full.
    expect(await (await fetch(router, { headers: { accept: 'text/html' } })).text()).toMatch(/graphiql\.min\.js/);
    const example = (await (await ask(token.stdout.trim(), { query: EXAMPLE_QUERY, variables: { nhsNumber: allocation!.nhs } })).json()) as { data: { child: Record<string, any> }; errors?: unknown[] };
    expect(example.errors).toBeUndefined();
    expect(Object.keys(example.data.child).sort()).toEqual(['demographics', 'education', 'locations', 'nhsNumber', 'socialCare']);
    expect(example.data.child.locations.length).toBeGreaterThan(0);
  });

  it('leaves no child’s NHS number, name or date of birth anywhere in DfE’s store', async () => {
    const patients = readFileSync(populationPaths(join(dataDir, 'population')).patients, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { id: string; birthDate: string; name?: { given?: string[]; family?: string }[] });
    const nhsNumbers = new Set(patients.map((p) => p.id));
    const names = new Set(patients.flatMap((p) => (p.name ?? []).filter((n) => n.given?.[0] && n.family).map((n) => `${n.given![0]} ${n.family}`.toLowerCase())));
    expect(names.size).toBeGreaterThan(1000);
    const births = new Set(patients.map((p) => p.birthDate));
    const scan = async (url: string) => {
      const columns = await query<{ table_name: string; column_name: string; data_type: string }>(
        url,
        `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'bytea', 'jsonb', 'json', 'ARRAY')`,
      );
      let scanned = 0;
      const found: string[] = [];
      for (const { table_name: table, column_name: column, data_type: type } of columns) {
        const expression = type === 'bytea' ? `encode("${column}", 'escape') || ' ' || encode("${column}", 'hex')` : type === 'ARRAY' ? `array_to_string("${column}", ' ')` : `"${column}"::text`;
        const values = await query<{ v: string | null }>(url, `SELECT ${expression} AS v FROM "${table}"`);
        for (const { v } of values) {
          if (v === null) continue;
          scanned++;
          for (const digits of v.match(/\d{10}/g) ?? []) if (nhsNumbers.has(digits)) found.push(`${table}.${column}: an NHS number`);
          for (const day of v.match(/\d{4}-\d{2}-\d{2}/g) ?? []) if (births.has(day) && table !== 'dsa_document') found.push(`${table}.${column}: a date of birth`);
          const lower = v.toLowerCase();
          for (const name of names) if (lower.includes(name)) found.push(`${table}.${column}: a name`);
        }
      }
      return { scanned, found, columns: columns.map((c) => `${c.table_name}.${c.column_name}`) };
    };
    const { scanned, found, columns } = await scan(central());
    expect(columns).toEqual(expect.arrayContaining(['register_entry.pseudonym', 'register_entry.subject_pseudonym', 'audit_entry.detail', 'audit_entry.pseudonym', 'organisation.jwks']));
    expect(scanned).toBeGreaterThan(1000);
    expect(found).toEqual([]);
    // Nor in what any service printed (the locator's log included).
    const printed = `${sandbox.stdout()}\n${sandbox.stderr()}`;
    expect((printed.match(/\d{10}/g) ?? []).filter((digits) => nhsNumbers.has(digits))).toEqual([]);
    // The same scan of an LA's own store, which holds them by design, finds them: the scan can fail.
    const la = await scan(storeUrl(env.MAIS_NORTHSHIRE_STORE_PORT));
    expect(la.found.some((f) => f.endsWith('an NHS number'))).toBe(true);
  }, 120_000);

  it('publishes both LAs’ and DfE’s subgraphs to the schema registry, from which the routers take their supergraphs; `mais registry` checks and fetches', async () => {
    expect(sandbox.stderr()).toMatch(/schema registry: dfe router v1, dfe matching v1, dfe locator v1, northshire csc v1/);
    const fetched = run(['registry', 'fetch-supergraph', '--org', 'northshire', '--json'], env);
    expect(fetched.status).toBe(0);
    const { supergraph, etag } = JSON.parse(fetched.stdout) as { supergraph: string; etag: string };
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    for (const subgraph of ['ROUTER', 'CSC', 'EDUCATION', 'MATCHING', 'LOCATOR']) expect(supergraph).toMatch(new RegExp(`${subgraph} @join__graph`));
    // DfE's services are named at the gateway in the supergraph, never at their own ports.
    expect(supergraph).toContain(`http://127.0.0.1:${env.MAIS_GATEWAY_PORT}/subgraphs/locator/graphql`);
    expect(supergraph).not.toContain(`:${env.MAIS_LOCATOR_PORT}/`);
    expect(readFileSync(join(dataDir, 'northshire-supergraph.graphql'), 'utf8')).toBe(supergraph);
    const broken = join(dataDir, 'broken-csc.graphql');
    const { cscSdl } = await import('../../subgraphs/csc/sdl.ts');
    writeFileSync(broken, cscSdl.replace(/\bcpPlans\b/g, 'protectionPlans'));
    const check = run(['registry', 'check', '--org', 'northshire', '--name', 'csc', '--url', 'http://127.0.0.1:1/graphql', '--schema', broken], env);
    expect(check.status).toBe(1);
    expect(check.stdout).toMatch(/refused .*\n.*contract: .*cpPlans/);
    const history = run(['registry', 'history', '--org', 'dfe', '--json'], env);
    expect((JSON.parse(history.stdout) as { subgraph: string }[]).map((h) => h.subgraph).sort()).toEqual(['locator', 'matching', 'router']);
  });

  it('stops cleanly', async () => {
    expect(await sandbox.interrupt('SIGTERM')).toBe(0);
    expect(processesMentioning(dataDir)).toEqual([]);
  });
});
