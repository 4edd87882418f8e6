// Each step of the router's policy on its own (la-router/plugins/policy.ts runs them in order): collect
// (checked against graphql-js's own execution of generated operations), decide, withhold and the audit's
// additions to a search.
import { createRequire } from 'node:module';
import fc from 'fast-check';
import type { DocumentNode, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { fieldCategories, permits } from '../../la-router/categories.ts';
import { lookupsOf, takeFound, withAuditIdentifiers } from '../../la-router/plugins/audit.ts';
import { decideRequest } from '../../la-router/plugins/decide.ts';
import { executedFields, MAX_EXPANDED_SELECTIONS } from '../../la-router/plugins/executed.ts';
import { withholdFields } from '../../la-router/plugins/minimise.ts';

// The router's schema comes from graphql's CommonJS build, as the gateway's does.
const graphql = createRequire(import.meta.url)('graphql') as typeof import('graphql');

const SDL = `
  directive @dataCategory(name: String!) on FIELD_DEFINITION
  enum Purpose { CHILD_PROTECTION_ENQUIRY EARLY_HELP }
  input ChildSearchInput { givenName: String familyName: String dateOfBirth: String }
  type Query {
    child(nhsNumber: String!, purpose: Purpose!, breakGlassReason: String): Child
    findChildren(input: ChildSearchInput!, purpose: Purpose!): [ChildSearchResult!]!
    matchChild(input: ChildSearchInput!, purpose: Purpose!): ChildSearchResult
    auditTrail(nhsNumber: String!): [String!]!
    breakGlassReport(from: String!, to: String!): [String!]!
  }
  type Mutation { linkNhsNumber(input: LinkInput!, purpose: Purpose!): String }
  input LinkInput { personId: String! nhsNumber: String! }
  type Child { nhsNumber: String! socialCare: SocialCare @dataCategory(name: "csc.status") }
  type SocialCare { status: String @dataCategory(name: "csc.status") referrals: [String!] @dataCategory(name: "csc.referral") }
  type ChildSearchResult { personId: String! nhsNumber: String }
`;
const schema: GraphQLSchema = graphql.buildSchema(SDL);
const categories = fieldCategories(SDL);

function operationOf(document: DocumentNode, name?: string): OperationDefinitionNode {
  return document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition' && (name === undefined || d.name?.value === name))!;
}
function collect(source: string, variables: Record<string, unknown> = {}, name?: string) {
  const document = graphql.parse(source);
  return executedFields(schema, document, operationOf(document, name), variables);
}

describe('collect: what an operation executes', () => {
  // The oracle is graphql-js itself: each root resolver records the arguments it was called with, under
  // its response key, and the data's keys are what executed.
  const recorded = new Map<string, Record<string, unknown>>();
  const record = (_: unknown, args: Record<string, unknown>, __: unknown, info: { path: { key: string | number } }) => {
    recorded.set(String(info.path.key), args);
    return null;
  };
  const executable = graphql.buildSchema(SDL);
  for (const name of ['child', 'findChildren', 'auditTrail', 'breakGlassReport'] as const) {
    const field = executable.getQueryType()!.getFields()[name]!;
    field.resolve = record as never;
  }
  // findChildren and auditTrail are non-null lists: answer with an empty one.
  executable.getQueryType()!.getFields().findChildren!.resolve = ((...a: Parameters<typeof record>) => (record(...a), [])) as never;
  executable.getQueryType()!.getFields().auditTrail!.resolve = ((...a: Parameters<typeof record>) => (record(...a), [])) as never;
  executable.getQueryType()!.getFields().breakGlassReport!.resolve = ((...a: Parameters<typeof record>) => (record(...a), [])) as never;

  const condition = fc.option(fc.record({ directive: fc.constantFrom('include', 'skip'), value: fc.boolean(), form: fc.constantFrom('literal', 'variable', 'default', 'overridden') }), { freq: 2 });
  const field = fc.record({
    name: fc.constantFrom('child', 'findChildren', 'auditTrail', '__typename'),
    alias: fc.option(fc.constantFrom('a', 'b', 'c')),
    nhs: fc.constantFrom('111', '222'),
    form: fc.constantFrom('literal', 'variable', 'default', 'overridden'),
    purpose: fc.constantFrom('CHILD_PROTECTION_ENQUIRY', 'EARLY_HELP'),
    condition,
    wraps: fc.array(fc.record({ kind: fc.constantFrom('inline', 'bare', 'named'), condition }), { maxLength: 3 }),
  });

  it('collects the root fields and arguments graphql-js executes, for generated operations', () => {
    fc.assert(
      fc.property(fc.array(field, { minLength: 1, maxLength: 4 }), (fields) => {
        const definitions: string[] = [];
        const fragments: string[] = [];
        const variables: Record<string, unknown> = {};
        let n = 0;
        const value = (type: string, actual: string, other: string, form: string, json: unknown) => {
          if (form === 'literal') return actual;
          const name = `v${(n += 1)}`;
          if (form !== 'default') variables[name] = json;
          definitions.push(`$${name}: ${type}${form === 'default' ? ` = ${actual}` : form === 'overridden' ? ` = ${other}` : ''}`);
          return `$${name}`;
        };
        const directive = (c: { directive: string; value: boolean; form: string } | null) => (c ? ` @${c.directive}(if: ${value('Boolean!', String(c.value), String(!c.value), c.form, c.value)})` : '');
        const texts = fields.map((f, i) => {
          const nhs = value('String!', JSON.stringify(f.nhs), '"999"', f.form, f.nhs);
          const args = { child: `(nhsNumber: ${nhs}, purpose: ${f.purpose})`, findChildren: `(input: { givenName: "A" }, purpose: ${f.purpose})`, auditTrail: `(nhsNumber: ${nhs})`, __typename: '' }[f.name];
          const selection = { child: ' { nhsNumber }', findChildren: ' { personId }', auditTrail: '', __typename: '' }[f.name];
          // Same alias, same field, other arguments would not validate: such operations are skipped below.
          let text = `${f.alias ? `${f.alias}: ` : ''}${f.name}${args}${directive(f.condition)}${selection}`;
          f.wraps.forEach((w, j) => {
            if (w.kind === 'named') {
              fragments.push(`fragment F${i}_${j} on Query { ${text} }`);
              text = `...F${i}_${j}${directive(w.condition)}`;
            } else text = `...${w.kind === 'inline' ? ' on Query' : ''}${directive(w.condition)} { ${text} }`;
          });
          return text;
        });
        const source = `query Op${definitions.length ? `(${definitions.join(', ')})` : ''} { ${texts.join(' ')} }\n${fragments.join('\n')}`;
        const document = graphql.parse(source);
        fc.pre(graphql.validate(executable, document).length === 0);
        recorded.clear();
        const result = graphql.executeSync({ schema: executable, document, variableValues: variables });
        expect(result.errors).toBeUndefined();
        const executed = executedFields(schema, document, operationOf(document), variables);
        expect(executed.fields.map((f) => f.key)).toEqual(Object.keys(result.data ?? {}));
        for (const f of executed.fields) if (f.name !== '__typename') expect(f.args).toEqual(recorded.get(f.key));
        // What the gateway is handed executes the same fields with the same arguments.
        if (executed.document) {
          recorded.clear();
          const again = graphql.executeSync({ schema: executable, document: executed.document.document, variableValues: variables });
          expect(Object.keys(again.data ?? {})).toEqual(Object.keys(result.data ?? {}));
          for (const f of executed.fields) if (f.name !== '__typename') expect(recorded.get(f.key)).toEqual(f.args);
          expect(executed.document.document.definitions.every((d) => d.kind === 'OperationDefinition')).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('hands on a plain operation as it is, and the chosen one of several', () => {
    expect(collect('{ child(nhsNumber: "111", purpose: EARLY_HELP) { nhsNumber } }').document).toBeUndefined();
    const chosen = collect('query A { child(nhsNumber: "111", purpose: EARLY_HELP) { nhsNumber } } query B { c: child(nhsNumber: "222", purpose: EARLY_HELP) { nhsNumber } }', {}, 'B');
    expect(chosen.fields).toEqual([{ key: 'c', name: 'child', args: { nhsNumber: '222', purpose: 'EARLY_HELP' } }]);
    expect(graphql.print(chosen.document!.document)).not.toContain('"111"');
  });

  it('refuses variables that do not coerce, and fragments that expand beyond the limit, as BAD_USER_INPUT', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        return (error as { extensions?: { code?: string } }).extensions?.code;
      }
      return 'none';
    };
    expect(code(() => collect('query ($n: String!) { child(nhsNumber: $n, purpose: EARLY_HELP) { nhsNumber } }', {}))).toBe('BAD_USER_INPUT');
    expect(code(() => collect('query ($p: Purpose!) { child(nhsNumber: "1", purpose: $p) { nhsNumber } }', { p: 'NOT_A_PURPOSE' }))).toBe('BAD_USER_INPUT');
    // Each level spreads the next ten times: 10^4 selections from a few lines.
    const levels = [0, 1, 2, 3].map((i) => `fragment L${i} on Child { ${Array.from({ length: 10 }, () => (i === 3 ? 'nhsNumber' : `...L${i + 1}`)).join(' ')} }`);
    expect(10 ** 4).toBeGreaterThan(MAX_EXPANDED_SELECTIONS);
    expect(code(() => collect(`{ child(nhsNumber: "1", purpose: EARLY_HELP) { ...L0 } } ${levels.join(' ')}`))).toBe('BAD_USER_INPUT');
  });
});

describe('decide: one purpose, at most one child, alone', () => {
  const caller = { caller: { username: 'u', roles: ['csc.practitioner'] } };
  const options = { allocations: { isAllocated: async () => false }, exposedRootFields: ['child', 'findChildren', 'auditTrail', 'linkNhsNumber'] };
  const decided = (source: string, variables?: Record<string, unknown>) => decideRequest(collect(source, variables), caller, options);
  const refusal = (source: string) => {
    try {
      decided(source);
    } catch (error) {
      return (error as { extensions?: { code?: string } }).extensions?.code;
    }
    return 'none';
  };

  it('names the child and purpose the operation executes', () => {
    expect(decided('query ($n: String! = "111") { ... on Query { c: child(nhsNumber: $n, purpose: EARLY_HELP, breakGlassReason: "x") { nhsNumber } } }')).toMatchObject({ purpose: 'EARLY_HELP', child: { nhsNumber: '111', breakGlassReason: 'x' }, lookups: false });
    expect(decided('{ findChildren(input: { familyName: "B", dateOfBirth: "2015-01-01" }, purpose: EARLY_HELP) { personId } }')).toMatchObject({ lookups: true, purpose: 'EARLY_HELP' });
    expect(decided('mutation ($i: LinkInput! = { personId: "p", nhsNumber: "333" }) { linkNhsNumber(input: $i, purpose: EARLY_HELP) }')).toMatchObject({ child: { nhsNumber: '333', action: 'LINK' } });
  });

  it('refuses what it cannot attribute to one child, wherever it is written', () => {
    expect(refusal('{ a: child(nhsNumber: "1", purpose: EARLY_HELP) { nhsNumber } ...F } fragment F on Query { b: child(nhsNumber: "2", purpose: EARLY_HELP) { nhsNumber } }')).toBe('BAD_USER_INPUT');
    expect(refusal('{ child(nhsNumber: "1", purpose: EARLY_HELP) { nhsNumber } ... { findChildren(input: {}, purpose: EARLY_HELP) { personId } } }')).toBe('BAD_USER_INPUT');
    expect(refusal('{ child(nhsNumber: "1", purpose: EARLY_HELP) { nhsNumber } ... on Query { auditTrail(nhsNumber: "2") } }')).toBe('BAD_USER_INPUT');
    expect(refusal('{ ... on Query { ... { breakGlassReport(from: "a", to: "b") } } }')).toBe('FORBIDDEN');
    expect(refusal('{ a: child(nhsNumber: "1", purpose: EARLY_HELP) { nhsNumber } b: findChildren(input: {}, purpose: CHILD_PROTECTION_ENQUIRY) @skip(if: false) { personId } }')).toBe('BAD_USER_INPUT');
    expect(refusal('mutation { a: linkNhsNumber(input: { personId: "p", nhsNumber: "1" }, purpose: EARLY_HELP) ... on Mutation { b: linkNhsNumber(input: { personId: "q", nhsNumber: "2" }, purpose: EARLY_HELP) } }')).toBe('BAD_USER_INPUT');
    // A search on less than a name with a date of birth, or by a role that may not search, wherever it is written.
    expect(refusal('{ ... on Query { findChildren(input: { givenName: "A", familyName: "B" }, purpose: EARLY_HELP) { personId } } }')).toBe('BAD_USER_INPUT');
    const asIg = () => decideRequest(collect('{ ...F } fragment F on Query { findChildren(input: { familyName: "B", dateOfBirth: "2015-01-01" }, purpose: EARLY_HELP) { personId } }'), { caller: { username: 'i', roles: ['ig.officer'] } }, options);
    expect(asIg).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN' }) }));
    // What is skipped is not executed, so it is not refused.
    expect(refusal('{ child(nhsNumber: "1", purpose: EARLY_HELP) { nhsNumber } ... @skip(if: true) { breakGlassReport(from: "a", to: "b") } }')).toBe('none');
  });
});

describe('decide: searches are for the roles that act on children, on a name with a date of birth', () => {
  const ROLES = ['csc.practitioner', 'csc.manager', 'education.officer', 'ig.officer', 'la.developer', 'someone.else'];
  const FIELDS = { givenName: '"Amy"', familyName: '"Lee"', dateOfBirth: '"2015-03-04"' } as const;
  it('refuses, wherever the search is written, a role that may not run it and a search on too little', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('findChildren', 'matchChild'),
        fc.subarray(ROLES),
        fc.subarray(Object.keys(FIELDS) as (keyof typeof FIELDS)[]),
        fc.constantFrom('plain', 'inline', 'named', 'variable'),
        (search, roles, given, form) => {
          const input = `{ ${given.map((k) => `${k}: ${FIELDS[k]}`).join(', ')} }`;
          const call = (arg: string) => `${search}(input: ${arg}, purpose: EARLY_HELP) { personId }`;
          const source = {
            plain: `{ ${call(input)} }`,
            inline: `{ ... on Query { ... { ${call(input)} } } }`,
            named: `{ ...F } fragment F on Query { ${call(input)} }`,
            variable: `query ($i: ChildSearchInput! = ${input}) { ${call('$i')} }`,
          }[form];
          const allowedRoles = search === 'findChildren' ? ['csc.practitioner', 'csc.manager'] : ['csc.practitioner', 'csc.manager', 'education.officer'];
          const expected = !roles.some((r) => allowedRoles.includes(r)) ? 'FORBIDDEN' : !(given.includes('dateOfBirth') && given.some((k) => k !== 'dateOfBirth')) ? 'BAD_USER_INPUT' : 'none';
          let got = 'none';
          try {
            decideRequest(collect(source), { caller: { username: 'u', roles } }, { allocations: { isAllocated: async () => false }, exposedRootFields: ['findChildren', 'matchChild'] });
          } catch (error) {
            got = String((error as { extensions?: { code?: string } }).extensions?.code);
          }
          expect(got).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('withhold and the audit’s additions', () => {
  it('withholds a field inside a fragment at its path in the answer, once however often it is selected', () => {
    const executed = collect('{ c: child(nhsNumber: "1", purpose: EARLY_HELP) { ...S ... on Child { socialCare { referrals } } } } fragment S on Child { socialCare { status r: referrals } }');
    const allowed = (category: string) => permits({ purposes: { EARLY_HELP: ['csc.status', 'csc.referral'] }, purpose: 'EARLY_HELP', decision: 'SUMMARY' }, category);
    const { document, withheld } = withholdFields(schema, executed.document!.document, allowed, categories);
    expect(withheld.map((w) => w.path.join('.')).sort()).toEqual(['c.socialCare.r', 'c.socialCare.referrals']);
    expect(graphql.print(document)).not.toContain('referrals');
  });

  it('adds whom each search returns under the audit’s aliases, takes them out of the answer, and refuses those aliases from the caller', () => {
    const executed = collect('{ ... on Query { s: findChildren(input: { givenName: "A", dateOfBirth: "2015-01-01" }, purpose: EARLY_HELP) { personId } } }');
    const lookups = lookupsOf(executed);
    expect(lookups).toEqual([{ key: 's', action: 'SEARCH', criteria: ['dateOfBirth', 'givenName'] }]);
    const printed = graphql.print(withAuditIdentifiers(executed.document!.document));
    expect(printed).toContain('maisAuditNhsNumber: nhsNumber');
    const data = { s: [{ personId: 'p1', maisAuditPersonId: 'p1', maisAuditNhsNumber: '111' }] };
    expect(takeFound(data, lookups).get('s')).toEqual([{ personId: 'p1', nhsNumber: '111' }]);
    expect(data).toEqual({ s: [{ personId: 'p1' }] });
    expect(() => withAuditIdentifiers(graphql.parse('{ findChildren(input: {}, purpose: EARLY_HELP) { personId ... on ChildSearchResult { maisAuditX: personId } } }'))).toThrow(/kept for the audit/);
  });
});
