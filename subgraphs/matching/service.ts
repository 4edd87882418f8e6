// The matching subgraph (MATCH), built from its pieces so tests build the same service on a free port.
import { createSubgraph, type Subgraph } from '../../lib/graphql/subgraph.ts';
import { subgraphSdl } from '../../lib/graphql/standards.ts';
import type { PdsClient } from '../../lib/pds/client.ts';
import type { Context } from './context.ts';
import { Matcher } from './matcher.ts';
import { resolvers } from './resolvers.ts';

export const { typeDefs } = subgraphSdl(new URL('./schema.graphql', import.meta.url));

export function createMatchingService(options: { pds: PdsClient }): Promise<Subgraph> {
  const matcher = new Matcher(options.pds);
  return createSubgraph<Context>({
    typeDefs,
    resolvers,
    context: async (req) => {
      const correlation = req.headers['x-correlation-id'];
      return { pds: options.pds, matcher, ...(typeof correlation === 'string' ? { correlationId: correlation } : {}) };
    },
  });
}
