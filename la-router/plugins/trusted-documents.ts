// Trusted documents: an application's operations, extracted when it is built into a manifest, are the
// only ones it may run. The router reads Apollo's persisted query manifest (what
// @apollo/generate-persisted-query-manifest writes; the portal's is portal/dist/persisted-query-manifest.json)
// or a plain `{ "name": "query text" }` map; it runs an operation sent by id alone (Apollo's persisted
// query protocol) and refuses, for the callers a manifest binds, any operation whose text is not in it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ApolloServerPlugin } from '@apollo/server';
import { InMemoryLRUCache, type KeyValueCache } from '@apollo/utils.keyvaluecache';
import { GraphQLError } from 'graphql';
import type { Caller, RouterContext } from '../context.ts';

export const documentHash = (query: string) => createHash('sha256').update(query).digest('hex');

/** A manifest's operations: id → text. */
export type TrustedDocuments = Map<string, string>;

interface PersistedQueryManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: { id: string; name: string; type: string; body: string }[];
}

/** Reads a manifest; throws with the file named when it is neither form. */
export function loadTrustedDocuments(file: string): TrustedDocuments {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the trusted documents manifest ${file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const manifest = parsed as Partial<PersistedQueryManifest> & Record<string, unknown>;
  if (manifest.format === 'apollo-persisted-query-manifest') {
    if (manifest.version !== 1 || !Array.isArray(manifest.operations) || !manifest.operations.every((o) => typeof o?.id === 'string' && typeof o?.body === 'string')) {
      throw new Error(`${file} is not a version 1 persisted query manifest with an id and body for each operation`);
    }
    return new Map(manifest.operations.map((o) => [o.id, o.body]));
  }
  const entries = Object.values(manifest);
  if (entries.length === 0 || !entries.every((body) => typeof body === 'string')) throw new Error(`${file} is neither a persisted query manifest nor a map of operation names to query text`);
  return new Map((entries as string[]).map((body) => [documentHash(body), body]));
}

/**
 * Apollo Server's persisted-query cache, answering first from the manifests (so an operation sent by
 * id alone runs), then from a bounded cache of what other clients registered.
 */
export function trustedDocumentCache(manifests: readonly TrustedDocuments[]): KeyValueCache<string> {
  const registered = new InMemoryLRUCache<string>({ maxSize: 8 * 1024 * 1024 });
  const PREFIX = 'apq:';
  const fromManifest = (key: string) => (key.startsWith(PREFIX) ? manifests.map((m) => m.get(key.slice(PREFIX.length))).find((body) => body !== undefined) : undefined);
  return {
    get: async (key) => fromManifest(key) ?? registered.get(key),
    set: async (key, value, options) => void (fromManifest(key) === undefined && (await registered.set(key, value, options))),
    delete: async (key) => registered.delete(key),
  };
}

/**
 * Runs, for the callers `binds` picks, only operations whose text is in the manifest. Apollo Server has
 * already hashed each request (`queryHash`: SHA-256 of the text, or, for an operation sent by id, the id
 * its text was found under, which for a manifest's id is that manifest's text), so the check is a lookup.
 */
export function useTrustedDocuments(documents: TrustedDocuments, binds: (caller: Caller | null) => boolean, who: string): ApolloServerPlugin<RouterContext> {
  const trusted = new Set([...documents.keys(), ...[...documents.values()].map(documentHash)]);
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ queryHash, contextValue }) {
          if (binds(contextValue.caller) && !trusted.has(queryHash ?? '')) {
            throw new GraphQLError(`Only ${who}’s registered operations run at this router`, { extensions: { code: 'FORBIDDEN', field: 'query', http: { status: 403 } } });
          }
        },
      };
    },
  };
}
