// The matching subgraph (MATCH), built from its pieces so tests build the same service on a free port.
// It answers organisations presenting a DfE access token for mais:dfe:matching, and nobody else.
import { GraphQLError } from 'graphql';
import type { JSONWebKeySet } from 'jose';
import { DfeTokenError, MATCHING_AUDIENCE, useDfeTokenVerifier } from '../../lib/dfe-token.ts';
import { createSubgraph, type Subgraph } from '../../lib/graphql/subgraph.ts';
import { subgraphSdl } from '../../lib/graphql/standards.ts';
import type { PdsClient } from '../../lib/pds/client.ts';
import type { Context } from './context.ts';
import { Matcher } from './matcher.ts';
import { resolvers } from './resolvers.ts';

export const { typeDefs } = subgraphSdl(new URL('./schema.graphql', import.meta.url));

export { MATCHING_AUDIENCE };

export function createMatchingService(options: { pds: PdsClient; dfe: { issuer: string; jwks: JSONWebKeySet | URL } }): Promise<Subgraph> {
  const matcher = new Matcher(options.pds);
  const verifier = useDfeTokenVerifier({ ...options.dfe, audience: MATCHING_AUDIENCE });
  return createSubgraph<Context>({
    typeDefs,
    resolvers,
    context: async (req) => {
      try {
        await verifier.verify(req.headers.authorization);
      } catch (error) {
        if (!(error instanceof DfeTokenError)) throw error;
        throw new GraphQLError(`MATCH needs a DfE access token for ${MATCHING_AUDIENCE} (from DfE’s token endpoint)`, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
      }
      const correlation = req.headers['x-correlation-id'];
      return { pds: options.pds, matcher, ...(typeof correlation === 'string' ? { correlationId: correlation } : {}) };
    },
  });
}
