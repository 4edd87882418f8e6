// The education subgraph: the LA's school enrolment, attendance and exclusion records.
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
import { pupilsByNhsNumber } from './pupil.ts';
import { resolvers } from './resolvers.ts';
import { educationTypeDefs } from './sdl.ts';

export interface EducationServiceOptions {
  prisma: LocalClient;
  verifier: ReturnType<typeof useInternalTokenVerifier>;
  today?: () => Date;
}

export async function createEducationService(options: EducationServiceOptions): Promise<{ server: Server; apollo: ApolloServer<Context> }> {
  const apollo = new ApolloServer<Context>({
    schema: buildSubgraphSchema({ typeDefs: educationTypeDefs, resolvers: resolvers as never }),
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
      today: options.today?.() ?? new Date(),
      pupils: new DataLoader(async (keys: readonly string[]) => {
        const byNhs = await pupilsByNhsNumber(options.prisma, keys);
        return keys.map((key) => byNhs.get(key) ?? []);
      }),
    }),
  });
  return { server, apollo };
}
