// Removes from the operation, before anything is fetched, every field whose data category the purpose
// or the caseworker's relationship with the child does not permit; the answer then carries null for
// each, with a FORBIDDEN error naming its path, and the rest of the query answers as usual.
import { createHash } from 'node:crypto';
import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import { createRequire } from 'node:module';
import { GraphQLError, Kind, print, type DocumentNode, type GraphQLSchema } from 'graphql';

// The gateway's schema comes from graphql's CommonJS build; walking it needs that same build, or
// graphql's instanceof checks refuse the schema as coming from "another realm".
const { TypeInfo, visit, visitWithTypeInfo, getNamedType } = createRequire(import.meta.url)('graphql') as typeof import('graphql');
import type { RouterContext } from '../context.ts';
import { permits } from '../categories.ts';

export interface Withheld {
  path: string[];
  category: string;
  reason: 'purpose' | 'relationship';
}

/** The operation without the withheld fields, and where they were. */
export function withholdFields(schema: GraphQLSchema, document: DocumentNode, allowed: (category: string) => ReturnType<typeof permits>, categories: Map<string, string>): { document: DocumentNode; withheld: Withheld[]; hash?: string } {
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

const rewrites = new WeakMap<Map<string, string>, Map<string, { document: DocumentNode; withheld: Withheld[]; hash?: string }>>();

export interface MinimiseOptions {
  purposes: Record<string, string[]>;
  categories: () => Map<string, string>;
}

/**
 * Rewrites the request's operation without the fields its purpose and decision do not permit. Called by
 * the authorization plugin once it has decided (plugins' hooks of one stage run concurrently).
 */
export function minimiseOperation(requestContext: GraphQLRequestContext<RouterContext>, options: MinimiseOptions): void {
  const { contextValue, schema } = requestContext;
  if (!requestContext.document) return;
  // The same operation for the same purpose and decision is rewritten the same way: do it once per
  // supergraph (a new supergraph brings a new categories map, and a new cache).
  const categories = options.categories();
  let cache = rewrites.get(categories);
  if (!cache) rewrites.set(categories, (cache = new Map()));
  const key = `${requestContext.queryHash}|${requestContext.operationName ?? ''}|${contextValue.purpose}|${contextValue.decision}`;
  let result = cache.get(key);
  if (!result) {
    result = withholdFields(schema, requestContext.document, (category) => permits({ purposes: options.purposes, purpose: contextValue.purpose, decision: contextValue.decision }, category), categories);
    if (cache.size >= 1000) cache.clear();
    cache.set(key, result);
  }
  contextValue.withheldFields = result.withheld;
  contextValue.withheld = result.withheld.map((w) => w.path.join('.'));
  if (result.withheld.length === 0) return;
  // The gateway plans by the query's hash: the rewritten operation is a different query.
  const mutable = requestContext as unknown as { document: DocumentNode; queryHash: string };
  mutable.document = result.document;
  result.hash ??= createHash('sha256').update(print(result.document)).digest('hex');
  mutable.queryHash = result.hash;
}

/** Puts null and a FORBIDDEN error in the answer for each withheld field. */
export function useWithheldInResponse(): ApolloServerPlugin<RouterContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          const withheld = contextValue.withheldFields ?? [];
          if (withheld.length === 0 || response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          if (result.data) for (const w of withheld) nullAt(result.data, w.path);
          const errors = withheld.map(
            (w) => new GraphQLError(`withheld for this ${w.reason === 'purpose' ? 'purpose' : 'caseworker'} (${w.category})`, { path: w.path, extensions: { code: 'FORBIDDEN', field: w.path.join('.'), category: w.category, reason: w.reason } }).toJSON(),
          );
          result.errors = [...(result.errors ?? []), ...errors];
        },
      };
    },
  };
}
