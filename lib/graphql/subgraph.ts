// Every MAIS subgraph is served the same way: Apollo Server over node:http, errors masked to stable
// codes, no stack traces, CSRF prevention, no per-field timings for routers, and stopped in order by
// its own main rather than by Apollo's signal handlers.
import type { IncomingMessage, Server } from 'node:http';
import { ApolloServer, type BaseContext } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { DocumentNode } from 'graphql';
import { formatError } from './errors.ts';
import { createGraphQLServer, type GraphQLHttpOptions } from './http.ts';

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
}): Promise<Subgraph> {
  const apollo = new ApolloServer<C>({
    schema: buildSubgraphSchema({ typeDefs: options.typeDefs, resolvers: options.resolvers as never }),
    formatError,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    stopOnTerminationSignals: false,
    plugins: [ApolloServerPluginInlineTraceDisabled()],
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
