// FIND and the relay in the sandbox as users meet them: both LAs' holdings registered at start, `mais
// register sync` sending only changes, lookups across LAs, a key rotation while it runs, one LA's social
// care summary carried to the other through DfE's relay in both modes until the custodian revokes it,
// and afterwards a scan of every text, JSON and binary column of DfE's store, every service's log and
// DfE's metrics for any child's NHS number, name or date of birth, or anything the relay carried.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { Agent, fetch as fetchWith } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useDfeTokenClient } from '../../lib/dfe-token.ts';
import { EXAMPLE_QUERY } from '../../la-router/graphiql.ts';
import { findIdentifiers, populationIdentifiers, scanDatabase } from '../../bench/leak-scan.ts';
import { processesMentioning, run, start, type Started } from '../helpers/processes.ts';
import { killLeftovers, sandboxEnv, takeSandboxTurn } from '../helpers/sandbox.ts';
import { sandboxAgreement } from '../../sandbox/organisations.ts';
import { startOtlpReceiver } from '../helpers/otlp-receiver.ts';

let env: NodeJS.ProcessEnv;
let dataDir: string;
let sandbox: Started;
let collector: Awaited<ReturnType<typeof startOtlpReceiver>>;
/** Strings the relay carried from one LA to another: none may be left anywhere at DfE. */
const carried: string[] = [];
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

let endTurn: () => void = () => {};

beforeAll(async () => {
  endTurn = await takeSandboxTurn();
  ({ env, dataDir } = await sandboxEnv(1500, 11));
  // Every service sends its spans to this collector.
  collector = await startOtlpReceiver();
  Object.assign(env, { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: '200' });
  sandbox = start('npm', ['start'], env);
  await sandbox.waitFor(/MAIS sandbox ready/);
}, 600_000);

afterAll(async () => {
  if (sandbox) await sandbox.interrupt('SIGINT');
  killLeftovers(dataDir);
  await collector?.close();
  endTurn();
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

  it('registers a child PDS restricts as restricted, so no other LA learns of it, and sends a change of restriction at the next sync', async () => {
    const la = storeUrl(env.MAIS_NORTHSHIRE_STORE_PORT);
    // What MATCH told the LA at matching: every restricted child's holdings are registered as restricted.
    const [known] = await query<{ n: number }>(la, `SELECT count(*)::int AS n FROM la_register_item i JOIN la_pds_restriction r ON r.nhs_number = i.nhs_number WHERE r.restricted AND i.retired_at IS NULL`);
    const [registered] = await query<{ n: number }>(central(), `SELECT count(*)::int AS n FROM register_entry WHERE custodian_code = 'northshire' AND restricted AND retired_at IS NULL`);
    expect(registered!.n).toBe(known!.n);
    // PDS now restricts a child southshire could see: MATCH's answer reaches the LA's store, and the next sync tells FIND.
    const [child] = await query<{ nhs: string }>(
      la,
      `SELECT i.nhs_number AS nhs FROM la_register_item i JOIN la_pds_restriction r ON r.nhs_number = i.nhs_number
        WHERE i.record_type = 'csc.referral' AND i.retired_at IS NULL AND NOT r.restricted LIMIT 1`,
    );
    expect(await locations('southshire', child!.nhs, 'CHILD_PROTECTION_ENQUIRY')).toContainEqual({ custodian: { code: 'northshire' }, recordType: 'csc.referral' });
    // At the LA's own router, a caseworker with the summary view sees where else the child is known, until PDS restricts the child.
    const demo = JSON.parse(run(['demo', '--json'], env).stdout) as { las: { code: string; caseworkers: { username: string; roles: string[]; allocatedChildren: string[] }[] }[] };
    const summaryReader = demo.las.find((l) => l.code === 'northshire')!.caseworkers.find((w) => w.roles.includes('csc.practitioner') && !w.allocatedChildren.includes(child!.nhs))!;
    const token = run(['token', '--la', 'northshire', '--user', summaryReader.username], env).stdout.trim();
    const summary = async () =>
      (await (
        await fetch(`http://127.0.0.1:${env.MAIS_NORTHSHIRE_ROUTER_PORT}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: `{ child(nhsNumber: "${child!.nhs}", purpose: CHILD_IN_NEED_ASSESSMENT) { locations { custodian { code } } socialCare { status { openCase } } } }` }),
        })
      ).json()) as { data: { child: { locations: unknown[] | null } }; errors?: { path?: string[]; extensions: { code: string } }[] };
    expect((await summary()).data.child.locations?.length).toBeGreaterThan(0);
    await query(la, `UPDATE la_pds_restriction SET restricted = true, checked_at = now() WHERE nhs_number = $1`, [child!.nhs]);
    const restrictedSummary = await summary();
    expect(restrictedSummary.data.child.locations).toBeNull();
    expect(restrictedSummary.errors).toContainEqual(expect.objectContaining({ path: ['child', 'locations'], extensions: expect.objectContaining({ code: 'FORBIDDEN' }) }));
    const restricting = run(['register', 'sync', '--la', 'northshire', '--json'], env);
    expect(restricting.status).toBe(0);
    expect(JSON.parse(restricting.stdout).registered).toBeGreaterThan(0);
    expect((await locations('southshire', child!.nhs, 'CHILD_PROTECTION_ENQUIRY')).filter((l) => l.custodian.code === 'northshire')).toEqual([]);
    await query(la, `UPDATE la_pds_restriction SET restricted = false, checked_at = now() WHERE nhs_number = $1`, [child!.nhs]);
    expect(run(['register', 'sync', '--la', 'northshire', '--json'], env).status).toBe(0);
    expect(await locations('southshire', child!.nhs, 'CHILD_PROTECTION_ENQUIRY')).toContainEqual({ custodian: { code: 'northshire' }, recordType: 'csc.referral' });

    // An answer gone stale is asked of MATCH again, and PDS's word replaces it: here a child PDS does not restrict.
    const patients = new Map(
      readFileSync(join(dataDir, 'population', 'pds', 'patients.ndjson'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { id: string; meta?: { security?: { code: string }[] } })
        .map((p) => [p.id, (p.meta?.security ?? []).some((s) => s.code === 'R')] as const),
    );
    const candidates = await query<{ nhs: string }>(la, `SELECT nhs_number AS nhs FROM la_pds_restriction WHERE NOT restricted ORDER BY nhs_number LIMIT 200`);
    const open = candidates.find((c) => patients.get(c.nhs) === false)!;
    await query(la, `UPDATE la_pds_restriction SET restricted = true, checked_at = '2000-01-01' WHERE nhs_number = $1`, [open.nhs]);
    const checked = run(['register', 'sync', '--la', 'northshire', '--check-restrictions', '1', '--json'], env);
    expect(checked.status).toBe(0);
    expect(JSON.parse(checked.stdout)).toMatchObject({ restrictionsChecked: 1 });
    const [now] = await query<{ restricted: boolean; checked_at: Date }>(la, `SELECT restricted, checked_at FROM la_pds_restriction WHERE nhs_number = $1`, [open.nhs]);
    expect(now!.restricted).toBe(false);
    expect(Date.now() - new Date(now!.checked_at).getTime()).toBeLessThan(10 * 60_000);
    const [asked] = await query<{ n: number }>(central(), `SELECT count(*)::int AS n FROM audit_entry WHERE action = 'match.restriction' AND actor_org = 'northshire'`);
    expect(asked!.n).toBe(1);
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
    expect(Object.keys(example.data.child).sort()).toEqual(['demographics', 'education', 'locations', 'nhsNumber', 'sharedRecords', 'socialCare']);
    expect(example.data.child.locations.length).toBeGreaterThan(0);
  });

  it('carries one LA’s social care summary to another through DfE’s relay, in pull mode and push mode, audited at both LAs and at DfE, until the custodian revokes it', async () => {
    interface Caseworker { username: string; allocatedChildren: string[] }
    const demo = JSON.parse(run(['demo', '--json'], env).stdout) as { exampleChildren: { label: string; nhsNumber: string; heldBy: string[] }[]; las: { code: string; caseworkers: Caseworker[] }[] };
    const moved = demo.exampleChildren.find((c) => c.label === 'held_by_both_las')!;
    expect(moved.heldBy.sort()).toEqual(['northshire', 'southshire']);
    const routerUrl = (la: string) => `http://127.0.0.1:${env[`MAIS_${la.toUpperCase()}_ROUTER_PORT`]}`;
    // Whoever is allocated the child in an LA asks as its worker; elsewhere a practitioner breaks glass.
    const asker = (la: string) => {
      const caseworkers = demo.las.find((l) => l.code === la)!.caseworkers;
      const allocated = caseworkers.find((w) => w.allocatedChildren.includes(moved.nhsNumber));
      return { username: (allocated ?? caseworkers[0]!).username, breakGlass: allocated ? '' : ', breakGlassReason: "Urgent concern reported by the police out of hours", breakGlassCategory: OUT_OF_HOURS_EMERGENCY' };
    };
    // Tokens first: `mais token` runs synchronously, and a router may close an idle kept-alive socket meanwhile.
    const tokens = new Map(['northshire', 'southshire'].map((la) => [la, run(['token', '--la', la, '--user', asker(la).username], env).stdout.trim()]));
    const fresh = new Agent({ pipelining: 0 });
    const ask = async (la: string, fields: string, purpose = 'CHILD_PROTECTION_ENQUIRY') => {
      const { breakGlass } = asker(la);
      const token = tokens.get(la)!;
      const response = await fetchWith(`${routerUrl(la)}/graphql`, {
        dispatcher: fresh,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: `{ child(nhsNumber: "${moved.nhsNumber}", purpose: ${purpose}${breakGlass}) { ${fields} } }` }),
      });
      return (await response.json()) as { data: { child: Record<string, any> }; errors?: unknown[] };
    };
    const SHARED = 'sharedRecords { custodian custodianName socialCare { openCase childProtectionPlan cpCategory lookedAfter allocatedTeam asOf } }';
    // Southshire's router keeps its connection to the relay open (pull mode); northshire takes requests at /share/graphql (push mode).
    await expect.poll(async () => ((await (await fetch(`${routerUrl('southshire')}/ready`)).json()) as { relayConnection?: string }).relayConnection, { timeout: 10_000 }).toBe('open');

    for (const [reader, custodian, transport] of [['northshire', 'southshire', 'pull'], ['southshire', 'northshire', 'push']] as const) {
      const reply = await ask(reader, SHARED);
      expect(reply.errors).toBeUndefined();
      expect(reply.data.child.sharedRecords).toHaveLength(1);
      const [record] = reply.data.child.sharedRecords as { custodian: string; custodianName: string; socialCare: Record<string, unknown> }[];
      expect(record!.custodian).toBe(custodian);
      expect(record!.custodianName).toMatch(/Council$/);
      // What arrived is what the custodian itself holds.
      const own = await ask(custodian, 'socialCare { status { openCase childProtectionPlan lookedAfter } }');
      expect(record!.socialCare).toMatchObject(own.data.child.socialCare.status);
      carried.push(String(record!.socialCare.asOf), ...(record!.socialCare.allocatedTeam ? [String(record!.socialCare.allocatedTeam)] : []));

      // Audited at DfE (asker, pseudonym, purpose, custodian, decision, size, outcome) ...
      const [relayed] = await query<{ actor_org: string; purpose: string; decision: string; rule: string; pseudonym: Buffer; detail: Record<string, unknown> }>(
        central(),
        `SELECT actor_org, purpose, decision, rule, pseudonym, detail FROM audit_entry WHERE action = 'relay.fetch' AND actor_org = $1 ORDER BY seq DESC LIMIT 1`,
        [reader],
      );
      expect(relayed).toMatchObject({ purpose: 'CHILD_PROTECTION_ENQUIRY', decision: 'ALLOW', rule: 'las-receive-social-care', detail: { custodian, transport, outcome: 'OK' } });
      expect(relayed!.detail.bytes).toBeGreaterThan(100);
      expect(relayed!.pseudonym.length).toBe(32);
      // ... at the custodian, as a read by the asking LA ...
      const [shared] = await query<{ actor: string; roles: string[]; purpose: string; outcome: string }>(
        storeUrl(env[`MAIS_${custodian.toUpperCase()}_STORE_PORT`]),
        `SELECT actor, roles, purpose, outcome FROM la_audit_entry WHERE nhs_number = $1 AND actor LIKE 'org:%' ORDER BY seq DESC LIMIT 1`,
        [moved.nhsNumber],
      );
      expect(shared).toEqual({ actor: `org:${reader}`, roles: ['relay'], purpose: 'CHILD_PROTECTION_ENQUIRY', outcome: 'OK' });
      // ... and at the asking LA, with the relay among the sources that answered.
      const [read] = await query<{ actor: string; sources: { answered: string[] } }>(
        storeUrl(env[`MAIS_${reader.toUpperCase()}_STORE_PORT`]),
        `SELECT actor, sources FROM la_audit_entry WHERE nhs_number = $1 AND actor NOT LIKE 'org:%' ORDER BY seq DESC LIMIT 1`,
        [moved.nhsNumber],
      );
      expect(read).toMatchObject({ actor: asker(reader).username });
      expect(read!.sources.answered).toContain('relay');
    }

    // Southshire revokes what it lets northshire receive: within 5 s the same query brings no shared record.
    const privateKey = JSON.parse(readFileSync(join(dataDir, 'secrets', 'southshire-dfe.private.jwk.json'), 'utf8'));
    const token = await useDfeTokenClient({ tokenUrl: `http://127.0.0.1:${env.MAIS_GATEWAY_PORT}/oauth2/token`, organisation: 'southshire', privateKey, resource: 'mais:dfe:locator' }).token();
    const revoked = { ...sandboxAgreement('southshire'), version: 2, revocations: [{ destination: 'northshire', from: new Date().toISOString(), reason: 'agreement under review' }] };
    const published = await fetch(`http://127.0.0.1:${env.MAIS_GATEWAY_PORT}/subgraphs/locator/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'mutation ($d: String!) { publishDataSharingAgreement(document: $d) { version } }', variables: { d: JSON.stringify(revoked) } }),
    }).then((r) => r.json() as Promise<{ data?: { publishDataSharingAgreement: { version: number } } }>);
    expect(published.data?.publishDataSharingAgreement.version).toBe(2);
    const revokedAt = Date.now();
    await expect.poll(async () => (await ask('northshire', SHARED)).data.child.sharedRecords, { timeout: 5000, interval: 200 }).toEqual([]);
    expect(Date.now() - revokedAt).toBeLessThan(5000);
    const [refused] = await query<{ decision: string; rule: string; detail: Record<string, unknown> }>(
      central(),
      `SELECT decision, rule, detail FROM audit_entry WHERE action = 'relay.fetch' AND actor_org = 'northshire' ORDER BY seq DESC LIMIT 1`,
    );
    expect(refused).toMatchObject({ decision: 'DENY', rule: 'revoked', detail: { custodian: 'southshire' } });
    // Northshire still shares with southshire: the revocation was southshire's alone.
    expect((await ask('southshire', SHARED)).data.child.sharedRecords).toHaveLength(1);
    const audit = run(['audit', 'verify', '--central', '--json'], env);
    expect(JSON.parse(audit.stdout)).toMatchObject({ ok: true });
  }, 90_000);

  it('leaves no child’s NHS number, name or date of birth anywhere in DfE’s store', async () => {
    const ids = populationIdentifiers(join(dataDir, 'population'));
    expect(ids.names.size).toBeGreaterThan(1000);
    for (const text of carried) ids.carried.add(text);
    // Agreements name the dates they run from and to, which may fall on a child's birthday.
    const scan = (url: string) => scanDatabase(url, ids, { birthsAllowedIn: ['dsa_document'] });
    const { scanned, found, columns } = await scan(central());
    expect(columns).toEqual(expect.arrayContaining(['register_entry.pseudonym', 'register_entry.subject_pseudonym', 'audit_entry.detail', 'audit_entry.pseudonym', 'organisation.jwks']));
    expect(scanned).toBeGreaterThan(1000);
    expect(found).toEqual([]);
    // Nor in what any service printed (the locator's and the gateway's logs included), nor in DfE's metrics.
    expect(carried.length).toBeGreaterThanOrEqual(2);
    const metricsToken = readFileSync(join(dataDir, 'secrets', 'metrics.token'), 'utf8').trim();
    const metrics = await (await fetch(`http://127.0.0.1:${env.MAIS_GATEWAY_PORT}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).text();
    expect(metrics).toMatch(/mais_gateway_relay_fetches_total\{custodian="southshire",transport="pull",outcome="OK"\} \d+/);
    const printed = `${sandbox.stdout()}\n${sandbox.stderr()}\n${metrics}`;
    expect(printed).toMatch(/"service":"mais-gateway".*"msg":"relay"/);
    expect(findIdentifiers(printed, ids, { births: false })).toEqual([]);
    // Each kind of identifier is found where it is (the scan can fail).
    const [name] = ids.names;
    const [number] = ids.nhsNumbers;
    expect(findIdentifiers(`{"msg":"${name!.toUpperCase()}","n":"${number}","at":"${carried[0]}"}`, ids).sort()).toEqual(['a name', 'an NHS number', 'what the relay carried']);
    // The same scan of an LA's own store, which holds them by design, finds them: the scan can fail.
    const la = await scan(storeUrl(env.MAIS_NORTHSHIRE_STORE_PORT));
    expect(la.found.some((f) => f.endsWith('an NHS number'))).toBe(true);
  }, 120_000);

  it('publishes both LAs’ and DfE’s subgraphs to the schema registry, from which the routers take their supergraphs; `mais registry` checks and fetches', async () => {
    expect(sandbox.stderr()).toMatch(/schema registry: dfe router v1, dfe matching v1, dfe locator v1, dfe relay v1, northshire csc v1/);
    const fetched = run(['registry', 'fetch-supergraph', '--org', 'northshire', '--json'], env);
    expect(fetched.status).toBe(0);
    const { supergraph, etag } = JSON.parse(fetched.stdout) as { supergraph: string; etag: string };
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    for (const subgraph of ['ROUTER', 'CSC', 'EDUCATION', 'MATCHING', 'LOCATOR', 'RELAY']) expect(supergraph).toMatch(new RegExp(`${subgraph} @join__graph`));
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
    expect((JSON.parse(history.stdout) as { subgraph: string }[]).map((h) => h.subgraph).sort()).toEqual(['locator', 'matching', 'relay', 'router']);
  });

  it('stops cleanly', async () => {
    expect(await sandbox.interrupt('SIGTERM')).toBe(0);
    expect(processesMentioning(dataDir)).toEqual([]);
  });
});
