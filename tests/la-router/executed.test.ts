// However an operation is spelled, the router decides, withholds and audits on what it executes. This
// generates operations (aliases, inline and named fragments nested, @include and @skip with literals,
// variables and defaults, variables with and without defaults, several root fields, open and closed,
// a second operation in the document) for generated callers and children, sends them to a real router
// in production and in development mode over a real csc subgraph and LA store, and checks each answer
// against what the operation executes, worked out here from how it was generated:
// - the children whose data came back, or was asked of csc, are the ones audited by this request;
// - a request that executes one child gets the decision its caller has for that child, one audit entry
//   naming that child with the executed purpose and that decision, and nothing beyond the decision's
//   data categories;
// - a request the router cannot attribute to one child (two children, a child beside a search or an
//   audit trail, a closed root field) is refused whole, before csc is asked anything.
import { once } from 'node:events';
import type { Server } from 'node:http';
import fc from 'fast-check';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PURPOSE_CATEGORIES, permits } from '../../la-router/categories.ts';
import { nhsCheckDigit } from '../../lib/nhs-number.ts';
import { parseRouterConfig } from '../../la-router/config.ts';
import { createRouter, type Router } from '../../la-router/server.ts';
import { createIdentityProvider, SANDBOX_USER_GRANT } from '../../sandbox/idp/provider.ts';
import { createCscService } from '../../subgraphs/csc/service.ts';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import { startLaSubgraph, type TestLaSubgraph } from '../helpers/la-subgraph.ts';
import { recordDetails, testReceiptKeys, type TestReceipts } from '../helpers/match-receipts.ts';
import { freePort, serveOnLoopback } from '../helpers/ports.ts';

const AUDIENCE = 'mais-router:northshire';
const PURPOSES = Object.keys(DEFAULT_PURPOSE_CATEGORIES);
const LONG_REASON = 'Police at the door with a child, no allocated worker reachable';

let csc: TestLaSubgraph;
let receipts: TestReceipts;
let proxy: FaultProxy;
let idp: Server;
let issuer: string;
const routers: { mode: string; router: Router; url: string }[] = [];

interface Caller {
  username: string;
  roles: string[];
}
/** The children the operations ask about: A is allocated to the caller `allocated`, B and C are not. */
const children: Record<'A' | 'B' | 'C', { nhs: string; personId: string; givenName: string; familyName: string; dateOfBirth: string }> = {} as never;
const callers: Record<string, Caller> = {};
/** Every personId and referral id in the store, and whose (NHS number) it is. */
const owner = new Map<string, string>();
const tokens = new Map<string, string>();

async function tokenFor(username: string): Promise<string> {
  const cached = tokens.get(username);
  if (cached) return cached;
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('mais-cli:test-secret').toString('base64')}` },
    body: new URLSearchParams({ grant_type: SANDBOX_USER_GRANT, username }),
  });
  const body = (await response.json()) as { access_token: string };
  tokens.set(username, body.access_token);
  return body.access_token;
}

beforeAll(async () => {
  receipts = await testReceiptKeys();
  csc = await startLaSubgraph('csc', (parts) => createCscService({ ...parts, receipts: { jwks: receipts.jwks, organisation: 'northshire' } }), { children: 300, seed: 5 });
  const query = <T,>(text: string) => csc.store.sql.withSession((db) => db.query<T>(text));
  const [allocation] = await query<{ username: string; nhs: string }>(
    `SELECT u.username, p.pers_common_child_id AS nhs FROM la_user u JOIN ssd_involvements i ON i.invo_professional_id = u.prof_professional_id
       JOIN ssd_person p ON p.pers_person_id = i.invo_person_id
      WHERE i.invo_professional_role_id = 'Allocated Social Worker' AND i.invo_involvement_end_date IS NULL AND p.pers_common_child_id IS NOT NULL
        AND 'csc.practitioner' = ANY(u.roles) ORDER BY u.username, p.pers_common_child_id LIMIT 1`,
  );
  const persons = await query<{ nhs: string | null; person: string; given: string; family: string; dob: string }>(
    `SELECT pers_common_child_id AS nhs, pers_person_id AS person, pers_forename AS given, pers_surname AS family, to_char(pers_dob, 'YYYY-MM-DD') AS dob FROM ssd_person ORDER BY pers_person_id`,
  );
  for (const p of persons) if (p.nhs) owner.set(p.person, p.nhs);
  for (const r of await query<{ id: string; nhs: string | null }>(`SELECT e.cine_referral_id AS id, p.pers_common_child_id AS nhs FROM ssd_cin_episodes e JOIN ssd_person p ON p.pers_person_id = e.cine_person_id`)) {
    if (r.nhs) owner.set(r.id, r.nhs);
  }
  const allocatedTo = new Set((await query<{ nhs: string }>(`SELECT p.pers_common_child_id AS nhs FROM la_user u JOIN ssd_involvements i ON i.invo_professional_id = u.prof_professional_id JOIN ssd_person p ON p.pers_person_id = i.invo_person_id WHERE u.username = '${allocation!.username}'`)).map((r) => r.nhs));
  // B and C: children with referrals (so a leak would show), not allocated to the allocated worker.
  const withReferrals = new Set([...owner.entries()].filter(([id]) => !persons.some((p) => p.person === id)).map(([, nhs]) => nhs));
  const pick = (nhs: string) => {
    const p = persons.find((q) => q.nhs === nhs)!;
    return { nhs, personId: p.person, givenName: p.given, familyName: p.family, dateOfBirth: p.dob };
  };
  const others = persons.filter((p) => p.nhs && withReferrals.has(p.nhs) && !allocatedTo.has(p.nhs)).map((p) => p.nhs!);
  Object.assign(children, { A: pick(allocation!.nhs), B: pick(others[0]!), C: pick(others[1]!) });
  const users = await csc.store.prisma.la_user.findMany({ orderBy: { username: 'asc' } });
  const practitioner = users.find((u) => u.username !== allocation!.username && u.roles.includes('csc.practitioner') && !u.roles.includes('csc.manager'))!;
  Object.assign(callers, {
    allocated: { username: allocation!.username, roles: users.find((u) => u.username === allocation!.username)!.roles },
    practitioner: { username: practitioner.username, roles: practitioner.roles },
    education: { username: 'eddie.education', roles: ['education.officer'] },
    developer: { username: 'dev.eloper', roles: ['la.developer'] },
    ig: { username: 'ivy.officer', roles: ['ig.officer'] },
  });
  // The LA's user list holds every account the test signs in as (the router refuses any other).
  await csc.store.prisma.la_user.createMany({ data: Object.values(callers).map((c) => ({ username: c.username, display_name: c.username, roles: c.roles })), skipDuplicates: true });
  const idpPort = await freePort();
  issuer = `http://127.0.0.1:${idpPort}`;
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const signingKey: JWK = { ...(await exportJWK(privateKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' };
  idp = createIdentityProvider({ la: 'northshire', issuer, audience: AUDIENCE, signingKey, cliSecret: 'test-secret', users: Object.values(callers).map((c) => ({ ...c, displayName: c.username })) }).listen(idpPort, '127.0.0.1');
  await once(idp, 'listening');
  proxy = await startFaultProxy(csc.url.replace(/\/graphql$/, ''));
  for (const mode of ['production', 'development'] as const) {
    const config = parseRouterConfig({
      la: 'northshire',
      port: 0,
      mode,
      subgraphs: [{ name: 'csc', url: `${proxy.url}/graphql`, kind: 'la' }],
      oidc: { issuer, audience: AUDIENCE },
      database: {},
      // breakGlassReport is a closed root field here.
      exposedRootFields: ['child', 'findChildren', 'auditTrail', 'linkNhsNumber'],
    });
    const router = await createRouter({ config, internalToken: csc.signer, dfeCredential: null, store: csc.store });
    routers.push({ mode, router, url: `${await serveOnLoopback(router.server)}/graphql` });
  }
}, 120_000);

afterAll(async () => {
  for (const { router } of routers) await router.stop();
  idp?.close();
  await proxy?.close();
  await csc?.close();
});

// ---- The operations generated, and what they execute -------------------------------------------------

type ChildName = 'A' | 'B' | 'C';
/** How a value reaches an argument: written in, a variable sent, a variable's default, or a default the variable sent overrides. */
type Form = 'literal' | 'variable' | 'default' | 'overridden';
interface Condition {
  directive: 'include' | 'skip';
  value: boolean;
  form: Form;
}
interface Wrap {
  kind: 'inline' | 'bare' | 'named';
  condition: Condition | null;
}
const ITEMS = [
  { name: 'personId', text: 'personId', category: 'csc.status' },
  { name: 'status', text: 'status { openCase }', category: 'csc.status' },
  { name: 'referrals', text: 'referrals { id }', category: 'csc.referral' },
  { name: 'cpPlans', text: 'cpPlans { id }', category: 'csc.cp_plan' },
] as const;
type Root =
  | { kind: 'child'; nhs: ChildName; nhsForm: Form; purpose: string; purposeForm: Form; reason: 'none' | 'short' | 'long'; items: { item: number; alias: boolean }[]; itemsIn: 'plain' | 'inline' | 'named' }
  | { kind: 'search'; of: ChildName; purpose: string; shape: SearchShape }
  | { kind: 'trail'; nhs: ChildName; nhsForm: Form }
  | { kind: 'closed' }
  | { kind: 'typename' };
/** What a search gives: a name with a date of birth, or an NHS number (enough), or less. */
type SearchShape = 'names+dob' | 'family+dob' | 'given+dob+postcode' | 'nhs' | 'names only' | 'dob+postcode';
const ENOUGH: ReadonlySet<SearchShape> = new Set(['names+dob', 'family+dob', 'given+dob+postcode', 'nhs']);
interface Entry {
  root: Root;
  alias: boolean;
  condition: Condition | null;
  wraps: Wrap[];
}

const form = fc.constantFrom<Form>('literal', 'variable', 'default', 'overridden');
const condition = fc.option(fc.record({ directive: fc.constantFrom<'include' | 'skip'>('include', 'skip'), value: fc.boolean(), form }), { freq: 2 });
const childName = fc.constantFrom<ChildName>('A', 'B', 'C');
const root: fc.Arbitrary<Root> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('child' as const), nhs: childName, nhsForm: form, purpose: fc.constantFrom(...PURPOSES), purposeForm: form, reason: fc.constantFrom('none', 'none', 'short', 'long'), items: fc.uniqueArray(fc.record({ item: fc.nat(ITEMS.length - 1), alias: fc.boolean() }), { selector: (i) => i.item, maxLength: 4 }), itemsIn: fc.constantFrom('plain', 'inline', 'named') }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('search' as const), of: childName, purpose: fc.constantFrom(...PURPOSES), shape: fc.constantFrom<SearchShape>('names+dob', 'family+dob', 'given+dob+postcode', 'nhs', 'names only', 'dob+postcode') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('trail' as const), nhs: childName, nhsForm: form }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'closed' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'typename' as const }) },
);
const entry: fc.Arbitrary<Entry> = fc.record({ root, alias: fc.boolean(), condition, wraps: fc.array(fc.record({ kind: fc.constantFrom<Wrap['kind']>('inline', 'bare', 'named'), condition }), { maxLength: 3 }) });
const caller = fc.constantFrom('allocated', 'practitioner', 'education', 'developer', 'ig');
const operation = fc.record({ entries: fc.array(entry, { minLength: 1, maxLength: 3 }), caller, mode: fc.constantFrom('production', 'development'), decoy: fc.boolean() });

/** The operation's text and variables, and what it executes. */
function build(entries: Entry[], decoy: boolean) {
  const definitions: string[] = [];
  const fragments: string[] = [];
  const variables: Record<string, unknown> = {};
  let n = 0;
  const value = (type: string, actual: string, other: string, how: Form) => {
    if (how === 'literal') return actual;
    const name = `v${(n += 1)}`;
    const json = (text: string) => (text.startsWith('"') ? JSON.parse(text) : text === 'true' ? true : text === 'false' ? false : text);
    if (how === 'variable') variables[name] = json(actual);
    if (how === 'overridden') variables[name] = json(actual);
    definitions.push(`$${name}: ${type}${how === 'default' ? ` = ${actual}` : how === 'overridden' ? ` = ${other}` : ''}`);
    return `$${name}`;
  };
  const directive = (c: Condition | null) => (c ? ` @${c.directive}(if: ${value('Boolean!', String(c.value), String(!c.value), c.form)})` : '');
  const runs = (c: Condition | null) => !c || (c.directive === 'include' ? c.value : !c.value);
  const other = (name: ChildName): ChildName => (name === 'A' ? 'B' : 'A');
  const executed: (Root & { key: string })[] = [];
  const tops: string[] = [];
  const kinds = new Map<string, number>();
  entries.forEach((e, i) => {
    const r = e.root;
    const field = { child: 'child', search: 'findChildren', trail: 'auditTrail', closed: 'breakGlassReport', typename: '__typename' }[r.kind];
    // A field's first use may go without an alias; later ones take one, so no two conflict.
    const seen = kinds.get(field) ?? 0;
    kinds.set(field, seen + 1);
    const key = e.alias || (seen > 0 && r.kind !== 'typename') ? `r${i}` : field;
    let text: string;
    if (r.kind === 'child') {
      const reason = r.reason === 'none' ? '' : `, breakGlassReason: ${JSON.stringify(r.reason === 'long' ? LONG_REASON : 'urgent')}, breakGlassCategory: OUT_OF_HOURS_EMERGENCY`;
      const items = r.items.map(({ item, alias }) => `${alias ? `i${item}: ` : ''}${ITEMS[item]!.text}`).join(' ');
      let inner = items ? `socialCare { ${items} }` : '';
      if (inner && r.itemsIn === 'inline') inner = `... on Child { ${inner} }`;
      if (inner && r.itemsIn === 'named') {
        fragments.push(`fragment S${i} on Child { ${inner} }`);
        inner = `...S${i}`;
      }
      const nhs = value('NhsNumber!', JSON.stringify(children[r.nhs].nhs), JSON.stringify(children[other(r.nhs)].nhs), r.nhsForm);
      const purpose = value('Purpose!', r.purpose, PURPOSES.find((p) => p !== r.purpose)!, r.purposeForm);
      text = `child(nhsNumber: ${nhs}, purpose: ${purpose}${reason})${directive(e.condition)} { nhsNumber ${inner} }`;
    } else if (r.kind === 'search') {
      const c = children[r.of];
      const given = { givenName: c.givenName, familyName: c.familyName, dateOfBirth: c.dateOfBirth, postcode: 'DL1 1AA', nhsNumber: c.nhs };
      const keep = { 'names+dob': ['givenName', 'familyName', 'dateOfBirth'], 'family+dob': ['familyName', 'dateOfBirth'], 'given+dob+postcode': ['givenName', 'dateOfBirth', 'postcode'], nhs: ['nhsNumber'], 'names only': ['givenName', 'familyName'], 'dob+postcode': ['dateOfBirth', 'postcode'] }[r.shape];
      const input = keep.map((k) => `${k}: ${JSON.stringify(given[k as keyof typeof given])}`).join(', ');
      text = `findChildren(input: { ${input} }, purpose: ${r.purpose})${directive(e.condition)} { personId nhsNumber }`;
    } else if (r.kind === 'trail') {
      text = `auditTrail(nhsNumber: ${value('NhsNumber!', JSON.stringify(children[r.nhs].nhs), JSON.stringify(children[other(r.nhs)].nhs), r.nhsForm)})${directive(e.condition)} { nhsNumber action }`;
    } else if (r.kind === 'closed') {
      text = `breakGlassReport(from: "2026-01-01", to: "2026-12-31")${directive(e.condition)} { category accesses { nhsNumber caseworker } }`;
    } else {
      text = `__typename${directive(e.condition)}`;
    }
    text = `${key === field ? '' : `${key}: `}${text}`;
    e.wraps.forEach((w, j) => {
      if (w.kind === 'named') {
        fragments.push(`fragment Q${i}_${j} on Query { ${text} }`);
        text = `...Q${i}_${j}${directive(w.condition)}`;
      } else {
        text = `...${w.kind === 'inline' ? ' on Query' : ''}${directive(w.condition)} { ${text} }`;
      }
    });
    tops.push(text);
    if (runs(e.condition) && e.wraps.every((w) => runs(w.condition))) executed.push({ ...r, key });
  });
  const head = definitions.length ? `(${definitions.join(', ')})` : '';
  // Another operation in the same document, never the one executed.
  const decoyText = decoy ? `query Decoy { child(nhsNumber: ${JSON.stringify(children.C.nhs)}, purpose: CHILD_PROTECTION_ENQUIRY, breakGlassReason: ${JSON.stringify(LONG_REASON)}) { nhsNumber socialCare { referrals { id } } } }\n` : '';
  return { query: `${decoyText}query Op${head} { ${tops.join(' ')} }\n${fragments.join('\n')}`, variables, executed };
}

/** The decision the caller has for a child, by the rules in docs (allocation, role, break-glass). */
function expectedDecision(who: Caller, isA: boolean, reason: 'none' | 'short' | 'long'): string {
  const socialCare = who.roles.some((r) => r === 'csc.practitioner' || r === 'csc.manager');
  if (reason === 'short') return 'REFUSED';
  if (reason === 'long') return socialCare ? 'BREAK_GLASS' : 'REFUSED';
  if (isA && who.roles.includes('csc.practitioner') && who.username === callers.allocated!.username) return 'FULL';
  if (socialCare || who.roles.includes('education.officer')) return 'SUMMARY';
  return 'REFUSED';
}

/** Every string in a JSON value. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => strings(v, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => strings(v, out));
  return out;
}

const auditedSince = (seq: bigint) =>
  csc.store.sql.withSession((db) => db.query<{ seq: string; actor: string; nhs_number: string | null; purpose: string | null; sources: { decision?: string; action?: string } | null }>('SELECT seq::text, actor, nhs_number, purpose, sources FROM la_audit_entry WHERE seq > $1 ORDER BY seq', [seq.toString()]));
const lastSeq = async () => BigInt((await csc.store.sql.withSession((db) => db.query<{ seq: string | null }>('SELECT max(seq)::text AS seq FROM la_audit_entry')))[0]?.seq ?? '0');

describe('what an operation executes, however it is spelled', () => {
  it('decides, withholds and audits exactly the children whose data it returns', async () => {
    await fc.assert(
      fc.asyncProperty(operation, async ({ entries, caller: callerName, mode, decoy }) => {
        const who = callers[callerName]!;
        const { query, variables, executed } = build(entries, decoy);
        const before = await lastSeq();
        const asked = proxy.bodies.length;
        const { url } = routers.find((r) => r.mode === mode)!;
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokenFor(who.username)}` }, body: JSON.stringify({ query, variables, operationName: 'Op' }) });
        expect(response.status).toBeLessThan(500);
        const body = (await response.json()) as { data?: Record<string, any> | null; errors?: { extensions?: { code?: string } }[] };
        const audit = await auditedSince(before);
        const bodies = proxy.bodies.slice(asked).join('\n');
        // Whose data came back, or was asked of csc: each of them is audited by this request.
        const seen = new Set<string>();
        for (const s of strings(body.data ?? null)) {
          if (/^\d{10}$/.test(s)) seen.add(s);
          if (owner.has(s)) seen.add(owner.get(s)!);
        }
        for (const c of Object.values(children)) if (bodies.includes(c.nhs)) seen.add(c.nhs);
        const audited = new Set(audit.map((a) => a.nhs_number).filter((n): n is string => n !== null));
        expect([...seen].filter((nhs) => !audited.has(nhs))).toEqual([]);

        const childRoots = executed.filter((r) => r.kind === 'child');
        const searches = executed.filter((r): r is Extract<Root, { kind: 'search' }> & { key: string } => r.kind === 'search');
        const unattributable = executed.some((r) => r.kind === 'closed') || childRoots.length > 1 || (childRoots.length === 1 && executed.some((r) => r.kind === 'search' || r.kind === 'trail'));
        // Searches are social care work, on a name with a date of birth, wherever they are written.
        const searchRefused = searches.length > 0 && !who.roles.some((role) => role === 'csc.practitioner' || role === 'csc.manager') ? 'FORBIDDEN' : searches.some((q) => !ENOUGH.has(q.shape)) ? 'BAD_USER_INPUT' : null;
        if (unattributable || searchRefused) {
          expect(body.data ?? null).toBeNull();
          // Searches for more than one purpose are refused for that first (one request, one purpose).
          const purposes = new Set(searches.map((q) => q.purpose));
          expect(body.errors?.[0]?.extensions?.code).toMatch(unattributable || purposes.size > 1 ? /^(FORBIDDEN|BAD_USER_INPUT)$/ : new RegExp(`^${searchRefused}$`));
          expect(proxy.bodies.length).toBe(asked);
          return;
        }
        // Each search answers at most 20 records, and each child it returns has one audit entry for it.
        // (A search by NHS number that returned nothing is audited under that number too, with no results.)
        const searchEntries = audit.filter((a) => a.sources?.action === 'SEARCH' && a.nhs_number !== null && (a.sources as { results?: number }).results !== 0);
        let returned = 0;
        for (const q of searches) {
          const hits = (body.data?.[q.key] ?? []) as { nhsNumber: string | null }[];
          expect(hits.length).toBeLessThanOrEqual(20);
          // By NHS number: that child's record, and only it.
          if (q.shape === 'nhs' && body.data?.[q.key] !== undefined) expect(hits.map((h) => h.nhsNumber)).toEqual([children[q.of].nhs]);
          returned += hits.filter((h) => h.nhsNumber !== null).length;
        }
        expect(searchEntries.length).toBe(returned);
        if (childRoots.length === 0) return;
        const r = childRoots[0] as Extract<Root, { kind: 'child' }> & { key: string };
        const target = children[r.nhs];
        const decision = expectedDecision(who, r.nhs === 'A', r.reason);
        const views = audit.filter((a) => a.actor === who.username && (a.sources?.action ?? 'VIEW') === 'VIEW');
        expect(views.map((a) => a.nhs_number)).toEqual([target.nhs]);
        if (decision === 'REFUSED') {
          expect(body.data ?? null).toBeNull();
          expect(proxy.bodies.length).toBe(asked);
          return;
        }
        expect(views[0]).toMatchObject({ purpose: r.purpose, sources: { decision } });
        const child = body.data?.[r.key];
        expect(child?.nhsNumber).toBe(target.nhs);
        for (const { item, alias } of r.items) {
          const allowed = permits({ purposes: DEFAULT_PURPOSE_CATEGORIES, purpose: r.purpose, decision: decision as never }, ITEMS[item]!.category).allowed;
          if (!allowed) expect(child.socialCare?.[alias ? `i${item}` : ITEMS[item]!.name] ?? null).toBeNull();
        }
      }),
      { numRuns: 150, seed: Number(process.env.MAIS_PROPERTY_SEED ?? Date.now() % 2 ** 31) },
    );
  }, 240_000);
});

describe('a link, however it is spelled', () => {
  /** Valid NHS numbers no record holds: 999 followed by a counter, with its check digit. */
  let counter = 4_000_000;
  const unused = (): string => {
    for (;;) {
      const nine = `99${String((counter += 1)).padStart(7, '0')}`;
      const check = nhsCheckDigit(nine);
      if (check !== undefined && !owner.has(nine)) return `${nine}${check}`;
    }
  };

  it('audits and binds the link to the NHS number it executes, from literals, variables or their defaults', async () => {
    // One record without an NHS number, unlinked again after each case.
    const person = await csc.store.prisma.ssd_person.findFirstOrThrow({ where: { pers_common_child_id: null }, orderBy: { pers_person_id: 'asc' }, include: { addresses: { orderBy: { addr_address_start_date: 'desc' }, take: 1 } } });
    const unlink = async () => {
      await csc.store.prisma.la_match_result.deleteMany({ where: { subject_id: person.pers_person_id } });
      await csc.store.prisma.ssd_person.update({ where: { pers_person_id: person.pers_person_id }, data: { pers_common_child_id: null } });
    };
    await fc.assert(
      fc.asyncProperty(form, fc.constantFrom('plain', 'inline', 'named'), condition, fc.constantFrom('production', 'development'), async (how, wrap, cond, mode) => {
        const [linked, decoy] = [unused(), unused()];
        const receipt = new Map<string, string>();
        for (const nhs of [linked, decoy]) receipt.set(nhs, await receipts.sign({ nhsNumber: nhs, details: recordDetails(person) }));
        const input = (nhs: string) => `{ personId: ${JSON.stringify(person.pers_person_id)}, nhsNumber: ${JSON.stringify(nhs)}, receipt: ${JSON.stringify(receipt.get(nhs))}, confirmed: true }`;
        const definitions: string[] = [];
        const variables: Record<string, unknown> = {};
        let argument = input(linked);
        if (how !== 'literal') {
          definitions.push(`$i: LinkNhsNumberInput!${how === 'default' ? ` = ${input(linked)}` : how === 'overridden' ? ` = ${input(decoy)}` : ''}`);
          if (how !== 'default') variables.i = { personId: person.pers_person_id, nhsNumber: linked, receipt: receipt.get(linked), confirmed: true };
          argument = '$i';
        }
        let directive = '';
        if (cond) {
          definitions.push(`$b: Boolean! = ${cond.value}`);
          directive = ` @${cond.directive}(if: $b)`;
        }
        let text = `linkNhsNumber(input: ${argument}, purpose: CHILD_IN_NEED_ASSESSMENT)${directive} { personId nhsNumber linked }`;
        const fragments: string[] = [];
        if (wrap === 'inline') text = `... on Mutation { ${text} }`;
        if (wrap === 'named') {
          fragments.push(`fragment L on Mutation { ${text} }`);
          text = '...L';
        }
        const query = `mutation Op${definitions.length ? `(${definitions.join(', ')})` : ''} { ${text} } ${fragments.join(' ')}`;
        await unlink();
        const before = await lastSeq();
        const asked = proxy.bodies.length;
        const { url } = routers.find((r) => r.mode === mode)!;
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokenFor(callers.practitioner!.username)}` }, body: JSON.stringify({ query, variables, operationName: 'Op' }) });
        const body = (await response.json()) as { data?: { linkNhsNumber?: { nhsNumber: string } } | null; errors?: unknown[] };
        const audit = await auditedSince(before);
        const runs = !cond || (cond.directive === 'include' ? cond.value : !cond.value);
        const stored = (await csc.store.prisma.ssd_person.findUniqueOrThrow({ where: { pers_person_id: person.pers_person_id } })).pers_common_child_id;
        if (!runs) {
          expect(stored).toBeNull();
          expect(proxy.bodies.length).toBe(asked);
          return;
        }
        // Linked to the number executed, never the default it overrode, and audited as that link.
        expect(body.errors).toBeUndefined();
        expect(body.data?.linkNhsNumber?.nhsNumber).toBe(linked);
        expect(stored).toBe(linked);
        expect(audit.filter((a) => a.sources?.action === 'LINK').map((a) => a.nhs_number)).toEqual([linked]);
        // (The default it overrode may travel in the operation's text, as written; never as a value.)
        expect(proxy.bodies.slice(asked).map((b) => JSON.stringify((JSON.parse(b) as { variables?: unknown }).variables ?? {})).join('\n')).not.toContain(decoy);
      }),
      { numRuns: 30 },
    );
  }, 120_000);
});
