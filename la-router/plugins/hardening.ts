// What a router facing caseworkers adds to stock Apollo: limits on each operation's depth, aliases, cost
// and size (graphql-armor), a per-caseworker rate limit, and, when configured, trusted documents (only
// the operations in the LA's manifest run, for its portal).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import { GraphQLError } from 'graphql';
import type { RouterConfig } from '../config.ts';
import type { RouterContext } from '../context.ts';

export function operationLimits(limits: RouterConfig['limits'], production: boolean) {
  return new ApolloArmor({
    maxDepth: { n: limits.depth },
    maxAliases: { n: limits.aliases },
    costLimit: { maxCost: limits.cost },
    maxTokens: { n: limits.tokens },
    blockFieldSuggestion: { enabled: production },
  }).protect();
}

export function rateLimited(retryAfterSeconds: number): GraphQLError {
  // Apollo Server sets the response headers from a Map here (other servers' typings say a record).
  const http = { status: 429, headers: new Map([['retry-after', String(retryAfterSeconds)]]) };
  return new GraphQLError('Too many requests: try again shortly', { extensions: { code: 'RATE_LIMITED', http: http as never } });
}

export const documentHash = (query: string) => createHash('sha256').update(query).digest('hex');

/** Runs only operations whose text is in the manifest (by SHA-256). */
export function useTrustedDocuments(manifestFile: string): ApolloServerPlugin<RouterContext> {
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, string>;
  const trusted = new Set(Object.values(manifest).map(documentHash));
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ source }) {
          if (!trusted.has(documentHash(source ?? ''))) {
            throw new GraphQLError('Only the LA’s registered operations run at this router', { extensions: { code: 'FORBIDDEN', field: 'query', http: { status: 403 } } });
          }
        },
      };
    },
  };
}
