// The csc subgraph: the LA's children's social care data (SSD tables), built from its pieces so tests
// build the same service on a free port.
import type { Server } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import DataLoader from 'dataloader';
import type { LocalClient } from '../../lib/db/store.ts';
import { formatError } from '../../lib/graphql/errors.ts';
import { createGraphQLServer } from '../../lib/graphql/http.ts';
import { routerClaims } from '../../lib/graphql/internal-auth.ts';
import type { useInternalTokenVerifier } from '../../lib/internal-token.ts';
import type { Context } from './context.ts';
import { personsByNhsNumber } from './person.ts';
import { resolvers } from './resolvers.ts';
import { cscTypeDefs } from './sdl.ts';

export interface CscServiceOptions {
  prisma: LocalClient;
  /** Verifies the LA router's internal token (audience: this subgraph). */
  verifier: ReturnType<typeof useInternalTokenVerifier>;
}

export async function createCscService(options: CscServiceOptions): Promise<{ server: Server; apollo: ApolloServer<Context> }> {
  const apollo = new ApolloServer<Context>({
    schema: buildSubgraphSchema({ typeDefs: cscTypeDefs, resolvers: resolvers as never }),
    formatError,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    stopOnTerminationSignals: false,
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  await apollo.start();
  const server = createGraphQLServer<Context>({
    apollo,
    context: async (req) => ({
      prisma: options.prisma,
      claims: await routerClaims(options.verifier, req),
      persons: new DataLoader(async (keys: readonly string[]) => {
        const byNhs = await personsByNhsNumber(options.prisma, keys);
        return keys.map((key) => byNhs.get(key) ?? []);
      }),
    }),
  });
  return { server, apollo };
}
