// The policy's withhold step: removes from the operation, before anything is fetched, every field whose
// data category the purpose or the caseworker's relationship with the child does not permit; the answer
// then carries null for each, with a FORBIDDEN error naming its path, and the rest answers as usual.
import { createRequire } from 'node:module';
import { GraphQLError, Kind, type DocumentNode, type GraphQLSchema } from 'graphql';

// The gateway's schema comes from graphql's CommonJS build; walking it needs that same build, or
// graphql's instanceof checks refuse the schema as coming from "another realm".
const { TypeInfo, visit, visitWithTypeInfo, getNamedType } = createRequire(import.meta.url)('graphql') as typeof import('graphql');
import type { permits } from '../categories.ts';

export interface Withheld {
  path: string[];
  category: string;
  reason: 'purpose' | 'relationship';
}

/** The operation without the withheld fields, and where they were. */
export function withholdFields(schema: GraphQLSchema, document: DocumentNode, allowed: (category: string) => ReturnType<typeof permits>, categories: Map<string, string>): { document: DocumentNode; withheld: Withheld[] } {
  const typeInfo = new TypeInfo(schema);
  const withheld: Withheld[] = [];
  const path: string[] = [];
  const rewritten = visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field: {
        enter(node) {
          const parent = typeInfo.getParentType();
          const category = parent ? categories.get(`${getNamedType(parent).name}.${node.name.value}`) : undefined;
          const key = node.alias?.value ?? node.name.value;
          if (category) {
            const decision = allowed(category);
            if (!decision.allowed) {
              withheld.push({ path: [...path, key], category, reason: decision.reason! });
              return null;
            }
          }
          path.push(key);
          return undefined;
        },
        leave(node) {
          path.pop();
          // A selection emptied by removals still needs a field to be a valid query.
          if (node.selectionSet && node.selectionSet.selections.length === 0) {
            return { ...node, selectionSet: { ...node.selectionSet, selections: [{ kind: Kind.FIELD, name: { kind: Kind.NAME, value: '__typename' } }] } };
          }
          return undefined;
        },
      },
    }),
  );
  // A response key selected twice (fields merged, as execution merges them) is withheld once.
  const unique = [...new Map(withheld.map((w) => [w.path.join('.'), w])).values()];
  return { document: rewritten, withheld: unique };
}

/** Sets `path` to null in the response data, through lists, where the parent exists. */
function nullAt(data: unknown, path: string[]): void {
  if (data === null || data === undefined) return;
  if (Array.isArray(data)) return data.forEach((item) => nullAt(item, path));
  if (typeof data !== 'object') return;
  const [head, ...rest] = path;
  const record = data as Record<string, unknown>;
  if (rest.length === 0) record[head!] = null;
  else nullAt(record[head!], rest);
}

/** Null at each withheld path of the answer, and a FORBIDDEN error saying why. */
export function answerWithheld(result: { data?: Record<string, unknown> | null; errors?: readonly unknown[] }, withheld: readonly Withheld[]): void {
  if (withheld.length === 0) return;
  if (result.data) for (const w of withheld) nullAt(result.data, w.path);
  const errors = withheld.map(
    (w) => new GraphQLError(`withheld for this ${w.reason === 'purpose' ? 'purpose' : 'caseworker'} (${w.category})`, { path: w.path, extensions: { code: 'FORBIDDEN', field: w.path.join('.'), category: w.category, reason: w.reason } }).toJSON(),
  );
  result.errors = [...(result.errors ?? []), ...errors];
}
