// The matching subgraph (MATCH), built from its pieces so tests build the same service on a free port.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { formatError } from '../../lib/graphql/errors.ts';
import { createGraphQLServer } from '../../lib/graphql/http.ts';
import type { PdsClient } from '../../lib/pds/client.ts';
import type { Context } from './context.ts';
import { Matcher } from './matcher.ts';
import { resolvers } from './resolvers.ts';

const sdl = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');
export const typeDefs = parse(`${sdl('../../schema/common.graphql')}\n${sdl('./schema.graphql')}`);

export async function createMatchingService(options: { pds: PdsClient }): Promise<{ server: Server; apollo: ApolloServer<Context> }> {
  const apollo = new ApolloServer<Context>({
    schema: buildSubgraphSchema({ typeDefs, resolvers: resolvers as never }),
    formatError,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    // The service's own main stops it on SIGINT/SIGTERM, in order; Apollo must not race it.
    stopOnTerminationSignals: false,
    // Timings per field are not sent to routers: nothing outside DfE needs them.
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  await apollo.start();
  const matcher = new Matcher(options.pds);
  const server = createGraphQLServer<Context>({
    apollo,
    context: async (req) => {
      const correlation = req.headers['x-correlation-id'];
      return { pds: options.pds, matcher, ...(typeof correlation === 'string' ? { correlationId: correlation } : {}) };
    },
  });
  return { server, apollo };
}
