// The csc subgraph over HTTP on a seeded LA store, called as the LA router calls it.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessDecision } from '../../../lib/internal-token.ts';
import { populationPaths } from '../../../sandbox/population/generate.ts';
import { createCscService } from '../../../subgraphs/csc/service.ts';
import { startLaSubgraph, type TestLaSubgraph } from '../../helpers/la-subgraph.ts';
import { recordDetails, testReceiptKeys, type TestReceipts } from '../../helpers/match-receipts.ts';

let subgraph: TestLaSubgraph;
const statements: string[] = [];
let withNhs: string[];
let receipts: TestReceipts;

beforeAll(async () => {
  receipts = await testReceiptKeys();
  subgraph = await startLaSubgraph('csc', (parts) => createCscService({ ...parts, receipts: { jwks: receipts.jwks, organisation: 'northshire' } }), { children: 2500, seed: 13, onQuery: (sql) => statements.push(sql) });
  const persons = readFileSync(populationPaths(subgraph.populationDir).laTable('northshire', 'ssd_person'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { pers_common_child_id: string | null });
  withNhs = persons.map((p) => p.pers_common_child_id).filter((n): n is string => n !== null);
}, 120_000);

afterAll(() => subgraph.close());

const graphql = (query: string, variables: Record<string, unknown>, token?: string) => subgraph.graphql(query, variables, token);
const token = (decision: AccessDecision = 'FULL', audience = 'northshire/csc', child?: string) => subgraph.token(decision, audience, child);

const ENTITIES = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Child { nhsNumber socialCare {
  personId status { openCase childProtectionPlan lookedAfter openSince }
  referrals { id referralDate primaryNeedCode primaryNeed } assessments { id } section47Enquiries { id } cinPlans { id }
  cpPlans { id initialCategory } lookedAfterEpisodes { id placements { placementType } } careLeaver { eligibility }
  send { ehcpInForce needs } involvements { role worker team from to } } } } }`;
const reps = (numbers: string[]) => numbers.map((nhsNumber) => ({ __typename: 'Child', nhsNumber }));

describe('the csc subgraph', () => {
  it('resolves each child with the same number of SQL statements, however many records they hold', async () => {
    const counts: number[] = [];
    for (const nhsNumber of withNhs.slice(0, 30)) {
      statements.length = 0;
      const [answer] = await subgraph.entities(ENTITIES, [nhsNumber]);
      expect(answer!.errors).toBeUndefined();
      expect(answer!.data._entities[0].socialCare).not.toBeNull();
      counts.push(statements.length);
    }
    expect(new Set(counts).size).toBe(1);
    expect(counts[0]).toBeLessThanOrEqual(20);
  });

  it('serves SSD-shaped records with dates, newest first', async () => {
    const records = (await subgraph.entities(ENTITIES, withNhs.slice(0, 40))).map((answer) => answer.data._entities[0].socialCare);
    const withReferrals = records.find((r: any) => r.referrals.length > 1) ?? records[0];
    const dates = withReferrals.referrals.map((r: { referralDate: string }) => r.referralDate);
    expect([...dates].sort().reverse()).toEqual(dates);
    expect(withReferrals.referrals[0].primaryNeedCode).toMatch(/^N[1-9]$/);
    expect(records.some((r: any) => r.involvements.some((i: any) => i.role === 'Allocated Social Worker' && i.worker))).toBe(true);
  });

  it('answers null for a child it does not hold (and never resolves a child by a missing NHS number)', async () => {
    const [answer] = await subgraph.entities(ENTITIES, ['9434765919']);
    expect(answer!.data._entities[0].socialCare).toBeNull();
  });

  it('gives a SUMMARY caseworker the status and withholds the details with FORBIDDEN', async () => {
    const [body] = await subgraph.entities(`query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Child { socialCare { personId status { openCase } referrals { id } } } } }`, withNhs.slice(0, 1), 'SUMMARY');
    expect(body!.data._entities[0].socialCare).toBeNull(); // referrals is non-null, so the withheld field nulls its parent
    expect(body!.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', field: 'referrals' });
    const [summary] = await subgraph.entities(`query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Child { socialCare { personId status { openCase } } } } }`, withNhs.slice(0, 1), 'SUMMARY');
    expect(summary!.errors).toBeUndefined();
    expect(summary!.data._entities[0].socialCare.status).toHaveProperty('openCase');
  });

  it('answers only the child its token names, and each token once', async () => {
    const QUERY = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Child { nhsNumber socialCare { personId referrals { id } } } } }`;
    const children = withNhs.slice(0, 6);
    await fc.assert(
      fc.asyncProperty(fc.option(fc.constantFrom(...children), { nil: undefined }), fc.array(fc.constantFrom(...children, '9434765919'), { minLength: 1, maxLength: 5 }), fc.constantFrom<AccessDecision>('FULL', 'BREAK_GLASS', 'SUMMARY'), async (bound, asked, decision) => {
        const bearer = await token(decision, 'northshire/csc', bound);
        const { status, body } = await graphql(QUERY, { reps: reps(asked) }, bearer);
        expect(status).toBe(200);
        asked.forEach((nhsNumber, i) => {
          const entity = body.data?._entities?.[i] ?? null;
          if (nhsNumber !== bound) {
            expect(entity).toBeNull();
            expect(body.errors).toContainEqual(expect.objectContaining({ path: expect.arrayContaining(['_entities']), extensions: expect.objectContaining({ code: 'FORBIDDEN' }) }));
          } else if (entity) expect(entity.nhsNumber).toBe(bound);
        });
        // The same token again, for the same child or any other, is refused before any resolver runs.
        const again = await graphql(QUERY, { reps: reps(asked) }, bearer);
        expect(again.status).toBe(401);
        expect(again.body.data ?? null).toBeNull();
      }),
      { numRuns: 40 },
    );
  });

  it('checks each field against the token’s purpose and decision where it is resolved, whatever the document asks', async () => {
    // Fields of a child's record and the category the csc contract gives each.
    const FIELDS = { personId: ['personId', 'csc.status'], referrals: ['referrals { id }', 'csc.referral'], cpPlans: ['cpPlans { id }', 'csc.cp_plan'], involvements: ['involvements { role }', 'csc.involvement'], lookedAfterEpisodes: ['lookedAfterEpisodes { id }', 'csc.looked_after'] } as const;
    const PATTERNS = ['*', 'csc.*', 'csc.status', 'csc.referral', 'csc.cp_plan', 'csc.involvement', 'pds.*', 'education.*'];
    const child = withNhs[2]!;
    await fc.assert(
      fc.asyncProperty(fc.subarray(Object.keys(FIELDS) as (keyof typeof FIELDS)[], { minLength: 1 }), fc.subarray(PATTERNS), fc.constantFrom<AccessDecision>('FULL', 'BREAK_GLASS', 'SUMMARY', 'NONE'), async (fields, categories, decision) => {
        const bearer = await subgraph.signer.sign('northshire/csc', { sub: 'olivia.bailey', roles: ['csc.practitioner'], purpose: 'EARLY_HELP', decision, child, categories });
        const { body } = await graphql(`query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Child { socialCare { ${fields.map((f) => FIELDS[f][0]).join(' ')} } } } }`, { reps: reps([child]) }, bearer);
        const matches = (category: string) => categories.some((p) => p === '*' || p === category || (p.endsWith('.*') && category.startsWith(p.slice(0, -1))));
        const permitted = (category: string) => matches(category) && (decision === 'FULL' || decision === 'BREAK_GLASS' || (decision === 'SUMMARY' && category === 'csc.status'));
        const refused = (body.errors ?? []).filter((e: { extensions?: { code?: string } }) => e.extensions?.code === 'FORBIDDEN').map((e: { path: (string | number)[] }) => e.path.at(-1));
        const record = body.data?._entities?.[0]?.socialCare ?? null;
        if (!permitted('csc.status')) {
          expect(record).toBeNull();
          expect(refused).toContain('socialCare');
          return;
        }
        // Nothing permitted is refused; nothing refused comes back (a refused list nulls the whole record,
        // and execution stops there, so not every refused field need be named).
        const withheld = fields.filter((f) => !permitted(FIELDS[f][1]));
        for (const f of fields) if (permitted(FIELDS[f][1])) expect(refused).not.toContain(f);
        for (const f of withheld) expect(record?.[f] ?? null).toBeNull();
        if (withheld.length > 0) expect(refused.filter((f: unknown) => withheld.includes(f as never)).length).toBeGreaterThan(0);
      }),
      { numRuns: 60 },
    );
  });

  it.each([
    ['no token', async () => undefined],
    ['a token for another subgraph', async () => token('FULL', 'northshire/education')],
    ['a token signed by another key', async () => subgraph.strangerToken()],
    ['a malformed token', async () => 'not.a.jwt'],
  ])('refuses %s with 401 UNAUTHENTICATED', async (_name, make) => {
    const { status, body } = await graphql(ENTITIES, { reps: reps(withNhs.slice(0, 1)) }, await make());
    expect(status).toBe(401);
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(body.data ?? null).toBeNull();
  });
});

describe('findChildren', () => {
  const FIND = `query ($input: ChildSearchInput!) { findChildren(input: $input, purpose: CHILD_IN_NEED_ASSESSMENT) { personId nhsNumber matched givenName familyName dateOfBirth postcode score } }`;

  it('finds a child by a mistyped name and date of birth, and flags children without an NHS number', async () => {
    const person = await subgraph.store.prisma.ssd_person.findFirstOrThrow({ where: { pers_common_child_id: null, pers_surname: { not: null } }, orderBy: { pers_person_id: 'asc' } });
    const surname = person.pers_surname!;
    const typo = surname.length > 4 ? `${surname.slice(0, 2)}${surname[3]}${surname[2]}${surname.slice(4)}` : surname;
    const { body } = await graphql(FIND, { input: { familyName: typo, givenName: person.pers_forename, dateOfBirth: person.pers_dob!.toISOString().slice(0, 10) } }, await token());
    expect(body.errors).toBeUndefined();
    const hit = body.data.findChildren.find((h: { personId: string }) => h.personId === person.pers_person_id);
    expect(hit).toMatchObject({ matched: false, nhsNumber: null });
    expect(hit.score).toBeGreaterThan(0.8);
  });

  it('searches by a date of birth whose day cannot be a month', async () => {
    const { body } = await graphql(FIND, { input: { familyName: 'Smith', dateOfBirth: '2015-03-31' } }, await token());
    expect(body.errors).toBeUndefined();
    expect(Array.isArray(body.data.findChildren)).toBe(true);
  });

  it('needs a given or family name and a date of birth, whatever else it is given', async () => {
    for (const input of [{ familyName: 'Smith' }, { givenName: 'Amy', familyName: 'Smith', postcode: 'DL1 1AA' }, { dateOfBirth: '2015-03-31', postcode: 'DL1 1AA' }, { givenName: '  ', dateOfBirth: '2015-03-31' }]) {
      const { body } = await graphql(FIND, { input }, await token());
      expect(body.errors?.[0]?.extensions, JSON.stringify(input)).toEqual({ code: 'BAD_USER_INPUT', field: 'input' });
    }
  });

  it('answers only social care staff, whoever signed the token', async () => {
    const signed = async (roles: string[]) =>
      subgraph.signer.sign('northshire/csc', { sub: 'someone', roles, purpose: 'CHILD_IN_NEED_ASSESSMENT', decision: 'NONE', categories: ['*'] });
    for (const roles of [['education.officer'], ['ig.officer'], ['la.developer'], []]) {
      const { body } = await graphql(FIND, { input: { familyName: 'Smith', dateOfBirth: '2015-03-31' } }, await signed(roles));
      expect(body.data ?? null, roles.join()).toBeNull();
      expect(body.errors?.[0]?.extensions).toEqual({ code: 'FORBIDDEN', field: 'findChildren' });
    }
    const { body } = await graphql(FIND, { input: { familyName: 'Smith', dateOfBirth: '2015-03-31' } }, await signed(['csc.manager']));
    expect(body.errors).toBeUndefined();
  });
});

describe('linkNhsNumber', () => {
  const LINK = `mutation ($input: LinkNhsNumberInput!) { linkNhsNumber(input: $input, purpose: CHILD_IN_NEED_ASSESSMENT) { personId nhsNumber linked } }`;
  const unmatched = (skip: number) =>
    subgraph.store.prisma.ssd_person.findFirstOrThrow({ where: { pers_common_child_id: null }, orderBy: { pers_person_id: 'asc' }, skip, include: { addresses: { orderBy: { addr_address_start_date: 'desc' }, take: 1 } } });
  // Valid NHS numbers (modulus 11) that no record of this population holds.
  const unusedNumbers = () => ['9434765919', '9434765870', '9434765889', '9434765897'].filter((n) => !withNhs.includes(n));
  const unused = () => unusedNumbers()[0]!;
  const nhsOf = async (personId: string) => (await subgraph.store.prisma.ssd_person.findUniqueOrThrow({ where: { pers_person_id: personId } })).pers_common_child_id;

  it('links a confirmed potential match on MATCH’s receipt, recording who confirmed it and the receipt’s band and score, and then finds the record by its NHS number', async () => {
    const person = await unmatched(0);
    const nhsNumber = unused();
    // The record's details keyed in another case and spacing are the same details.
    const details = recordDetails(person);
    const receipt = await receipts.sign({ nhsNumber, band: 'POTENTIAL_MATCH', score: 0.9, strategy: 'fuzzy', details: { ...details, givenName: ` ${details.givenName?.toLowerCase()} `, postcode: details.postcode?.replace(/\s/g, '').toLowerCase() ?? null } });
    const { body } = await graphql(LINK, { input: { personId: person.pers_person_id, nhsNumber, receipt, confirmed: true } }, await token('FULL', 'northshire/csc', nhsNumber));
    expect(body.errors).toBeUndefined();
    expect(body.data.linkNhsNumber).toEqual({ personId: person.pers_person_id, nhsNumber, linked: true });
    expect(await nhsOf(person.pers_person_id)).toBe(nhsNumber);
    const result = await subgraph.store.prisma.la_match_result.findUniqueOrThrow({ where: { subject_table_subject_id: { subject_table: 'ssd_person', subject_id: person.pers_person_id } } });
    expect(result).toMatchObject({ nhs_number: nhsNumber, status: 'POTENTIAL_MATCH', score: 0.9, strategy: 'fuzzy', review_state: 'CONFIRMED', reviewed_by: 'olivia.bailey' });
    const entity = await graphql(`query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Child { socialCare { personId } } } }`, { reps: reps([nhsNumber]) }, await token('FULL', 'northshire/csc', nhsNumber));
    expect(entity.body.data._entities[0].socialCare.personId).toBe(person.pers_person_id);
    // The same link again changes nothing; a different NHS number for a linked record is refused.
    const again = await graphql(LINK, { input: { personId: person.pers_person_id, nhsNumber, receipt: await receipts.sign({ nhsNumber, details }), confirmed: false } }, await token('FULL', 'northshire/csc', nhsNumber));
    expect(again.body.data.linkNhsNumber.linked).toBe(false);
    const other = await graphql(LINK, { input: { personId: person.pers_person_id, nhsNumber: withNhs[0], receipt: await receipts.sign({ nhsNumber: withNhs[0]!, details }), confirmed: true } }, await token('FULL', 'northshire/csc', withNhs[0]));
    expect(other.body.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'nhsNumber' });
    expect(await nhsOf(person.pers_person_id)).toBe(nhsNumber);
  });

  it('refuses, with a stable reason and writing nothing, any receipt but MATCH’s for this LA, this child and this record’s details, unexpired, and a potential match unconfirmed', async () => {
    const person = await unmatched(1);
    const details = recordDetails(person);
    const forger = await testReceiptKeys('match-receipts-test');
    const fieldOf = fc.constantFrom('givenName', 'familyName', 'dateOfBirth', 'postcode') as fc.Arbitrary<keyof typeof details>;
    const tamper = fc.oneof(
      fc.constant({ kind: 'forged' as const }),
      fc.constantFrom('southshire', 'eastshire', 'DfE').map((organisation) => ({ kind: 'other LA' as const, organisation })),
      fc.record({ kind: fc.constant('other details' as const), field: fieldOf, value: fc.string({ minLength: 1, maxLength: 12 }) }),
      fc.integer({ min: 16, max: 24 * 60 }).map((minutes) => ({ kind: 'expired' as const, minutes })),
      fc.constant({ kind: 'other child' as const }),
      fc.constant({ kind: 'unconfirmed' as const }),
      fc.oneof(fc.string({ maxLength: 40 }), fc.constant('e30.e30.'), fc.constant('eyJhbGciOiJub25lIn0.eyJzdWIiOiI5NDM0NzY1OTE5In0.')).map((text) => ({ kind: 'not a receipt' as const, text })),
    );
    await fc.assert(
      fc.asyncProperty(tamper, async (t) => {
        const [nhsNumber, another] = unusedNumbers() as [string, string];
        let receipt: string;
        let expected: Record<string, unknown>;
        switch (t.kind) {
          case 'forged':
            receipt = await forger.sign({ nhsNumber, details });
            expected = { field: 'receipt', reason: 'RECEIPT_INVALID' };
            break;
          case 'other LA':
            receipt = await receipts.sign({ nhsNumber, details, organisation: t.organisation });
            expected = { field: 'receipt', reason: 'RECEIPT_OTHER_ORGANISATION' };
            break;
          case 'other details': {
            const changed = t.field === 'dateOfBirth' ? '2001-01-01' : `${details[t.field] ?? ''}${t.value.trim() || 'x'}`;
            receipt = await receipts.sign({ nhsNumber, details: { ...details, [t.field]: changed } });
            expected = { field: 'receipt', reason: 'RECEIPT_OTHER_DEMOGRAPHICS' };
            break;
          }
          case 'expired':
            receipt = await receipts.sign({ nhsNumber, details }, Date.now() - t.minutes * 60_000);
            expected = { field: 'receipt', reason: 'RECEIPT_EXPIRED' };
            break;
          case 'other child':
            receipt = await receipts.sign({ nhsNumber: another, details });
            expected = { field: 'receipt', reason: 'RECEIPT_OTHER_CHILD' };
            break;
          case 'unconfirmed':
            receipt = await receipts.sign({ nhsNumber, details, band: 'POTENTIAL_MATCH' });
            expected = { field: 'confirmed' };
            break;
          case 'not a receipt':
            receipt = t.text;
            expected = { field: 'receipt', reason: 'RECEIPT_INVALID' };
            break;
        }
        const { body } = await graphql(LINK, { input: { personId: person.pers_person_id, nhsNumber, receipt, confirmed: t.kind !== 'unconfirmed' } }, await token('FULL', 'northshire/csc', nhsNumber));
        expect(body.data).toBeNull();
        expect(body.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', ...expected });
        expect(await nhsOf(person.pers_person_id)).toBeNull();
      }),
      { numRuns: 60 },
    );
    expect(await subgraph.store.prisma.la_match_result.count({ where: { subject_id: person.pers_person_id } })).toBe(0);
  });

  it('refuses a record that does not exist', async () => {
    const nhsNumber = unused();
    const { body } = await graphql(LINK, { input: { personId: 'NO-SUCH-PERSON', nhsNumber, receipt: await receipts.sign({ nhsNumber, details: { givenName: 'A', familyName: 'B', dateOfBirth: '2015-01-01' } }), confirmed: true } }, await token('FULL', 'northshire/csc', nhsNumber));
    expect(body.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'personId' });
  });

  it('refuses an invalid NHS number with INVALID_NHS_NUMBER', async () => {
    const person = await unmatched(1);
    const { body } = await graphql(LINK, { input: { personId: person.pers_person_id, nhsNumber: '1234567890', receipt: await receipts.sign({ nhsNumber: '1234567890', details: recordDetails(person) }), confirmed: true } }, await token('FULL', 'northshire/csc', '1234567890'));
    expect(body.errors?.[0]?.extensions?.code).toBe('INVALID_NHS_NUMBER');
  });

  it('refuses a link to any child but the one its token names, and writes nothing', async () => {
    const person = await unmatched(1);
    for (const bound of [withNhs[1], undefined]) {
      const { body } = await graphql(LINK, { input: { personId: person.pers_person_id, nhsNumber: unused(), receipt: await receipts.sign({ nhsNumber: unused(), details: recordDetails(person) }), confirmed: true } }, await token('FULL', 'northshire/csc', bound));
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', field: 'linkNhsNumber' });
    }
    expect(await nhsOf(person.pers_person_id)).toBeNull();
  });
});
