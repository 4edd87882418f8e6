import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isValidNhsNumber, nhsCheckDigit } from '../../../lib/nhs-number.ts';
import { appendAuditInTransaction, CENTRAL_AUDIT, verifyAudit } from '../../../lib/audit/chain.ts';
import { publishDsa } from '../../../gateway/dsa-registry.ts';
import { DfeTokenError } from '../../../lib/dfe-token.ts';
import { useOrganisationSigner } from '../../../lib/organisation-credential.ts';
import { LOCATOR_AUDIENCE } from '../../../schema/audiences.ts';
import { startLocator, type TestLocator } from '../../helpers/locator.ts';
import { syntheticNhsNumber } from '../../helpers/nhs.ts';

const REGISTER = `mutation ($input: [RecordRegistration!]!) { registerRecords(input: $input) { written items created updated notFound errors { index code field message } } }`;
const RETIRE = `mutation ($input: [RecordRetirement!]!) { retireRecords(input: $input) { written items updated notFound errors { index code field } } }`;
const LOCATIONS = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Child { nhsNumber locations { custodian { code name kind } systemId recordType firstSeen lastSeen stale retired } } } }`;
const reps = (...nhs: string[]) => ({ reps: nhs.map((nhsNumber) => ({ __typename: 'Child', nhsNumber })) });

let locator: TestLocator;
let next = 100;
/** A fresh NHS number for each test, so tests do not see each other's records. */
const child = () => syntheticNhsNumber((next += 7));

const rowCount = async () => Number((await locator.store.sql.withSession((db) => db.query<{ n: string }>('SELECT count(*) AS n FROM register_entry')))[0]!.n);

beforeAll(async () => {
  locator = await startLocator();
  // Northshire tells LAs and health what it holds, for every purpose; tells nobody about education
  // for early help; and tells eastshire nothing about education at all.
  await locator.store.sql.withSession((db) =>
    publishDsa(
      db,
      {
        source: 'northshire',
        version: 1,
        defaults: [
          { id: 'la-and-health', effect: 'ALLOW', destinations: { organisationTypes: ['LA', 'HEALTH'] }, recordTypes: ['csc.*', 'education.*'], modes: ['EXISTENCE'], purposes: ['*'] },
          { id: 'dfe-window', effect: 'ALLOW', destinations: { organisations: ['dfe'] }, recordTypes: ['*'], modes: ['EXISTENCE'], purposes: ['*'], validFrom: '2020-01-01T00:00:00Z', validTo: '2021-01-01T00:00:00Z' },
        ],
        exceptions: [
          { id: 'no-eastshire-education', effect: 'DENY', destinations: { organisations: ['eastshire'] }, recordTypes: ['education.*'], modes: ['EXISTENCE'], purposes: ['*'] },
          { id: 'early-help-csc-only', effect: 'DENY', destinations: { organisationTypes: ['LA'] }, recordTypes: ['education.*'], modes: ['EXISTENCE'], purposes: ['EARLY_HELP'] },
        ],
      },
      'dfe',
    ),
  );
  await locator.directory.refresh();
}, 60_000);

afterAll(async () => {
  await locator?.close();
});

describe('registerRecords', () => {
  it('registers under the caller’s own code, and a second call with the same items changes nothing but the seen dates', async () => {
    const a = child();
    const b = child();
    const items = [
      { nhsNumber: a, systemId: 'northshire-csc', recordType: 'csc.cp_plan', subjectId: 'P0001', firstSeen: '2024-03-01' },
      { nhsNumber: b, systemId: 'northshire-education', recordType: 'education.enrolment' },
    ];
    const before = await rowCount();
    const first = await locator.graphql(REGISTER, { input: items });
    expect(first.body.data.registerRecords).toMatchObject({ written: true, items: 2, created: 2, updated: 0, errors: [] });
    const again = await locator.graphql(REGISTER, { input: items });
    expect(again.body.data.registerRecords).toMatchObject({ written: true, created: 0, updated: 2 });
    expect(await rowCount()).toBe(before + 2);
    const rows = await locator.store.sql.withSession((db) => db.query<{ custodian_code: string; provenance: string; first_seen: Date }>("SELECT custodian_code, provenance, first_seen FROM register_entry WHERE record_type = 'csc.cp_plan' AND system_id = 'northshire-csc'"));
    expect(rows.every((r) => r.custodian_code === 'northshire' && r.provenance === 'REGISTERED')).toBe(true);
    expect(rows.some((r) => new Date(r.first_seen).toISOString().startsWith('2024-03-01'))).toBe(true);
  });

  it('is all or nothing: one bad item among good ones writes nothing, and every problem is listed by index without the NHS number', async () => {
    const good = child();
    const badNhs = '9434765918';
    const before = await rowCount();
    const reply = await locator.graphql(REGISTER, {
      input: [
        { nhsNumber: good, systemId: 'northshire-csc', recordType: 'csc.referral' },
        { nhsNumber: badNhs, systemId: 'northshire-csc', recordType: 'csc.referral' },
        { nhsNumber: good, systemId: 'northshire-csc', recordType: 'csc.horoscope' },
        { nhsNumber: good, systemId: 'has spaces', recordType: 'csc.referral', firstSeen: '2024-02-30' },
      ],
    });
    const result = reply.body.data.registerRecords;
    expect(result.written).toBe(false);
    expect(result.errors.map((e: { index: number; code: string; field: string }) => [e.index, e.code, e.field])).toEqual([
      [1, 'INVALID_NHS_NUMBER', 'nhsNumber'],
      [2, 'BAD_USER_INPUT', 'recordType'],
      [3, 'BAD_USER_INPUT', 'systemId'],
      [3, 'BAD_USER_INPUT', 'firstSeen'],
    ]);
    expect(JSON.stringify(reply.body)).not.toContain(badNhs);
    expect(await rowCount()).toBe(before);
  });

  it('refuses more than 10,000 items in one call', async () => {
    const items = Array.from({ length: 10_001 }, () => ({ nhsNumber: '9434765919', systemId: 's', recordType: 'csc.referral' }));
    const reply = await locator.graphql(REGISTER, { input: items });
    expect(reply.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input' });
  });

  it('takes the custodian from the credential only: the input has no custodian field, and a forged issuer is refused', async () => {
    const reply = await locator.graphql(REGISTER, { input: [{ nhsNumber: child(), systemId: 's', recordType: 'csc.referral', custodian: 'southshire' }] });
    expect(reply.status).toBe(400);
    expect(reply.body.errors?.[0].message).toMatch(/custodian/);
    // Southshire signing a credential that claims to be northshire: its key is not northshire's.
    const { SignJWT, importJWK } = await import('jose');
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'northshire-1' })
      .setIssuer('northshire').setSubject('northshire').setAudience('mais:dfe:locator').setJti('x').setIssuedAt().setExpirationTime('60s')
      .sign(await importJWK(locator.privateKeys.get('southshire')!, 'ES256'));
    const refused = await locator.graphql(REGISTER, { input: [{ nhsNumber: child(), systemId: 's', recordType: 'csc.referral' }] }, { token: forged });
    expect(refused.status).toBe(401);
    expect(refused.body.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a missing token, one for another DfE service, one not signed by DfE and one that is not a JWT, with 401', async () => {
    const input = { input: [{ nhsNumber: child(), systemId: 'northshire-csc', recordType: 'csc.referral' }] };
    expect((await locator.graphql(REGISTER, input, { token: null })).status).toBe(401);
    expect((await locator.graphql(REGISTER, input, { token: await locator.credential('northshire', 'mais:dfe:matching') })).status).toBe(401);
    // The organisation's own signed assertion is for DfE's token endpoint, not a token for DfE's services.
    const assertion = await useOrganisationSigner({ organisation: 'northshire', privateKey: locator.privateKeys.get('northshire')!, audience: LOCATOR_AUDIENCE }).sign();
    expect((await locator.graphql(REGISTER, input, { token: assertion })).status).toBe(401);
    expect((await locator.graphql(REGISTER, input, { token: 'not-a-jwt' })).status).toBe(401);
    expect((await locator.graphql(REGISTER, input)).body.data.registerRecords.written).toBe(true);
  });

  it('a token reused for its life (as routers do) stops working as soon as the organisation is suspended, and a replaced key gets no new one', async () => {
    const input = { input: [{ nhsNumber: child(), systemId: 'eastshire-csc', recordType: 'csc.referral' }] };
    const token = await locator.credential('eastshire');
    expect((await locator.graphql(REGISTER, input, { token })).status).toBe(200);
    expect((await locator.graphql(REGISTER, input, { token })).body.data.registerRecords.written).toBe(true);
    await locator.store.sql.withSession((db) => db.query(`UPDATE organisation SET status = 'SUSPENDED' WHERE code = 'eastshire'`));
    await locator.directory.refresh();
    const suspended = await locator.graphql(REGISTER, input, { token });
    expect(suspended.status).toBe(401);
    expect(suspended.body.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    await locator.store.sql.withSession((db) => db.query(`UPDATE organisation SET status = 'ACTIVE' WHERE code = 'eastshire'`));
    await locator.directory.refresh();
    expect((await locator.graphql(REGISTER, input, { token })).status).toBe(200);
    const [row] = await locator.store.sql.withSession((db) => db.query<{ jwks: { keys: Record<string, unknown>[] } }>(`SELECT jwks FROM organisation WHERE code = 'eastshire'`));
    const { generateKeyPair, exportJWK } = await import('jose');
    const other = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey);
    await locator.store.sql.withSession((db) => db.query(`UPDATE organisation SET jwks = $1 WHERE code = 'eastshire'`, [JSON.stringify({ keys: [{ ...other, kid: 'eastshire-1', alg: 'ES256' }] })]));
    try {
      await expect.poll(() => locator.credential('eastshire').then(() => 'issued', (error: unknown) => (error instanceof DfeTokenError ? error.status : 'other')), { timeout: 3000 }).toBe(401);
    } finally {
      await locator.store.sql.withSession((db) => db.query(`UPDATE organisation SET jwks = $1 WHERE code = 'eastshire'`, [JSON.stringify(row!.jwks)]));
      await locator.directory.refresh();
      await expect.poll(() => locator.credential('eastshire').then(() => 'issued', () => 'refused'), { timeout: 3000 }).toBe('issued');
    }
  });

  it('retires only the caller’s own records, and re-registering brings one back', async () => {
    const a = child();
    await locator.graphql(REGISTER, { input: [{ nhsNumber: a, systemId: 'northshire-csc', recordType: 'csc.looked_after' }] });
    const bySouth = await locator.graphql(RETIRE, { input: [{ nhsNumber: a, systemId: 'northshire-csc', recordType: 'csc.looked_after' }] }, { as: 'southshire' });
    expect(bySouth.body.data.retireRecords).toMatchObject({ written: true, updated: 0, notFound: 1 });
    const retired = await locator.graphql(RETIRE, { input: [{ nhsNumber: a, systemId: 'northshire-csc', recordType: 'csc.looked_after' }] });
    expect(retired.body.data.retireRecords).toMatchObject({ written: true, updated: 1, notFound: 0 });
    let view = await locator.graphql(LOCATIONS, reps(a), { as: 'southshire', purpose: 'CHILD_PROTECTION_ENQUIRY' });
    expect(view.body.data._entities[0].locations).toEqual([expect.objectContaining({ recordType: 'csc.looked_after', retired: true, stale: false })]);
    await locator.graphql(REGISTER, { input: [{ nhsNumber: a, systemId: 'northshire-csc', recordType: 'csc.looked_after' }] });
    view = await locator.graphql(LOCATIONS, reps(a), { as: 'southshire', purpose: 'CHILD_PROTECTION_ENQUIRY' });
    expect(view.body.data._entities[0].locations[0].retired).toBe(false);
  });
});

describe('Child.locations', () => {
  let a: string;
  beforeAll(async () => {
    a = child();
    await locator.graphql(REGISTER, {
      input: [
        { nhsNumber: a, systemId: 'northshire-csc', recordType: 'csc.cp_plan', firstSeen: '2023-05-02' },
        { nhsNumber: a, systemId: 'northshire-education', recordType: 'education.enrolment', firstSeen: '2019-09-01' },
      ],
    });
    await locator.graphql(REGISTER, { input: [{ nhsNumber: a, systemId: 'north-icb-gp', recordType: 'health.gp_registration' }] }, { as: 'north-icb' });
  });

  const seen = async (as: string, purpose: string) => {
    const reply = await locator.graphql(LOCATIONS, reps(a), { as, purpose });
    expect(reply.body.errors).toBeUndefined();
    return (reply.body.data._entities[0].locations as { custodian: { code: string }; recordType: string }[]).map((l) => `${l.custodian.code}:${l.recordType}`);
  };

  it('shows what the default rule allows, with the custodian’s name and kind', async () => {
    const reply = await locator.graphql(LOCATIONS, reps(a), { as: 'southshire', purpose: 'CHILD_PROTECTION_ENQUIRY' });
    expect(reply.body.data._entities[0].locations).toContainEqual({
      custodian: { code: 'northshire', name: 'Northshire County Council', kind: 'LA' },
      systemId: 'northshire-csc',
      recordType: 'csc.cp_plan',
      firstSeen: '2023-05-02',
      lastSeen: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      stale: false,
      retired: false,
    });
    // north-icb has no agreement: its pointer is withheld from southshire.
    expect(await seen('southshire', 'CHILD_PROTECTION_ENQUIRY')).toEqual(['northshire:csc.cp_plan', 'northshire:education.enrolment']);
  });

  it('applies exceptions before defaults, by organisation and by purpose', async () => {
    expect(await seen('eastshire', 'CHILD_PROTECTION_ENQUIRY')).toEqual(['northshire:csc.cp_plan']);
    expect(await seen('southshire', 'EARLY_HELP')).toEqual(['northshire:csc.cp_plan']);
    // Health is not an LA: the early-help exception does not apply to it.
    expect(await seen('north-icb', 'EARLY_HELP')).toEqual(['north-icb:health.gp_registration', 'northshire:csc.cp_plan', 'northshire:education.enrolment']);
  });

  it('honours a bilateral agreement: the ICB tells northshire alone about its GP registrations', async () => {
    await locator.store.sql.withSession((db) =>
      publishDsa(
        db,
        { source: 'north-icb', version: 1, defaults: [{ id: 'northshire-only', effect: 'ALLOW', destinations: { organisations: ['northshire'] }, recordTypes: ['health.*'], modes: ['EXISTENCE'], purposes: ['CHILD_PROTECTION_ENQUIRY'] }] },
        'north-icb',
      ),
    );
    await locator.directory.refresh();
    expect(await seen('northshire', 'CHILD_PROTECTION_ENQUIRY')).toContain('north-icb:health.gp_registration');
    expect(await seen('southshire', 'CHILD_PROTECTION_ENQUIRY')).not.toContain('north-icb:health.gp_registration');
    expect(await seen('northshire', 'EARLY_HELP')).not.toContain('north-icb:health.gp_registration');
  });

  it('honours a validity window: DfE’s rule ended in 2021', async () => {
    expect(await seen('dfe', 'CHILD_PROTECTION_ENQUIRY')).toEqual([]);
  });

  it('a custodian always sees its own pointers', async () => {
    expect(await seen('north-icb', 'CHILD_PROTECTION_ENQUIRY')).toContain('north-icb:health.gp_registration');
  });

  it('needs a declared, known purpose', async () => {
    const none = await locator.graphql(LOCATIONS, reps(a), { as: 'southshire' });
    expect(none.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'MAIS-Purpose' });
    const unknown = await locator.graphql(LOCATIONS, reps(a), { as: 'southshire', purpose: 'CURIOSITY' });
    expect(unknown.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'MAIS-Purpose' });
  });

  it('audits every lookup with the requester, pseudonym, purpose and each decision’s rule and version, never the NHS number', async () => {
    await seen('eastshire', 'CHILD_IN_NEED_ASSESSMENT');
    const [entry] = await locator.store.sql.withSession((db) =>
      db.query<{ actor_org: string; purpose: string; decision: string; pseudonym: Buffer; detail: { pointers: { custodian: string; recordType: string; allow: boolean; rule: string; version: number }[] } }>(
        `SELECT * FROM audit_entry WHERE action = 'find.lookup' ORDER BY seq DESC LIMIT 1`,
      ),
    );
    expect(entry).toMatchObject({ actor_org: 'eastshire', purpose: 'CHILD_IN_NEED_ASSESSMENT', decision: 'PARTIAL' });
    expect(Buffer.from(entry!.pseudonym).equals(locator.directory.pseudonymiser.pseudonymise(a).value)).toBe(true);
    expect(entry!.detail.pointers).toContainEqual({ custodian: 'northshire', recordType: 'education.enrolment', allow: false, rule: 'no-eastshire-education', version: 1 });
    expect(entry!.detail.pointers).toContainEqual({ custodian: 'north-icb', recordType: 'health.gp_registration', allow: false, rule: 'no-rule', version: 1 });
    expect(JSON.stringify(entry)).not.toContain(a);
  });

  it('resolves many children in one register query', async () => {
    const children = Array.from({ length: 30 }, () => child());
    await locator.graphql(REGISTER, { input: children.map((nhsNumber) => ({ nhsNumber, systemId: 'northshire-csc', recordType: 'csc.referral' })) });
    const statements: string[] = [];
    const original = locator.store.sql.withSession.bind(locator.store.sql);
    locator.store.sql.withSession = (fn) =>
      original((session) => fn({ ...session, query: (sql, params) => (statements.push(sql), session.query(sql, params)), transaction: (inner) => session.transaction(inner) }));
    try {
      const reply = await locator.graphql(LOCATIONS, reps(...children), { as: 'southshire', purpose: 'CHILD_IN_NEED_ASSESSMENT' });
      expect(reply.body.data._entities).toHaveLength(30);
      expect(reply.body.data._entities.every((c: { locations: unknown[] }) => c.locations.length === 1)).toBe(true);
    } finally {
      locator.store.sql.withSession = original;
    }
    expect(statements.filter((s) => /FROM unnest[\s\S]*JOIN register_entry/.test(s))).toHaveLength(1);
  });
});

describe('data sharing agreements', () => {
  it('are published as versions with history, by the source or DfE only, and refuse invalid documents with every problem', async () => {
    const PUBLISH = `mutation ($d: String!) { publishDataSharingAgreement(document: $d) { source version publishedBy } }`;
    const doc = { source: 'southshire', version: 1, defaults: [{ id: 'all-las', effect: 'ALLOW', destinations: { organisationTypes: ['LA'] }, recordTypes: ['*'], modes: ['EXISTENCE'], purposes: ['*'] }] };
    const byOther = await locator.graphql(PUBLISH, { d: JSON.stringify(doc) }, { as: 'northshire' });
    expect(byOther.body.errors?.[0].extensions.code).toBe('FORBIDDEN');
    const ok = await locator.graphql(PUBLISH, { d: JSON.stringify(doc) }, { as: 'southshire' });
    expect(ok.body.data.publishDataSharingAgreement).toEqual({ source: 'southshire', version: 1, publishedBy: 'southshire' });
    const skipped = await locator.graphql(PUBLISH, { d: JSON.stringify({ ...doc, version: 3 }) }, { as: 'southshire' });
    expect(skipped.body.errors?.[0].message).toMatch(/version must be 2/);
    const invalid = await locator.graphql(PUBLISH, { d: JSON.stringify({ ...doc, version: 2, defaults: [{ ...doc.defaults[0], modes: ['GOSSIP'], recordTypes: ['csc.nonsense'] }] }) }, { as: 'dfe' });
    expect(invalid.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'document' });
    expect(invalid.body.errors?.[0].extensions.problems.length).toBeGreaterThanOrEqual(1);
    const history = await locator.graphql(`query { dataSharingAgreements(source: "southshire") { version document } }`, {}, { as: 'southshire' });
    expect(history.body.data.dataSharingAgreements.map((d: { version: number }) => d.version)).toEqual([1]);
  });

  it('a revocation published through one replica is in force on another within 5 seconds', async () => {
    const a = child();
    await locator.graphql(REGISTER, { input: [{ nhsNumber: a, systemId: 'southshire-csc', recordType: 'csc.referral' }] }, { as: 'southshire' });
    const other = await locator.replica();
    const visible = async () => (await locator.graphql(LOCATIONS, reps(a), { as: 'eastshire', purpose: 'EARLY_HELP', url: other.url })).body.data._entities[0].locations.length;
    await expect.poll(visible, { timeout: 5000 }).toBe(1);
    const [head] = await locator.store.sql.withSession((db) => db.query<{ document: Record<string, unknown> }>("SELECT document FROM dsa_document WHERE source_code = 'southshire' ORDER BY version DESC LIMIT 1"));
    const revoked = { ...head!.document, version: (head!.document.version as number) + 1, revocations: [{ destination: 'eastshire', from: '2020-01-01T00:00:00Z', reason: 'agreement ended' }] };
    const published = await locator.graphql(`mutation ($d: String!) { publishDataSharingAgreement(document: $d) { version } }`, { d: JSON.stringify(revoked) }, { as: 'southshire' });
    expect(published.body.errors).toBeUndefined();
    const started = Date.now();
    await expect.poll(visible, { timeout: 5000, interval: 50 }).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a replica that cannot confirm its agreements are current refuses to decide, and says so', async () => {
    let skew = 0;
    const replica = await locator.replica({ now: () => Date.now() + skew });
    const a = child();
    const ask = () => locator.graphql(LOCATIONS, reps(a), { as: 'southshire', purpose: 'EARLY_HELP', url: replica.url });
    expect((await ask()).body.errors).toBeUndefined();
    replica.directory.stop();
    skew = 10_000;
    const stale = await ask();
    expect(stale.body.errors?.[0].extensions).toMatchObject({ code: 'SOURCE_UNAVAILABLE', source: 'locator' });
    const ready = await fetch(replica.url.replace('/graphql', '/ready'));
    expect(ready.status).toBe(503);
  });
});

describe('restricted children', () => {
  // Eastshire is the custodian here: it tells every LA and health body what it holds, for every purpose.
  const base = { source: 'eastshire', defaults: [{ id: 'everyone', effect: 'ALLOW' as const, destinations: { organisationTypes: ['LA' as const, 'HEALTH' as const] }, recordTypes: ['*'], modes: ['EXISTENCE' as const], purposes: ['*'] }] };
  const restrictedChild = child();
  const ordinaryChild = child();
  const register = (nhsNumber: string, restricted: boolean | undefined, as = 'eastshire') =>
    locator.graphql(REGISTER, { input: [{ nhsNumber, systemId: `${as}-csc`, recordType: 'csc.cp_plan', ...(restricted === undefined ? {} : { restricted }) }] }, { as });
  const seen = async (nhsNumber: string, as: string, purpose: string) => {
    const reply = await locator.graphql(LOCATIONS, reps(nhsNumber), { as, purpose });
    expect(reply.body.errors).toBeUndefined();
    return (reply.body.data._entities[0].locations as { custodian: { code: string } }[]).map((l) => l.custodian.code).sort();
  };
  const publish = async (version: number, exceptions: object[] = []) => {
    await locator.store.sql.withSession((db) => publishDsa(db, { ...base, version, exceptions } as never, 'eastshire'));
    await locator.directory.refresh();
  };

  beforeAll(async () => {
    await publish(1);
    for (const nhs of [restrictedChild, ordinaryChild]) expect((await register(nhs, nhs === restrictedChild)).body.data.registerRecords.written).toBe(true);
    // Health holds a record of each too, and says nothing of restriction.
    for (const nhs of [restrictedChild, ordinaryChild]) await locator.graphql(REGISTER, { input: [{ nhsNumber: nhs, systemId: 'north-icb-gp', recordType: 'health.gp_registration' }] }, { as: 'north-icb' });
  });

  it('locates a restricted child to no other organisation, for any asker and purpose, while an ordinary child is located as the agreement says', async () => {
    const askers = ['northshire', 'southshire', 'north-icb', 'dfe'];
    for (const as of askers) {
      for (const purpose of ['CHILD_PROTECTION_ENQUIRY', 'CHILD_IN_NEED_ASSESSMENT', 'LOOKED_AFTER_CHILD_REVIEW', 'EARLY_HELP']) {
        // Only each custodian's own pointers: the ICB's own, nobody else's (not even the ICB's to others).
        expect(await seen(restrictedChild, as, purpose)).toEqual(as === 'north-icb' ? ['north-icb'] : []);
        if (as !== 'dfe') expect(await seen(ordinaryChild, as, purpose)).toContain('eastshire');
      }
    }
    expect(await seen(restrictedChild, 'eastshire', 'CHILD_PROTECTION_ENQUIRY')).toEqual(['eastshire']);
    expect(await seen(restrictedChild, 'southshire', 'CHILD_PROTECTION_ENQUIRY')).toEqual([]);
    // The lookup is audited as a restricted child's, each pointer refused by that rule.
    const [entry] = await locator.store.sql.withSession((db) => db.query<{ detail: { restricted?: boolean; pointers: { custodian: string; allow: boolean; rule: string }[] } }>(`SELECT detail FROM audit_entry WHERE action = 'find.lookup' AND actor_org = 'southshire' ORDER BY seq DESC LIMIT 1`));
    expect(entry!.detail.restricted).toBe(true);
    expect(entry!.detail.pointers.every((p) => !p.allow && p.rule === 'restricted-child')).toBe(true);
  });

  it('follows the custodian’s latest word, and an agreement’s rule written for restricted children', async () => {
    // A rule for restricted children: LAs learn of eastshire's social care records for a child protection enquiry only.
    await publish(2, [{ id: 'restricted-cp', effect: 'ALLOW', destinations: { organisationTypes: ['LA'] }, recordTypes: ['csc.*'], modes: ['EXISTENCE'], purposes: ['CHILD_PROTECTION_ENQUIRY'], restrictedChildren: true }]);
    expect(await seen(restrictedChild, 'southshire', 'CHILD_PROTECTION_ENQUIRY')).toEqual(['eastshire']);
    expect(await seen(restrictedChild, 'southshire', 'EARLY_HELP')).toEqual([]);
    expect(await seen(restrictedChild, 'north-icb', 'CHILD_PROTECTION_ENQUIRY')).toEqual(['north-icb']);
    await publish(3);
    expect(await seen(restrictedChild, 'southshire', 'CHILD_PROTECTION_ENQUIRY')).toEqual([]);
    // PDS lifted the restriction, and the custodian says so: the child is located as any other.
    expect((await register(restrictedChild, false)).body.data.registerRecords.written).toBe(true);
    expect(await seen(restrictedChild, 'southshire', 'CHILD_PROTECTION_ENQUIRY')).toEqual(['eastshire']);
    expect((await register(restrictedChild, true)).body.data.registerRecords.written).toBe(true);
    expect(await seen(restrictedChild, 'southshire', 'CHILD_PROTECTION_ENQUIRY')).toEqual([]);
  });
});

describe('what a custodian may say', () => {
  // North ICB, trusted and registered at DfE, sends what it should not.
  const as = 'north-icb';
  const register = (item: Record<string, unknown>) => locator.graphql(REGISTER, { input: [{ nhsNumber: child(), systemId: 'north-icb-gp', recordType: 'health.gp_registration', ...item }] }, { as });
  const FULL_WIDTH = (digit: string) => String.fromCodePoint(0xff10 + Number(digit));
  // A valid NHS number, or ten digits that are not one, written with spaces or punctuation, or full-width, inside other text.
  const nhsNumber = fc.integer({ min: 100_000_000, max: 999_999_999 }).filter((n) => nhsCheckDigit(String(n)) !== undefined).map((n) => `${n}${nhsCheckDigit(String(n))}`);
  const tenDigits = fc.stringMatching(/^[0-9]{10}$/);
  const written = fc.tuple(fc.oneof(nhsNumber, tenDigits), fc.array(fc.constantFrom('', '', ' ', '-', '.', '_', '/', ':', '  ', ' - '), { minLength: 9, maxLength: 9 }), fc.boolean()).map(([digits, gaps, wide]) => ({
    digits,
    text: [...digits].map((d, i) => `${wide ? FULL_WIDTH(d) : d}${gaps[i] ?? ''}`).join(''),
    spaced: gaps.some((g) => g !== ''),
  }));
  const tried: string[] = [];

  it('refuses any system or subject id that holds an NHS number or ten digits, however written and wherever in the text', async () => {
    await fc.assert(
      fc.asyncProperty(written, fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), fc.constantFrom('systemId', 'subjectId'), async (hidden, before, after, field) => {
        // Ten digits that are not an NHS number count only when written together.
        fc.pre(hidden.spaced === false || isValidNhsNumber(hidden.digits));
        tried.push(hidden.digits);
        const reply = await register({ [field]: `${before}${hidden.text}${after}` });
        expect(reply.body.data.registerRecords.written).toBe(false);
        expect(reply.body.data.registerRecords.errors).toContainEqual(expect.objectContaining({ code: 'NHS_NUMBER_IN_TEXT', field }));
        expect(JSON.stringify(reply.body)).not.toContain(hidden.digits);
      }),
      { numRuns: 200, seed: 33 },
    );
  }, 120_000);

  it('takes only the organisation’s registered systems and sane dates, and still takes an honest registration', async () => {
    const unknown = await register({ systemId: 'north-icb-shadow' });
    expect(unknown.body.data.registerRecords.errors).toEqual([expect.objectContaining({ code: 'UNKNOWN_SYSTEM', field: 'systemId' })]);
    // Another organisation's system is not the ICB's to name.
    expect((await register({ systemId: 'northshire-csc' })).body.data.registerRecords.errors).toEqual([expect.objectContaining({ code: 'UNKNOWN_SYSTEM' })]);
    expect((await register({ firstSeen: '1900-01-01' })).body.data.registerRecords.errors).toEqual([expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'firstSeen' })]);
    expect((await register({ lastSeen: '1979-12-31', firstSeen: '1979-12-01' })).body.data.registerRecords.errors.map((e: { field: string }) => e.field).sort()).toEqual(['firstSeen', 'lastSeen']);
    // A date in an id, or a short number, is not an NHS number.
    expect((await register({ subjectId: 'GP-2023-05-02/7781', firstSeen: '2023-05-02' })).body.data.registerRecords.written).toBe(true);
  });

  it('keeps nothing of what it refused anywhere in the central store', async () => {
    expect(tried.length).toBeGreaterThan(100);
    const columns = await locator.store.sql.withSession((db) =>
      db.query<{ table_name: string; column_name: string }>(`SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY')`),
    );
    expect(columns.map((c) => `${c.table_name}.${c.column_name}`)).toEqual(expect.arrayContaining(['register_entry.system_id', 'audit_entry.detail']));
    for (const { table_name: table, column_name: column } of columns) {
      const found = await locator.store.sql.withSession((db) =>
        db.query<{ n: string }>(`SELECT count(*) AS n FROM "${table}" WHERE regexp_replace("${column}"::text, '[^0-9]', '', 'g') ~ $1`, [tried.map((d) => `(${d})`).join('|')]),
      );
      expect(Number(found[0]!.n), `${table}.${column}`).toBe(0);
    }
  });
});

describe('claims checked against evidence', () => {
  const ANOMALIES = `{ registerAnomalies { custodian { code } kind pseudonyms ofPseudonyms pointersSuspended } }`;
  const SUSPEND = `mutation ($o: String!, $r: String!) { suspendPointers(organisation: $o, reason: $r) { custodian { code } suspended pointers } }`;
  const REINSTATE = `mutation ($o: String!, $r: String!) { reinstatePointers(organisation: $o, reason: $r) { suspended pointers } }`;
  const anomaliesOf = async (code: string) => ((await locator.graphql(ANOMALIES, {}, { as: 'dfe' })).body.data.registerAnomalies as { custodian: { code: string }; pseudonyms: number; ofPseudonyms: number; pointersSuspended: boolean }[]).find((a) => a.custodian.code === code);
  /** What MATCH's audit holds when it found a child for an organisation (MATCH itself writes this entry). */
  const matchedFor = (organisation: string, nhsNumber: string) =>
    locator.store.sql.withSession((db) =>
      db.transaction((tx) => appendAuditInTransaction(tx, CENTRAL_AUDIT, [{ actor_org: organisation, action: 'match.search', pseudonym: locator.directory.pseudonymsForLookup(nhsNumber).audit, purpose: 'CHILD_IN_NEED_ASSESSMENT', decision: 'ALLOW', detail: { best: true } }])),
    );

  it('reports, to DfE only and by count alone, the children each custodian registered that MATCH never found for it', async () => {
    const before = (await anomaliesOf('southshire'))?.pseudonyms ?? 0;
    const found = child();
    const claimed = [child(), child(), child()];
    await matchedFor('southshire', found);
    // Another organisation's search is no evidence for southshire.
    await matchedFor('northshire', claimed[0]!);
    const reply = await locator.graphql(REGISTER, { input: [found, ...claimed].flatMap((nhsNumber) => ['csc.referral', 'csc.cp_plan'].map((recordType) => ({ nhsNumber, systemId: 'southshire-csc', recordType }))) }, { as: 'southshire' });
    expect(reply.body.data.registerRecords.written).toBe(true);
    const anomaly = await anomaliesOf('southshire');
    expect(anomaly).toMatchObject({ pseudonyms: before + 3, pointersSuspended: false });
    expect(anomaly!.ofPseudonyms).toBeGreaterThanOrEqual(before + 4);
    const text = JSON.stringify((await locator.graphql(ANOMALIES, {}, { as: 'dfe' })).body);
    for (const nhsNumber of [found, ...claimed]) {
      expect(text).not.toContain(nhsNumber);
      expect(text).not.toContain(locator.directory.pseudonymsForLookup(nhsNumber).audit.toString('hex'));
    }
    for (const as of ['northshire', 'southshire', 'north-icb']) expect((await locator.graphql(ANOMALIES, {}, { as })).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('lets DfE suspend an organisation’s pointers wholesale and reinstate them, each audited with its reason', async () => {
    const held = child();
    await locator.graphql(REGISTER, { input: [{ nhsNumber: held, systemId: 'southshire-csc', recordType: 'csc.referral' }] }, { as: 'southshire' });
    // Asked by the custodian itself, which always sees its own pointers unless they are suspended.
    const seen = async () => ((await locator.graphql(LOCATIONS, reps(held), { as: 'southshire', purpose: 'CHILD_PROTECTION_ENQUIRY' })).body.data._entities[0].locations as { custodian: { code: string } }[]).map((l) => l.custodian.code);
    expect(await seen()).toEqual(['southshire']);
    for (const as of ['northshire', 'southshire']) expect((await locator.graphql(SUSPEND, { o: 'southshire', r: 'Registrations without evidence under review' }, { as })).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await locator.graphql(SUSPEND, { o: 'southshire', r: `Child ${held} was claimed wrongly` }, { as: 'dfe' })).body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason', reason: 'NHS_NUMBER_IN_TEXT' });
    const suspended = await locator.graphql(SUSPEND, { o: 'southshire', r: 'Registrations without evidence under review' }, { as: 'dfe' });
    expect(suspended.body.data.suspendPointers).toMatchObject({ custodian: { code: 'southshire' }, suspended: true });
    expect(suspended.body.data.suspendPointers.pointers).toBeGreaterThan(0);
    expect(await seen()).toEqual([]);
    expect((await anomaliesOf('southshire'))?.pointersSuspended).toBe(true);
    const [audited] = await locator.store.sql.withSession((db) => db.query<{ actor_org: string; detail: { organisation: string; reason: string } }>(`SELECT actor_org, detail FROM audit_entry WHERE action = 'register.suspend' ORDER BY seq DESC LIMIT 1`));
    expect(audited).toMatchObject({ actor_org: 'dfe', detail: { organisation: 'southshire', reason: 'Registrations without evidence under review' } });
    expect((await locator.graphql(REINSTATE, { o: 'southshire', r: 'Review closed: evidence supplied' }, { as: 'dfe' })).body.data.reinstatePointers.suspended).toBe(false);
    expect(await seen()).toEqual(['southshire']);
  });
});

describe('register statistics and the central audit', () => {
  it('gives DfE counts per custodian and record type, and nobody else', async () => {
    const QUERY = `query { registerStatistics { custodian { code kind } recordType current stale retired } }`;
    const refused = await locator.graphql(QUERY, {}, { as: 'northshire' });
    expect(refused.body.errors?.[0].extensions.code).toBe('FORBIDDEN');
    const stats = (await locator.graphql(QUERY, {}, { as: 'dfe' })).body.data.registerStatistics as { custodian: { code: string }; recordType: string; current: number; retired: number }[];
    const [counted] = await locator.store.sql.withSession((db) => db.query<{ n: string }>(`SELECT count(*) AS n FROM register_entry WHERE custodian_code = 'northshire' AND record_type = 'csc.referral' AND provenance <> 'RETIRED'`));
    expect(stats.find((s) => s.custodian.code === 'northshire' && s.recordType === 'csc.referral')?.current).toBe(Number(counted!.n));
    expect(stats.find((s) => s.recordType === 'csc.looked_after')?.current).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(stats)).not.toMatch(/999\d{7}/);
  });

  it('records register changes, verifies, and detects an edited entry', async () => {
    const changes = await locator.store.sql.withSession((db) => db.query<{ action: string; actor_org: string; detail: { items: number; digest: string } }>(`SELECT action, actor_org, detail FROM audit_entry WHERE action LIKE 'register.%'`));
    expect(changes.some((c) => c.action === 'register.register' && c.detail.digest.length === 64)).toBe(true);
    expect(changes.some((c) => c.action === 'register.register.refused')).toBe(true);
    expect(changes.some((c) => c.action === 'register.retire')).toBe(true);
    expect(await locator.store.sql.withSession((db) => verifyAudit(db, CENTRAL_AUDIT))).toMatchObject({ ok: true });
    await expect(locator.store.sql.withSession((db) => db.query(`UPDATE audit_entry SET purpose = 'EARLY_HELP' WHERE action = 'find.lookup'`))).rejects.toThrow(/append-only/);
    const [victim] = await locator.store.sql.withSession((db) => db.query<{ seq: string }>(`SELECT seq FROM audit_entry WHERE action = 'find.lookup' ORDER BY seq LIMIT 1`));
    await locator.store.sql.withSession((db) => db.exec(`ALTER TABLE audit_entry DISABLE TRIGGER USER; UPDATE audit_entry SET purpose = 'EARLY_HELP' WHERE seq = ${victim!.seq}; ALTER TABLE audit_entry ENABLE TRIGGER USER;`));
    expect(await locator.store.sql.withSession((db) => verifyAudit(db, CENTRAL_AUDIT))).toMatchObject({ ok: false, seq: String(victim!.seq) });
  });
});
