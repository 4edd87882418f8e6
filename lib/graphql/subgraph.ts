// Every MAIS subgraph is served the same way: Apollo Server over node:http, errors masked to stable
// codes, no stack traces, CSRF prevention, no per-field timings for routers, and stopped in order by
// its own main rather than by Apollo's signal handlers.
import type { IncomingMessage, Server } from 'node:http';
import { createRequire } from 'node:module';
import { ApolloServer, type BaseContext } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, Kind, valueFromASTUntyped, type DocumentNode } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import { formatError, useOperationChecks } from './errors.ts';
import { createGraphQLServer, type GraphQLHttpOptions } from './http.ts';

// @apollo/subgraph builds its schema with the CommonJS graphql: its types are checked with that module's predicates.
const { isObjectType } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

export interface Subgraph {
  server: Server;
  /** Stops accepting, closes connections and stops Apollo. */
  stop(): Promise<void>;
}

export async function createSubgraph<C extends BaseContext>(options: {
  typeDefs: DocumentNode;
  resolvers: unknown;
  context: (req: IncomingMessage) => Promise<C>;
  /** Largest request body accepted (default 256 KiB). */
  maxBodyBytes?: number;
  routes?: GraphQLHttpOptions<C>['routes'];
  /** Apollo Server plugins of the service's own, after the common ones. */
  plugins?: ApolloServerPlugin<C>[];
}): Promise<Subgraph> {
  const apollo = new ApolloServer<C>({
    schema: buildSubgraphSchema({ typeDefs: options.typeDefs, resolvers: options.resolvers as never }),
    formatError,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    stopOnTerminationSignals: false,
    plugins: [ApolloServerPluginInlineTraceDisabled(), useOperationChecks(), useRepresentationChecks(), ...(options.plugins ?? [])],
  });
  await apollo.start();
  const server = createGraphQLServer<C>({ apollo, context: options.context, ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}), ...(options.routes ? { routes: options.routes } : {}) });
  return {
    server,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await apollo.stop();
    },
  };
}

/**
 * Refuses `_entities` representations that are not entities of this schema (objects naming an object
 * type in `__typename`) as BAD_USER_INPUT before execution: @apollo/subgraph fails them inside, which
 * reaches callers as INTERNAL_SERVER_ERROR.
 */
function useRepresentationChecks(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, request, schema }) {
          for (const selection of operation?.selectionSet.selections ?? []) {
            if (selection.kind !== Kind.FIELD || selection.name.value !== '_entities') continue;
            const argument = selection.arguments?.find((a) => a.name.value === 'representations');
            const representations = argument ? valueFromASTUntyped(argument.value, request.variables ?? {}) : undefined;
            const valid =
              Array.isArray(representations) &&
              representations.every((r) => r !== null && typeof r === 'object' && !Array.isArray(r) && typeof (r as { __typename?: unknown }).__typename === 'string' && isObjectType(schema.getType((r as { __typename: string }).__typename)));
            if (!valid) throw new GraphQLError('Each representation is an object naming one of this subgraph’s entity types in __typename', { extensions: { code: 'BAD_USER_INPUT', field: 'representations', http: { status: 400 } } });
          }
        },
      };
    },
  };
}
