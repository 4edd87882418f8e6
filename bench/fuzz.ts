// Bad inputs, generated from a seed (fast-check): GraphQL requests for any schema (random and malformed
// operations, variables of the wrong types, huge strings, deep nesting, alias bombs, invalid NHS numbers,
// injection strings in every text argument, requests that are not GraphQL at all), FHIR requests for PDS,
// and SSD extracts; and the judge of what a MAIS service may answer to them: a stable code, never a 5xx
// other than a bare INTERNAL_SERVER_ERROR, never a stack trace or the store's own words.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import fc from 'fast-check';
import { Kind, parse, print, type TypeNode } from 'graphql';
import { isValidNhsNumber } from '../lib/nhs-number.ts';
import { populationPaths } from '../sandbox/population/generate.ts';
import type { LocalClient } from '../lib/db/store.ts';
import { importSsd, IMPORT_PROBLEM_CODES, SSD_TABLES } from '../subgraphs/csc/ssd-import.ts';

type Gen = fc.GeneratorValue;

/** Text that has broken other systems: SQL, templates, scripts, paths, control and bidi characters. */
export const INJECTIONS = [
  "' OR '1'='1",
  "'; DROP TABLE ssd_person; --",
  '" OR ""="',
  '1; SELECT pg_sleep(10)',
  '$1',
  '%s%s%s%n',
  '{{7*7}}',
  '${7*7}',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '\u0000',
  '\u202e\u0644',
  'NULL',
  '__proto__',
  'constructor',
  '{"$ne": null}',
  '\\',
  'a\r\nX-Injected: 1',
  '*/ { __schema { types { name } } } /*',
  '🙂'.repeat(40),
];

/** NHS numbers that are not: a wrong check digit, the wrong length, letters, padding, other digits. */
export const INVALID_NHS_NUMBERS = ['9434765918', '0000000001', '123456789', '94347659190', '943 476 591x', 'ABCDEFGHIJ', '', ' ', '-943476591', '9.434765919e9', '٩٤٣٤٧٦٥٩١٩', '9434765919'.repeat(20)];

const pick = <T>(g: Gen, items: readonly T[]): T => items[g(fc.nat, { max: items.length - 1 })]!;
// fc.double spreads over representable doubles (most of them tiny), so a chance is drawn as a whole number.
const chance = (g: Gen, p: number) => g(fc.integer, { min: 0, max: 9_999 }) < p * 10_000;

// ---- the schema, as far as generating requests needs it

interface FieldShape {
  name: string;
  args: { name: string; type: TypeNode }[];
  type: TypeNode;
}

export interface SchemaShape {
  objects: Map<string, FieldShape[]>;
  inputs: Map<string, { name: string; type: TypeNode }[]>;
  enums: Map<string, string[]>;
  /** Types with a federation @key, which `_entities` resolves. */
  entities: string[];
  query: FieldShape[];
  mutation: FieldShape[];
  /** A subgraph's schema: `_entities` and `_service` are asked too. */
  subgraph: boolean;
}

const named = (type: TypeNode): string => (type.kind === Kind.NAMED_TYPE ? type.name.value : named(type.type));

export function schemaShape(sdl: string, options: { subgraph?: boolean } = {}): SchemaShape {
  const shape: SchemaShape = { objects: new Map(), inputs: new Map(), enums: new Map(), entities: [], query: [], mutation: [], subgraph: options.subgraph ?? false };
  for (const definition of parse(sdl).definitions) {
    if (definition.kind === Kind.OBJECT_TYPE_DEFINITION || definition.kind === Kind.OBJECT_TYPE_EXTENSION || definition.kind === Kind.INTERFACE_TYPE_DEFINITION) {
      const name = definition.name.value;
      if (name.startsWith('join__') || name.startsWith('link__')) continue;
      const fields = (definition.fields ?? []).map((f) => ({ name: f.name.value, type: f.type, args: (f.arguments ?? []).map((a) => ({ name: a.name.value, type: a.type })) }));
      shape.objects.set(name, [...(shape.objects.get(name) ?? []), ...fields]);
      if (definition.directives?.some((d) => d.name.value === 'key') && !shape.entities.includes(name)) shape.entities.push(name);
    } else if (definition.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION) {
      shape.inputs.set(definition.name.value, (definition.fields ?? []).map((f) => ({ name: f.name.value, type: f.type })));
    } else if (definition.kind === Kind.ENUM_TYPE_DEFINITION && !definition.name.value.startsWith('join__') && !definition.name.value.startsWith('link__')) {
      shape.enums.set(definition.name.value, (definition.values ?? []).map((v) => v.name.value));
    }
  }
  shape.query = shape.objects.get('Query') ?? [];
  shape.mutation = shape.objects.get('Mutation') ?? [];
  return shape;
}

// ---- values: right, nearly right, and wrong

class EnumLiteral {
  constructor(readonly name: string) {}
}

function text(g: Gen): string {
  switch (g(fc.nat, { max: 5 })) {
    case 0:
    case 1:
      return pick(g, INJECTIONS);
    case 2:
      return 'x'.repeat(pick(g, [1_000, 70_000, 300_000]));
    case 3:
      return g(fc.string, { unit: 'binary', maxLength: 40 });
    default:
      return g(fc.string, { maxLength: 20 });
  }
}

/** Text a header can carry (HTTP clients refuse anything else): printable ASCII, sometimes huge. */
const headerText = (g: Gen) => text(g).replace(/[^\x20-\x7e]/g, '?');

function nhsNumber(g: Gen, valid: readonly string[]): string {
  if (valid.length > 0 && chance(g, 0.4)) return pick(g, valid);
  if (chance(g, 0.5)) return pick(g, INVALID_NHS_NUMBERS);
  const digits = g(fc.stringMatching, /^\d{10}$/);
  return isValidNhsNumber(digits) ? `${digits.slice(0, 9)}${(Number(digits[9]) + 1) % 10}` : digits;
}

function scalar(g: Gen, name: string, valid: readonly string[]): unknown {
  switch (name) {
    case 'NhsNumber':
      return nhsNumber(g, valid);
    case 'Int':
      return pick(g, [0, -1, 2 ** 31, -(2 ** 31) - 1, 1e21, 1.5, g(fc.integer)]);
    case 'Float':
      return pick(g, [0, -0.5, 1e308, Number.MAX_SAFE_INTEGER, g(fc.double, { noNaN: true, noDefaultInfinity: true })]);
    case 'Boolean':
      return g(fc.boolean);
    case 'Date':
    case 'DateTime':
      return pick(g, ['2015-06-01', '2015-02-30', '31/12/2015', '0000-00-00', '9999-12-31T23:59:59Z', '2015-06-01T25:00:00Z', text(g)]);
    default:
      return text(g);
  }
}

/** A value for `type`: mostly of its kind, sometimes of any kind (wrong), sometimes null. */
function value(g: Gen, shape: SchemaShape, type: TypeNode, valid: readonly string[], depth = 0): unknown {
  if (chance(g, 0.03)) return g(fc.jsonValue, { maxDepth: 2 });
  if (type.kind === Kind.NON_NULL_TYPE) return chance(g, 0.02) ? null : value(g, shape, type.type, valid, depth);
  if (type.kind === Kind.LIST_TYPE) {
    const length = chance(g, 0.03) ? 2_000 : g(fc.nat, { max: 3 });
    return Array.from({ length }, () => value(g, shape, type.type, valid, depth + 1));
  }
  const name = type.name.value;
  const values = shape.enums.get(name);
  if (values) return new EnumLiteral(chance(g, 0.9) ? pick(g, values) : pick(g, ['UNKNOWN', 'null', 'true', 'DROP']));
  const fields = shape.inputs.get(name);
  if (fields) {
    if (depth > 4) return {};
    const object: Record<string, unknown> = {};
    for (const field of fields) if (field.type.kind === Kind.NON_NULL_TYPE || chance(g, 0.6)) object[field.name] = value(g, shape, field.type, valid, depth + 1);
    if (chance(g, 0.1)) object[pick(g, ['extra', '__proto__', 'constructor'])] = text(g);
    return object;
  }
  return scalar(g, name, valid);
}

/** A value as a GraphQL literal. */
function literal(v: unknown): string {
  if (v instanceof EnumLiteral) return v.name;
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(literal).join(', ')}]`;
  if (typeof v === 'object') return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${/^[_A-Za-z][_0-9A-Za-z]*$/.test(k) ? k : 'bad'}: ${literal(x)}`).join(', ')}}`;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '0';
  return JSON.stringify(v);
}
const asJson = (v: unknown): unknown => (v instanceof EnumLiteral ? v.name : Array.isArray(v) ? v.map(asJson) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, asJson(x)])) : v);

// ---- operations

function selection(g: Gen, shape: SchemaShape, type: string, depth: number): string {
  const fields = shape.objects.get(type);
  if (!fields) return chance(g, 0.02) ? ' { nonsense }' : '';
  if (depth > 3) return ' { __typename }';
  const chosen = new Set<string>();
  const parts: string[] = [];
  for (let i = 0, n = 1 + g(fc.nat, { max: 3 }); i < n; i++) {
    if (chance(g, 0.02)) {
      parts.push(pick(g, ['nonsense', '__typename', 'password', '__schema { types { name } }']));
      continue;
    }
    const field = pick(g, fields);
    if (chosen.has(field.name) && field.args.length > 0) continue;
    chosen.add(field.name);
    const args = field.args.filter((a) => a.type.kind === Kind.NON_NULL_TYPE || chance(g, 0.5)).map((a) => `${a.name}: ${literal(value(g, shape, a.type, [], 0))}`);
    parts.push(`${field.name}${args.length ? `(${args.join(', ')})` : ''}${selection(g, shape, named(field.type), depth + 1)}`);
  }
  return ` { ${parts.join(' ')} }`;
}

interface Built {
  query: string;
  variables: Record<string, unknown>;
}

/** An operation on one root field of the schema, its arguments inline or as variables. */
function operation(g: Gen, shape: SchemaShape, valid: readonly string[], variablesOnly = false): Built {
  const mutation = shape.mutation.length > 0 && chance(g, 0.2);
  const roots = mutation ? shape.mutation : shape.query;
  const variables: Record<string, unknown> = {};
  const definitions: string[] = [];
  if (shape.subgraph && !mutation && chance(g, 0.4)) {
    const type = shape.entities.length > 0 ? pick(g, shape.entities) : 'Child';
    const representations = Array.from({ length: chance(g, 0.05) ? 500 : 1 + g(fc.nat, { max: 2 }) }, () =>
      chance(g, 0.85) ? { __typename: chance(g, 0.9) ? type : text(g), nhsNumber: nhsNumber(g, valid) } : g(fc.jsonValue, { maxDepth: 2 }),
    );
    variables.r = representations;
    return { query: `query ($r: [_Any!]!) { _entities(representations: $r) { ... on ${type}${selection(g, shape, type, 1)} } }`, variables };
  }
  const field = roots.length > 0 ? pick(g, roots) : { name: '__typename', args: [], type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: 'String' } } as TypeNode };
  const args = field.args
    .filter((a) => a.type.kind === Kind.NON_NULL_TYPE || chance(g, 0.6))
    .map((a, i) => {
      const v = value(g, shape, a.type, valid);
      if (!variablesOnly && chance(g, 0.5)) return `${a.name}: ${literal(v)}`;
      const declared = chance(g, 0.03) ? pick(g, ['String', 'Int!', '[String]', 'Unknown']) : print(a.type);
      definitions.push(`$v${i}: ${declared}`);
      variables[`v${i}`] = asJson(v);
      return `${a.name}: $v${i}`;
    });
  const name = chance(g, 0.5) ? ` Fuzz${g(fc.nat, { max: 999 })}` : '';
  const head = `${mutation ? 'mutation' : 'query'}${name}${definitions.length ? ` (${definitions.join(', ')})` : ''}`;
  return { query: `${head} { ${field.name}${args.length ? `(${args.join(', ')})` : ''}${selection(g, shape, named(field.type), 1)} }`, variables };
}

export interface HttpCase {
  kind: string;
  method: 'GET' | 'POST';
  /** Added to the target's own headers (a null value removes that header). */
  headers?: Record<string, string | null>;
  /** Appended to the target's URL (a GET's query string, a FHIR path); body for a POST. */
  search?: string;
  body?: string;
}

const post = (kind: string, body: unknown): HttpCase => ({ kind, method: 'POST', body: JSON.stringify(body) });

/** One bad (or merely odd) GraphQL request over HTTP. */
function graphqlCase(g: Gen, shape: SchemaShape, valid: readonly string[]): HttpCase {
  const roll = g(fc.nat, { max: 99 });
  if (roll < 40) return post('schema operation', operation(g, shape, valid));
  if (roll < 50) {
    const { query, variables } = operation(g, shape, valid, true);
    const wrong = Object.fromEntries(Object.keys(variables).map((k) => [k, g(fc.jsonValue, { maxDepth: 3 })]));
    return post('variables of the wrong type', { query, variables: chance(g, 0.2) ? pick(g, ['a string', 42, [1, 2], null]) : wrong });
  }
  if (roll < 60) {
    const { query, variables } = operation(g, shape, valid);
    const at = g(fc.nat, { max: query.length });
    const mangled = pick(g, [
      query.slice(0, at),
      `${query.slice(0, at)}${g(fc.string, { unit: fc.constantFrom(...'{}()[]:$@!."\\#,=|&'.split('')), minLength: 1, maxLength: 6 })}${query.slice(at)}`,
      g(fc.string, { unit: 'binary', maxLength: 200 }),
      query.replace(/[{}]/g, ''),
    ]);
    return post('malformed operation', { query: mangled, variables });
  }
  if (roll < 67) {
    const depth = pick(g, [50, 300, 2_000, 10_000]);
    const form = g(fc.nat, { max: 2 });
    if (form === 0) return post('deep nesting', { query: `query ${'{ ... on Query '.repeat(depth)}{ __typename }${' }'.repeat(depth)}` });
    if (form === 1) {
      const root = shape.query.find((f) => f.args.length > 0) ?? shape.query[0];
      const arg = root?.args[0]?.name ?? 'x';
      return post('deep nesting', { query: `{ ${root?.name ?? '__typename'}(${arg}: ${'['.repeat(depth)}1${']'.repeat(depth)}) { __typename } }` });
    }
    // Variables nested deeper than JSON.stringify goes: written as text.
    const { query } = operation(g, shape, valid, true);
    return { kind: 'deep nesting', method: 'POST', body: `{"query": ${JSON.stringify(query)}, "variables": {"v0": ${'{"a": '.repeat(depth)}"bottom"${'}'.repeat(depth)}}}` };
  }
  if (roll < 74) {
    const count = pick(g, [100, 1_000, 10_000]);
    const root = shape.query.find((f) => f.args.length > 0);
    const field = root && chance(g, 0.6) ? operation(g, { ...shape, query: [root], subgraph: false }, valid).query.replace(/^[^{]*\{\s*/, '').replace(/\}\s*$/, '') : '__typename';
    const one = field.length > 2_000 ? '__typename' : field;
    return post('alias bomb', { query: `{ ${Array.from({ length: count }, (_, i) => `a${i}: ${one}`).join(' ')} }` });
  }
  if (roll < 79) {
    return post(
      'fragments and directives',
      pick(g, [
        { query: 'query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }' },
        { query: `query { __typename ${'@skip(if: false) '.repeat(pick(g, [10, 1_000]))}}` },
        { query: 'query A { __typename } query B { __typename }' },
        { query: 'query A { __typename }', operationName: 'B' },
        { query: 'subscription { __typename }' },
        { query: '{ __schema { types { name fields { name } } } }' },
      ]),
    );
  }
  if (roll < 84) {
    const { query } = operation(g, shape, valid);
    return { kind: 'GET', method: 'GET', search: `?query=${encodeURIComponent(query)}`, headers: chance(g, 0.5) ? { 'apollo-require-preflight': 'true' } : {} };
  }
  if (roll < 92) {
    return pick(g, [
      { kind: 'not GraphQL over HTTP', method: 'POST', body: 'this is not json' } as HttpCase,
      { kind: 'not GraphQL over HTTP', method: 'POST', body: '' },
      { kind: 'not GraphQL over HTTP', method: 'POST', body: JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]) },
      { kind: 'not GraphQL over HTTP', method: 'POST', body: JSON.stringify({ query: 42 }) },
      { kind: 'not GraphQL over HTTP', method: 'POST', body: JSON.stringify({ query: '{ __typename }', variables: 'not an object' }) },
      { kind: 'not GraphQL over HTTP', method: 'POST', body: JSON.stringify({ variables: {} }) },
      { kind: 'not GraphQL over HTTP', method: 'POST', body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } }) },
      { kind: 'not GraphQL over HTTP', method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ query: '{ __typename }' }) },
      { kind: 'not GraphQL over HTTP', method: 'POST', body: JSON.stringify({ query: `{ __typename } #${'x'.repeat(1_100_000)}` }) },
    ]);
  }
  // Who is asking, wrongly: no token, a token that is not one, a purpose that is not one.
  const { query, variables } = operation(g, shape, valid);
  return { kind: 'credentials', method: 'POST', body: JSON.stringify({ query, variables }), headers: pick<Record<string, string | null>>(g, [{ authorization: null }, { authorization: 'Bearer not-a-token' }, { authorization: `Bearer ${'e'.repeat(40)}.${'e'.repeat(40)}.${'e'.repeat(40)}` }, { 'mais-purpose': headerText(g) }]) };
}

/** `count` GraphQL cases for `shape`, the same for the same seed. */
export function graphqlCases(shape: SchemaShape, options: { seed: number; count: number; nhsNumbers?: readonly string[] }): HttpCase[] {
  return fc.sample(fc.gen(), { seed: options.seed, numRuns: options.count, unbiased: true }).map((g) => graphqlCase(g, shape, options.nhsNumbers ?? []));
}

// ---- PDS's FHIR API

const FHIR_PARAMETERS = ['family', 'given', 'gender', 'birthdate', 'death-date', 'address-postalcode', 'address-postcode', 'general-practitioner', 'email', 'phone', '_fuzzy-match', '_exact-match', '_history', '_max-results'];

function fhirValue(g: Gen, parameter: string, valid: readonly string[]): string {
  if (chance(g, 0.35)) return text(g).slice(0, 3_000);
  switch (parameter) {
    case 'birthdate':
    case 'death-date':
      return `${pick(g, ['', 'eq', 'ge', 'le', 'gt', 'lt', 'ne', 'xx'])}${pick(g, ['2015-06-01', '2015', '2015-13-01', '01/06/2015', '', '20150601'])}`;
    case 'gender':
      return pick(g, ['male', 'female', 'other', 'unknown', 'M', '']);
    case '_fuzzy-match':
    case '_exact-match':
    case '_history':
      return pick(g, ['true', 'false', 'yes', '1', '']);
    case '_max-results':
      return pick(g, ['1', '10', '0', '51', '-1', '1e3', 'ten']);
    default:
      return chance(g, 0.3) ? nhsNumber(g, valid) : g(fc.string, { maxLength: 30 });
  }
}

/** `count` requests to PDS's FHIR API (searches and reads, odd methods and headers). */
export function pdsCases(options: { seed: number; count: number; nhsNumbers?: readonly string[] }): HttpCase[] {
  const valid = options.nhsNumbers ?? [];
  return fc.sample(fc.gen(), { seed: options.seed, numRuns: options.count, unbiased: true }).map((g) => {
    const headers: Record<string, string | null> = {};
    if (chance(g, 0.1)) headers['x-request-id'] = pick(g, ['not-a-uuid', '', headerText(g).slice(0, 200)]);
    if (chance(g, 0.05)) headers.authorization = pick(g, [null, 'Bearer nonsense', 'Basic YTpi']) as string | null;
    if (chance(g, 0.35)) {
      const id = chance(g, 0.5) ? nhsNumber(g, valid) : pick(g, ['..%2F..%2Fetc%2Fpasswd', '%00', encodeURIComponent(text(g).slice(0, 500)), '']);
      return { kind: 'read', method: 'GET', search: `/Patient/${id}`, headers };
    }
    const params = new URLSearchParams();
    for (let i = 0, n = g(fc.nat, { max: 6 }); i < n; i++) {
      const parameter = chance(g, 0.9) ? pick(g, FHIR_PARAMETERS) : g(fc.string, { maxLength: 12 });
      params.append(parameter, fhirValue(g, parameter, valid));
    }
    return { kind: 'search', method: chance(g, 0.05) ? 'POST' : 'GET', search: `/Patient?${params}`, headers };
  });
}

// ---- judging the answers

/** The codes a MAIS service's GraphQL errors may carry (CONTRACT.md, and GraphQL's own for requests that are not valid GraphQL). */
export const STABLE_CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'BAD_USER_INPUT', 'INVALID_NHS_NUMBER', 'SOURCE_UNAVAILABLE', 'RATE_LIMITED', 'INTERNAL_SERVER_ERROR', 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'PERSISTED_QUERY_NOT_FOUND', 'OPERATION_RESOLUTION_FAILURE', 'BAD_REQUEST']);
/** What a stack trace looks like. */
export const STACK_TRACE = /\bat (?:async )?[\w$.<>[\] ]*\(?(?:file:|node:|\/)[^)\s]*:\d+:\d+|node_modules\/|\.[cm]?[jt]s:\d+:\d+/;
/** What a database or driver error looks like (none of INJECTIONS does). */
export const STORE_WORDS = /syntax error at or near|relation "[^"]*" does not exist|violates [a-z -]*constraint|invalid input syntax for|duplicate key value|prisma|ECONNREFUSED|\bP20\d\d\b|column "[^"]*" (?:does not exist|of relation)|current transaction is aborted|pg_catalog/i;

function json<T>(text: string): T | null {
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as T) : null;
  } catch {
    return null;
  }
}

export interface Verdict {
  /** e.g. `400 GRAPHQL_VALIDATION_FAILED`, `200 data`. */
  outcome: string;
  codes: string[];
  problems: string[];
}

/** Judges one GraphQL answer. */
export function judgeGraphql(status: number, text: string): Verdict {
  const problems: string[] = [];
  const body = json<{ data?: unknown; errors?: { message?: unknown; extensions?: Record<string, unknown> }[] }>(text);
  if (!body) problems.push(`HTTP ${status} answered with something that is not a JSON object: ${text.slice(0, 80)}`);
  const errors = Array.isArray(body?.errors) ? body.errors : [];
  const codes = errors.map((e) => String(e.extensions?.code ?? 'no code'));
  for (const code of new Set(codes)) if (!STABLE_CODES.has(code)) problems.push(`an error with code ${code}`);
  if (status >= 500) {
    const bare = errors.length > 0 && errors.every((e) => e.extensions?.code === 'INTERNAL_SERVER_ERROR' && Object.keys(e.extensions).length === 1);
    if (!bare || status !== 500) problems.push(`HTTP ${status} with ${codes.join(', ') || 'no error'}`);
  }
  if (STACK_TRACE.test(text)) problems.push(`a stack trace: ${STACK_TRACE.exec(text)![0]}`);
  if (STORE_WORDS.test(text)) problems.push(`the store's own words: ${STORE_WORDS.exec(text)![0]}`);
  if (errors.some((e) => 'stacktrace' in (e.extensions ?? {}))) problems.push('an error with extensions.stacktrace');
  return { outcome: `${status} ${codes[0] ?? (body?.data ? 'data' : 'empty')}`, codes, problems };
}

const SPINE_CODE = /"code"\s*:\s*"([A-Z_]+)"/;
/** Judges one PDS answer: a FHIR resource, errors as OperationOutcome with a Spine code, never a 5xx. */
export function judgeFhir(status: number, text: string): Verdict {
  const problems: string[] = [];
  const body = json<{ resourceType?: string }>(text);
  if (!body) problems.push(`HTTP ${status} answered with something that is not a JSON object: ${text.slice(0, 80)}`);
  const type = body?.resourceType ?? 'not FHIR';
  if (!['Bundle', 'Patient', 'OperationOutcome'].includes(type)) problems.push(`HTTP ${status} answered with ${type}`);
  const code = type === 'OperationOutcome' ? (SPINE_CODE.exec(text)?.[1] ?? 'no Spine code') : type;
  if (code === 'no Spine code') problems.push('an OperationOutcome without a Spine code');
  if (status >= 500) problems.push(`HTTP ${status}`);
  if (STACK_TRACE.test(text)) problems.push(`a stack trace: ${STACK_TRACE.exec(text)![0]}`);
  return { outcome: `${status} ${code}`, codes: [code], problems };
}

export interface FuzzReport {
  target: string;
  tried: number;
  /** Requests tried by kind of case. */
  kinds: Record<string, number>;
  /** Answers by status and first code. */
  outcomes: Record<string, number>;
  /** Every error code seen, counted. */
  codes: Record<string, number>;
  /** What should not have happened (up to 20, with the case's kind). */
  problems: string[];
  problemCount: number;
  /** Requests answered INTERNAL_SERVER_ERROR (allowed, bare; each a failure to refuse a bad input by name), up to 5, shortened. */
  internalErrors: string[];
}

const count = (into: Record<string, number>, key: string) => void (into[key] = (into[key] ?? 0) + 1);

/** Sends each case to `url` (a few at a time) and judges each answer. */
/** `headers` may be a function, for credentials used once (the LA subgraphs' internal tokens): called for each case. */
export async function fuzz(target: string, url: string, headers: Record<string, string> | (() => Promise<Record<string, string>>), cases: HttpCase[], judge: (status: number, text: string) => Verdict, concurrency = 4): Promise<FuzzReport> {
  const report: FuzzReport = { target, tried: 0, kinds: {}, outcomes: {}, codes: {}, problems: [], problemCount: 0, internalErrors: [] };
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++]!;
      const merged: Record<string, string> = { 'content-type': 'application/json', ...(typeof headers === 'function' ? await headers() : headers) };
      for (const [k, v] of Object.entries(c.headers ?? {})) {
        if (v === null) delete merged[k];
        else merged[k] = v;
      }
      let verdict: Verdict;
      try {
        const response = await fetch(`${url}${c.search ?? ''}`, { method: c.method, headers: merged, ...(c.method === 'POST' ? { body: c.body ?? '' } : {}), signal: AbortSignal.timeout(20_000) });
        verdict = judge(response.status, await response.text());
      } catch (error) {
        const cause = error instanceof Error && error.cause instanceof Error ? ` (${(error.cause as NodeJS.ErrnoException).code ?? error.cause.message})` : '';
        verdict = { outcome: 'no answer', codes: [], problems: [`no answer: ${error instanceof Error ? error.message : String(error)}${cause}`] };
      }
      report.tried++;
      count(report.kinds, c.kind);
      count(report.outcomes, verdict.outcome);
      for (const code of verdict.codes) count(report.codes, code);
      if (verdict.codes.includes('INTERNAL_SERVER_ERROR') && report.internalErrors.length < 5) report.internalErrors.push(`${c.kind}: ${c.method} ${(c.search ?? '').slice(0, 200)}${(c.body ?? '').slice(0, 300)}`);
      report.problemCount += verdict.problems.length;
      for (const problem of verdict.problems) if (report.problems.length < 20) report.problems.push(`${c.kind}: ${problem}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return report;
}

// ---- SSD extracts

/** An SSD extract (one CSV a table) of the first `persons` people of an LA in a synthetic population, with every row about them. */
export function writeSsdExtract(populationDir: string, la: string, folder: string, persons: number): Record<string, number> {
  mkdirSync(folder, { recursive: true });
  const rowsOf = (table: string) => {
    const path = populationPaths(populationDir).laTable(la, table as never);
    return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : [];
  };
  const kept = new Set(rowsOf('ssd_person').slice(0, persons).map((p) => p.pers_person_id));
  // Rows left out (their first column is their id), so that rows referring to them are left out too.
  const dropped = new Set<unknown>();
  const counts: Record<string, number> = {};
  for (const table of SSD_TABLES) {
    const all = rowsOf(table);
    const rows = all.filter((row) => Object.entries(row).every(([k, v]) => v === null || !/_id$/.test(k) || (/_person_id$/.test(k) ? kept.has(v) : !dropped.has(v))));
    for (const row of all) if (!rows.includes(row)) dropped.add(Object.values(row)[0]);
    if (rows.length === 0) continue;
    writeFileSync(join(folder, `${table}.csv`), stringify(rows, { header: true, columns: Object.keys(rows[0]!) }));
    counts[table] = rows.length;
  }
  return counts;
}

/** One way an extract goes wrong, applied to a copy of a good one in `folder`. */
function spoil(g: Gen, folder: string, valid: readonly string[]): string {
  const files = readdirSync(folder).filter((f) => f.endsWith('.csv')).sort();
  const file = join(folder, pick(g, files));
  const lines = readFileSync(file, 'utf8').split('\n');
  const cells = (line: string) => line.split(',');
  const roll = g(fc.nat, { max: 11 });
  const row = 1 + g(fc.nat, { max: Math.max(0, lines.length - 3) });
  const write = (content: string | Buffer) => writeFileSync(file, content);
  switch (roll) {
    case 0:
    case 1:
    case 2: {
      // A cell replaced: injections, huge, binary, bad dates and numbers, invalid NHS numbers.
      const parts = cells(lines[row] ?? '');
      const at = g(fc.nat, { max: Math.max(0, parts.length - 1) });
      const header = cells(lines[0]!)[at] ?? '';
      const bad = header.endsWith('common_child_id') && chance(g, 0.7) ? nhsNumber(g, valid) : pick(g, [text(g), '31/02/2020', '2020-13-01', '1e400', '-', '9'.repeat(30), 'NULL', '']);
      parts[at] = `"${bad.replace(/"/g, '""')}"`;
      lines[row] = parts.join(',');
      write(lines.join('\n'));
      return 'a bad value';
    }
    case 3: {
      const parts = cells(lines[0]!);
      const at = g(fc.nat, { max: parts.length - 1 });
      const action = g(fc.nat, { max: 3 });
      if (action === 0) parts[at] = text(g).replace(/[,\n"]/g, '').slice(0, 50) || 'x';
      else if (action === 1) parts.splice(at, 1);
      else if (action === 2) parts.push(parts[at]!);
      else parts.push('extra_column');
      lines[0] = parts.join(',');
      write(lines.join('\n'));
      return 'a bad header';
    }
    case 4:
      lines[row] = `${lines[row] ?? ''}"${pick(g, ['', 'unclosed', ',,,'])}`;
      write(lines.join('\n'));
      return 'broken quoting';
    case 5:
      write(readFileSync(file).subarray(0, g(fc.nat, { max: readFileSync(file).length })));
      return 'a truncated file';
    case 6:
      write(Buffer.from(g(fc.uint8Array, { maxLength: 400 })));
      return 'bytes that are not CSV';
    case 7:
      lines[row] = `${lines[row] ?? ''}${',extra'.repeat(1 + g(fc.nat, { max: 5 }))}`;
      write(lines.join('\n'));
      return 'a row too long';
    case 8: {
      // A record about someone who is not in the extract.
      const header = cells(lines[0]!);
      const at = header.findIndex((h) => /_person_id$/.test(h));
      if (at < 0 || file.endsWith('ssd_person.csv')) {
        write(`\uFEFF${lines.join('\r\n')}`);
        return 'a byte order mark and CRLF (fine)';
      }
      const parts = cells(lines[row] ?? '');
      parts[at] = `P-${g(fc.nat, { max: 1e9 })}`;
      lines[row] = parts.join(',');
      write(lines.join('\n'));
      return 'an unknown person';
    }
    case 9:
      if (lines.length > 2) lines.push(lines[1]!);
      write(lines.join('\n'));
      return 'a row twice';
    case 10:
      write(lines[0]!);
      return 'a header only (fine)';
    default:
      for (const f of files) if (chance(g, 0.5)) rmSync(join(folder, f));
      return 'files missing';
  }
}

/**
 * `count` spoilt copies of the extract in `good`, each imported into `prisma`'s store in place of what it
 * holds: every refusal carries codes and leaves the store as it was; every load leaves exactly what the
 * extract held.
 */
export async function fuzzSsdImport(prisma: LocalClient, good: string, options: { seed: number; count: number; nhsNumbers?: readonly string[] }): Promise<FuzzReport> {
  const report: FuzzReport = { target: 'SSD importer', tried: 0, kinds: {}, outcomes: {}, codes: {}, problems: [], problemCount: 0, internalErrors: [] };
  const codes = new Set<string>(IMPORT_PROBLEM_CODES);
  const models = prisma as unknown as Record<string, { count(): Promise<number> }>;
  const counts = async () => Object.fromEntries(await Promise.all(SSD_TABLES.map(async (t) => [t, await models[t]!.count()] as const)));
  const generators = fc.sample(fc.gen(), { seed: options.seed, numRuns: options.count, unbiased: true });
  for (const [i, g] of generators.entries()) {
    const folder = `${good}-case-${i}`;
    cpSync(good, folder, { recursive: true });
    const kind = spoil(g, folder, options.nhsNumbers ?? []);
    const problems: string[] = [];
    const before = await counts();
    let outcome: string;
    try {
      const result = await importSsd(prisma, folder, { replace: true });
      const after = await counts();
      if (result.problems.length > 0) {
        outcome = `refused ${result.problems[0]!.code}`;
        for (const p of result.problems) {
          count(report.codes, p.code);
          if (!codes.has(p.code)) problems.push(`a problem with code ${p.code}`);
          if (STACK_TRACE.test(p.message)) problems.push(`a stack trace: ${p.message.slice(0, 120)}`);
        }
        if (JSON.stringify(after) !== JSON.stringify(before)) problems.push('refused, yet the store changed');
      } else {
        outcome = 'loaded';
        for (const [table, n] of Object.entries(result.loaded)) if (after[table] !== n) problems.push(`loaded ${n} rows of ${table} but the store holds ${after[table]}`);
      }
    } catch (error) {
      outcome = 'threw';
      problems.push(`threw: ${error instanceof Error ? error.message.slice(0, 120) : String(error)}`);
    }
    rmSync(folder, { recursive: true, force: true });
    report.tried++;
    count(report.kinds, kind);
    count(report.outcomes, outcome);
    report.problemCount += problems.length;
    for (const problem of problems) if (report.problems.length < 20) report.problems.push(`${kind}: ${problem}`);
  }
  return report;
}
