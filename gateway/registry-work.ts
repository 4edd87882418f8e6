// The schema registry's CPU work, run in a worker process (registry-workers.ts) so that no organisation's
// schema can hold DfE's gateway: parsing within limits, the contract and data-category checks,
// composition of each organisation's supergraph, and the breaking-change diff. It reads nothing and
// writes nothing: everything it needs comes in the task, and the registry does the rest.
import { createRequire } from 'node:module';
import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, Kind, parse, type DocumentNode, type GraphQLSchema } from 'graphql';
import { DEFAULT_PURPOSE_CATEGORIES } from '../schema/data-categories.ts';
import { dataCategoryOf } from '../schema/data-categories.ts';
import { checkContract, SOURCE_KINDS, type SourceKind } from '../lib/schema-contract.ts';

// @graphql-inspector/core's ESM build names directories in its imports, which Node's loader refuses.
const { diff, CriticalityLevel } = createRequire(import.meta.url)('@graphql-inspector/core') as typeof import('@graphql-inspector/core');
// The same graphql instance as @graphql-inspector/core (CommonJS), so schema types are recognised.
const { isInterfaceType, isObjectType } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

export type ReasonKind = 'input' | 'limit' | 'syntax' | 'contract' | 'data-category' | 'composition' | 'breaking';

export interface Reason {
  kind: ReasonKind;
  message: string;
  /** Type or Type.field, where the reason is about one. */
  path?: string;
  /** The organisation whose composition failed, for a change to one of DfE's subgraphs. */
  organisation?: string;
}

/** One organisation's published subgraph. */
export interface Member {
  org_code: string;
  subgraph: string;
  url: string;
  sdl: string;
}

/** What one schema may hold, so that checking it is bounded. */
export interface SchemaLimits {
  /** Lexical tokens graphql-js parses before it gives up. */
  maxTokens: number;
  /** Type definitions and extensions. */
  maxTypes: number;
  /** Fields, arguments, input fields and enum values, all told. */
  maxFields: number;
}

export interface AnalyseTask {
  candidate: Member;
  /** Every organisation's current subgraphs. */
  members: Member[];
  /** The organisations whose supergraph the candidate is composed into. */
  concerned: string[];
  /** The version routers use now, for the breaking-change diff; null for a new subgraph. */
  previousSdl: string | null;
  limits: SchemaLimits;
  /** Whether to send back the composed supergraphs (a publish saves them; a check does not need them). */
  supergraphs: boolean;
}

export interface Analysis {
  reasons: Reason[];
  /** The organisations whose supergraph composes with the candidate in it… */
  affects: string[];
  /** …and that supergraph, for each. */
  supergraphs: Record<string, string>;
  /** Breaking changes against previousSdl; `reported` when routers report the use of what changed (an object or interface field). */
  breaking: { message: string; path?: string; reported: boolean }[];
}

/** The organisation whose subgraphs are in every organisation's supergraph. */
export const DFE = 'dfe';

const KNOWN_CATEGORY_FAMILIES = new Set(Object.values(DEFAULT_PURPOSE_CATEGORIES).flat().filter((p) => p !== '*').map((p) => p.replace(/\.\*$/, '').split('.')[0]!));

/** Fields a subgraph adds to Child other than its key, each of which must say what data it carries. */
function dataCategoryReasons(document: DocumentNode): Reason[] {
  const reasons: Reason[] = [];
  for (const definition of document.definitions) {
    if ((definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) || definition.name.value !== 'Child') continue;
    for (const field of definition.fields ?? []) {
      if (field.name.value === 'nhsNumber') continue;
      const path = `Child.${field.name.value}`;
      const name = dataCategoryOf(field);
      if (!name) reasons.push({ kind: 'data-category', path, message: `${path} carries personal data and needs @dataCategory(name: "<family>.<category>")` });
      else if (!/^[a-z]+\.[a-z_]+$/.test(name) || !KNOWN_CATEGORY_FAMILIES.has(name.split('.')[0]!)) {
        reasons.push({ kind: 'data-category', path, message: `${path}: "${name}" is not a category of a known family (${[...KNOWN_CATEGORY_FAMILIES].sort().join(', ')})` });
      }
    }
  }
  return reasons;
}

/** How many types, and fields of every kind, a document defines. */
function sizeOf(document: DocumentNode): { types: number; fields: number } {
  let types = 0;
  let fields = 0;
  for (const definition of document.definitions) {
    if (!('name' in definition) || definition.kind === Kind.DIRECTIVE_DEFINITION || definition.kind === Kind.OPERATION_DEFINITION || definition.kind === Kind.FRAGMENT_DEFINITION) continue;
    types++;
    for (const field of 'fields' in definition ? (definition.fields ?? []) : []) fields += 1 + ('arguments' in field ? (field.arguments?.length ?? 0) : 0);
    if ('values' in definition) fields += definition.values?.length ?? 0;
  }
  return { types, fields };
}

/** Composes in the registry's order (organisation, then subgraph), so the same subgraphs always give the same supergraph. */
export function compose(subgraphs: readonly Member[]): { supergraph: string } | { errors: string[] } {
  const ordered = [...subgraphs].sort((a, b) => a.org_code.localeCompare(b.org_code) || a.subgraph.localeCompare(b.subgraph));
  const result = composeServices(ordered.map((s) => ({ name: s.subgraph, url: s.url, typeDefs: parse(s.sdl) })));
  if (result.errors) return { errors: result.errors.map((e) => e.message) };
  return { supergraph: result.supergraphSdl };
}

export default async function analyse(task: AnalyseTask): Promise<Analysis> {
  const { candidate, limits } = task;
  const none: Analysis = { reasons: [], affects: [], supergraphs: {}, breaking: [] };
  let document: DocumentNode;
  try {
    document = parse(candidate.sdl, { maxTokens: limits.maxTokens });
  } catch (error) {
    const message = error instanceof GraphQLError ? error.message : String(error);
    return { ...none, reasons: [{ kind: /maxTokens|tokens/i.test(message) ? 'limit' : 'syntax', message }] };
  }
  const size = sizeOf(document);
  if (size.types > limits.maxTypes || size.fields > limits.maxFields) {
    return { ...none, reasons: [{ kind: 'limit', message: `the schema defines ${size.types} types and ${size.fields} fields, arguments and values; at most ${limits.maxTypes} and ${limits.maxFields}` }] };
  }
  const reasons: Reason[] = [];
  if ((SOURCE_KINDS as readonly string[]).includes(candidate.subgraph)) {
    for (const problem of checkContract(candidate.sdl, candidate.subgraph as SourceKind)) reasons.push({ kind: 'contract', path: problem.path, message: `${problem.path}: ${problem.problem}` });
  }
  reasons.push(...dataCategoryReasons(document));

  // Composition: the organisation's supergraph with this subgraph in it; for DfE's, every organisation's.
  const affects: string[] = [];
  const supergraphs: Record<string, string> = {};
  for (const organisation of task.concerned) {
    const members = task.members.filter((m) => (m.org_code === DFE || m.org_code === organisation) && !(m.org_code === candidate.org_code && m.subgraph === candidate.subgraph));
    const clash = members.find((m) => m.subgraph === candidate.subgraph);
    if (clash) {
      reasons.push({ kind: 'composition', organisation, message: `${organisation}: a subgraph named ${candidate.subgraph} is already published by ${clash.org_code}` });
      continue;
    }
    const composed = compose([...members, candidate]);
    if ('errors' in composed) for (const message of composed.errors) reasons.push({ kind: 'composition', organisation, message: `${organisation}: ${message}` });
    else {
      affects.push(organisation);
      if (task.supergraphs) supergraphs[organisation] = composed.supergraph;
    }
  }

  // Breaking changes against the version routers use now.
  const breaking: Analysis['breaking'] = [];
  if (task.previousSdl !== null && reasons.length === 0) {
    try {
      const before: GraphQLSchema = buildSubgraphSchema(parse(task.previousSdl));
      const changes = await diff(before as never, buildSubgraphSchema(document) as never);
      for (const change of changes.filter((c) => c.criticality.level === CriticalityLevel.Breaking)) {
        // Routers report the output fields they serve; a change to anything else (an enum value, an input type) counts as used.
        const type = change.path ? before.getType(change.path.split('.')[0]!) : undefined;
        breaking.push({ message: change.message, ...(change.path ? { path: change.path } : {}), reported: isObjectType(type) || isInterfaceType(type) });
      }
    } catch (error) {
      reasons.push({ kind: 'syntax', message: `the schema cannot be built: ${error instanceof Error ? error.message : String(error)}` });
    }
  }
  return { reasons, affects: reasons.length === 0 ? affects : [], supergraphs: reasons.length === 0 ? supergraphs : {}, breaking };
}

/**
 * A small check of a subgraph against its previous version, run once before the worker says it is ready:
 * the first composition and diff in a process compile and load far more than any later one, and that
 * cost is the worker's, not counted against the first organisation's check time.
 */
async function warmUp(): Promise<void> {
  const sdl = (field: string) => `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])\ntype Query { ${field}: String }\ntype Child @key(fields: "id") { id: ID! }`;
  const member = (text: string): Member => ({ org_code: 'warm-up', subgraph: 'warm-up', url: 'http://warm-up.invalid/graphql', sdl: text });
  await analyse({ candidate: member(sdl('now')), members: [member(sdl('before'))], concerned: ['warm-up'], previousSdl: sdl('before'), limits: { maxTokens: 10_000, maxTypes: 100, maxFields: 1000 }, supergraphs: true }).catch(() => undefined);
}

// As a worker process (registry-workers.ts starts it): one task at a time over IPC, and "ready" once loaded and warmed up.
if (process.env.MAIS_REGISTRY_WORKER === '1' && process.send) {
  await warmUp();
  process.on('message', (message: { id: number; task: AnalyseTask }) => {
    analyse(message.task).then(
      (result) => process.send!({ id: message.id, result }),
      (error: unknown) => process.send!({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
    );
  });
  process.send({ ready: true });
}
