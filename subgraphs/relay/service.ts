// The relay subgraph, served by DfE's gateway behind its own edge checks (gateway/server.ts). It takes
// only DfE access tokens for mais:dfe:relay, and the asking organisation from the token.
import { GraphQLError } from 'graphql';
import type { JSONWebKeySet } from 'jose';
import { DfeScopeError, DfeTokenError, useDfeTokenVerifier } from '../../lib/dfe-token.ts';
import { createSubgraph, type Subgraph } from '../../lib/graphql/subgraph.ts';
import { subgraphSdl } from '../../lib/graphql/standards.ts';
import { RELAY_AUDIENCE } from '../../schema/audiences.ts';
import { PURPOSE_HEADER } from '../../schema/headers.ts';
import type { CentralDirectory } from '../../gateway/directory.ts';
import type { Context } from './context.ts';
import type { Relay } from './relay.ts';
import { resolvers } from './resolvers.ts';

export const { sdl: relaySdl, typeDefs: relayTypeDefs } = subgraphSdl(new URL('./schema.graphql', import.meta.url));

export function createRelayService(options: { relay: Relay; directory: CentralDirectory; dfe: { issuer: string; jwks: JSONWebKeySet | URL } }): Promise<Subgraph> {
  const verifier = useDfeTokenVerifier({ ...options.dfe, audience: RELAY_AUDIENCE, organisation: (code) => options.directory.organisations.get(code) });
  return createSubgraph<Context>({
    typeDefs: relayTypeDefs,
    resolvers,
    context: async (req) => {
      let caller;
      try {
        caller = await verifier.verify(req.headers.authorization);
      } catch (error) {
        if (error instanceof DfeScopeError) throw new GraphQLError(error.message, { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
        if (!(error instanceof DfeTokenError)) throw error;
        throw new GraphQLError(`The relay needs a DfE access token for ${RELAY_AUDIENCE}`, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
      }
      const header = req.headers[PURPOSE_HEADER];
      return { caller, purpose: typeof header === 'string' && header.length > 0 ? header : null, relay: options.relay };
    },
  });
}
