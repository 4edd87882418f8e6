// What an operation will execute, computed as graphql-js executes it: variables coerced with their
// defaults, named fragments inlined, the root fields collected with @skip and @include evaluated
// (graphql-js's own field collection), and each root field's arguments coerced. The router decides,
// withholds and audits on this, never on how the caller spelled the operation; and the gateway is
// handed the operation in the same shape, its root fields written out one by one, so what it plans is
// what was decided on.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import {
  GraphQLError,
  Kind,
  parse,
  print,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

// The gateway's schema comes from graphql's CommonJS build: reading it needs that same build, or
// graphql's instanceof checks refuse the schema as coming from "another realm".
const require = createRequire(import.meta.url);
const graphql = require('graphql') as typeof import('graphql');
const { collectFields } = require('graphql/execution/collectFields.js') as typeof import('graphql/execution/collectFields.js');

/** An operation that expands (fragments inlined) beyond this many selections is refused, not planned. */
export const MAX_EXPANDED_SELECTIONS = 5_000;

export interface ExecutedField {
  /** The response key (the alias, or the field's name). */
  key: string;
  name: string;
  /** The arguments as the field's resolver receives them: coerced, variables' defaults applied. */
  args: Record<string, unknown>;
}

export interface Executed {
  operation: OperationDefinitionNode['operation'];
  fields: ExecutedField[];
  /** The operation to hand the gateway, or undefined when the caller's is already in that shape. */
  document?: { document: DocumentNode; hash: string };
}

const badInput = (message: string, field?: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', ...(field ? { field } : {}), http: { status: 400 } } });

/** The operation with every named fragment spread replaced by an inline fragment of the same type, directives kept. */
function inlineFragments(operation: OperationDefinitionNode, fragments: Map<string, FragmentDefinitionNode>): OperationDefinitionNode {
  let count = 0;
  const inline = (set: SelectionSetNode, within: readonly string[]): SelectionSetNode => ({
    ...set,
    selections: set.selections.map((selection) => {
      if ((count += 1) > MAX_EXPANDED_SELECTIONS) throw badInput(`The operation expands to more than ${MAX_EXPANDED_SELECTIONS} selections`);
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        // Validation has refused unknown and cyclic fragments; this stands guard all the same.
        if (!fragment || within.includes(fragment.name.value)) throw badInput(`Fragment ${selection.name.value} cannot be expanded`);
        return { kind: Kind.INLINE_FRAGMENT, typeCondition: fragment.typeCondition, directives: selection.directives ?? [], selectionSet: inline(fragment.selectionSet, [...within, fragment.name.value]) };
      }
      if (!selection.selectionSet) return selection;
      return { ...selection, selectionSet: inline(selection.selectionSet, within) } as typeof selection;
    }),
  });
  return { ...operation, selectionSet: inline(operation.selectionSet, []) };
}

/** Whether the operation is already what the gateway is handed: plain root fields, no fragments, no directives. */
function isPlain(document: DocumentNode, operation: OperationDefinitionNode): boolean {
  if (document.definitions.length !== 1) return false;
  return operation.selectionSet.selections.every((s) => s.kind === Kind.FIELD && !s.directives?.length);
}

interface Prepared {
  /** The operation, fragments inlined; its root selections are the ones collectFields sees. */
  inlined: OperationDefinitionNode;
  plain: boolean;
  /** Each root field node of the inlined operation (inside its root fragments too), numbered once. */
  ids: Map<FieldNode, number>;
  /** The operation handed on, by which root field nodes were collected. */
  rewrites: Map<string, { document: DocumentNode; hash: string }>;
}

// Documents come from Apollo's document cache: one preparation per document and operation.
const prepared = new WeakMap<DocumentNode, Map<string, Prepared>>();

function prepare(document: DocumentNode, operation: OperationDefinitionNode): Prepared {
  let forDocument = prepared.get(document);
  if (!forDocument) prepared.set(document, (forDocument = new Map()));
  const name = operation.name?.value ?? '';
  let result = forDocument.get(name);
  if (!result) {
    const fragments = new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
    const inlined = inlineFragments(operation, fragments);
    result = { inlined, plain: isPlain(document, operation), ids: rootFieldIds(inlined.selectionSet), rewrites: new Map() };
    forDocument.set(name, result);
  }
  return result;
}

function rootType(schema: GraphQLSchema, operation: OperationDefinitionNode['operation']): GraphQLObjectType | null | undefined {
  return operation === 'query' ? schema.getQueryType() : operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
}

function fieldDefinition(schema: GraphQLSchema, type: GraphQLObjectType, name: string): GraphQLField<unknown, unknown> | undefined {
  if (name === '__schema' && type === schema.getQueryType()) return graphql.SchemaMetaFieldDef;
  if (name === '__type' && type === schema.getQueryType()) return graphql.TypeMetaFieldDef;
  if (name === '__typename') return graphql.TypeNameMetaFieldDef;
  return type.getFields()[name];
}

/**
 * The root fields the operation executes with these variables, their arguments coerced. Refuses with
 * BAD_USER_INPUT variables or arguments that do not coerce, as execution itself would.
 */
export function executedFields(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> = {}): Executed {
  const type = rootType(schema, operation.operation);
  if (!type) throw badInput(`This schema has no ${operation.operation} type`);
  const coerced = graphql.getVariableValues(schema, operation.variableDefinitions ?? [], variables, { maxErrors: 5 });
  if (coerced.errors) throw badInput(coerced.errors[0]!.message);
  const values = coerced.coerced;
  const { inlined, plain, ids, rewrites } = prepare(document, operation);
  const collected = collectFields(schema, {}, values, type, inlined.selectionSet);
  const fields: ExecutedField[] = [];
  const nodes: FieldNode[] = [];
  for (const [key, fieldNodes] of collected) {
    const name = fieldNodes[0]!.name.value;
    const definition = fieldDefinition(schema, type, name);
    if (!definition) throw badInput(`${type.name} has no field ${name}`, name);
    let args: Record<string, unknown>;
    try {
      args = graphql.getArgumentValues(definition, fieldNodes[0]!, values);
    } catch (error) {
      throw badInput(error instanceof Error ? error.message : String(error), name);
    }
    fields.push({ key, name, args });
    nodes.push(...fieldNodes);
  }
  if (plain) return { operation: operation.operation, fields };
  // The root field nodes collected (their @skip/@include already evaluated), written out in order.
  // They are the inlined operation's own nodes, so their numbers name which were collected.
  const signature = nodes.map((node) => ids.get(node)).join(',');
  let rewrite = rewrites.get(signature);
  if (!rewrite) {
    const selections = nodes.map((node): FieldNode => ({ ...node, directives: (node.directives ?? []).filter((d) => d.name.value !== 'skip' && d.name.value !== 'include') }));
    // Nothing executes: a selection set cannot be empty, so one field that is always skipped.
    if (selections.length === 0) selections.push((parse('{ __typename @skip(if: true) }').definitions[0] as OperationDefinitionNode).selectionSet.selections[0] as FieldNode);
    const next: DocumentNode = { kind: Kind.DOCUMENT, definitions: [{ ...inlined, selectionSet: { kind: Kind.SELECTION_SET, selections } }] };
    rewrite = { document: next, hash: createHash('sha256').update(print(next)).digest('hex') };
    if (rewrites.size >= 64) rewrites.clear();
    rewrites.set(signature, rewrite);
  }
  return { operation: operation.operation, fields, document: rewrite };
}

/** Numbers the field nodes of a root selection set, those inside its inline fragments included. */
function rootFieldIds(set: SelectionSetNode): Map<FieldNode, number> {
  const ids = new Map<FieldNode, number>();
  const walk = (selections: SelectionSetNode['selections']): void => {
    for (const s of selections) {
      if (s.kind === Kind.FIELD) ids.set(s, ids.size);
      else if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet.selections);
    }
  };
  walk(set.selections);
  return ids;
}
