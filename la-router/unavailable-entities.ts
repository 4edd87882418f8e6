// What an entity fetch answers when its source is unavailable. GraphQL nulls a failed field and, where
// the field is non-null, its parent too: a contract list such as `Child.locations: [RecordLocation!]!`
// failing would take the whole child, local records included, with it. So for a source that does not
// answer, each entity gets an empty list for its non-null list fields and null for its nullable ones,
// beside the SOURCE_UNAVAILABLE error naming the source; only a non-null field of another kind is left
// to fail as GraphQL says.
import { Kind, parse, type DocumentNode, type GraphQLError, type SelectionSetNode } from 'graphql';

/** `Type.field` → how a field may stand in for a source that did not answer, read from the supergraph. */
export type FieldShapes = Map<string, 'nullable' | 'non-null list' | 'non-null'>;

export function fieldShapes(supergraphSdl: string): FieldShapes {
  const shapes: FieldShapes = new Map();
  for (const definition of parse(supergraphSdl).definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    for (const field of definition.fields ?? []) {
      const type = field.type;
      shapes.set(`${definition.name.value}.${field.name.value}`, type.kind !== Kind.NON_NULL_TYPE ? 'nullable' : type.type.kind === Kind.LIST_TYPE ? 'non-null list' : 'non-null');
    }
  }
  return shapes;
}

const parsed = new Map<string, DocumentNode | null>();
function document(query: string): DocumentNode | null {
  let doc = parsed.get(query);
  if (doc === undefined) {
    try {
      doc = parse(query);
    } catch {
      doc = null;
    }
    if (parsed.size > 1000) parsed.clear();
    parsed.set(query, doc);
  }
  return doc;
}

/** The stand-in for one entity of each type asked for, or null when some field cannot stand in. */
function standIns(selections: SelectionSetNode, shapes: FieldShapes): Map<string, Record<string, unknown>> | null {
  const byType = new Map<string, Record<string, unknown>>();
  for (const selection of selections.selections) {
    if (selection.kind !== Kind.INLINE_FRAGMENT || !selection.typeCondition) return null;
    const type = selection.typeCondition.name.value;
    const entity: Record<string, unknown> = byType.get(type) ?? { __typename: type };
    for (const field of selection.selectionSet.selections) {
      if (field.kind !== Kind.FIELD) return null;
      const key = field.alias?.value ?? field.name.value;
      if (field.name.value === '__typename') continue;
      const shape = shapes.get(`${type}.${field.name.value}`);
      if (shape === 'non-null list') entity[key] = [];
      else if (shape === 'nullable') entity[key] = null;
      else return null;
    }
    byType.set(type, entity);
  }
  return byType;
}

/**
 * For an `_entities` fetch whose source failed with `error`: data giving each representation its
 * stand-in, with the error; null when the fetch is not an entity fetch or cannot stand in.
 */
export function unavailableEntities(query: string, variables: Record<string, unknown> | undefined, shapes: FieldShapes, error: GraphQLError): { data: { _entities: unknown[] }; errors: GraphQLError[] } | null {
  const doc = document(query);
  const operation = doc?.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (!operation || operation.kind !== Kind.OPERATION_DEFINITION || operation.operation !== 'query') return null;
  const [root] = operation.selectionSet.selections;
  if (operation.selectionSet.selections.length !== 1 || root?.kind !== Kind.FIELD || root.name.value !== '_entities' || !root.selectionSet) return null;
  const representations = variables?.representations;
  if (!Array.isArray(representations)) return null;
  const byType = standIns(root.selectionSet, shapes);
  if (!byType) return null;
  const entities = representations.map((r) => {
    const type = (r as { __typename?: string })?.__typename ?? '';
    return byType.get(type) ?? null;
  });
  return { data: { _entities: entities }, errors: [error] };
}
