// What a router facing caseworkers adds to stock Apollo: limits on each operation's depth, aliases, cost
// and size (graphql-armor) and a per-caseworker rate limit (trusted documents: ./trusted-documents.ts).
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { RouterConfig } from '../config.ts';

export function operationLimits(limits: RouterConfig['limits'], production: boolean) {
  const armor = new ApolloArmor({
    maxDepth: { n: limits.depth },
    maxAliases: { n: limits.aliases },
    costLimit: { maxCost: limits.cost },
    // graphql-armor's token limit parses in a plugin hook, which turns every syntax error into a 500
    // (Escape-Technologies/graphql-armor#571); graphql-js's own parser limit gives the 400 GRAPHQL_PARSE_FAILED.
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: production },
  }).protect();
  return { ...armor, parseOptions: { maxTokens: limits.tokens } };
}

export function rateLimited(retryAfterSeconds: number): GraphQLError {
  // Apollo Server sets the response headers from a Map here (other servers' typings say a record).
  const http = { status: 429, headers: new Map([['retry-after', String(retryAfterSeconds)]]) };
  return new GraphQLError('Too many requests: try again shortly', { extensions: { code: 'RATE_LIMITED', http: http as never } });
}

/**
 * A source's RATE_LIMITED (MATCH, when a caseworker is past their share of the PDS allowance) carries the
 * seconds to wait in `retryAfter`; the answer says it as Retry-After too, the longest any error names.
 * The rest of the answer stands: the status stays 200.
 */
export function useSourceRetryAfter(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          let wait = 0;
          for (const error of errors ?? []) {
            const seconds = error.extensions?.retryAfter;
            if (error.extensions?.code === 'RATE_LIMITED' && Number.isInteger(seconds) && (seconds as number) > 0) wait = Math.max(wait, Math.min(seconds as number, 3600));
          }
          if (wait > 0 && !response.http.headers.has('retry-after')) response.http.headers.set('retry-after', String(wait));
        },
      };
    },
  };
}
