// The subgraph side of the internal token at the HTTP edge: a request without a valid token from the
// LA router is refused with 401 UNAUTHENTICATED before any resolver runs.
import type { IncomingMessage } from 'node:http';
import { GraphQLError } from 'graphql';
import { InternalTokenError, type InternalClaims, type useInternalTokenVerifier } from '../../lib/internal-token.ts';

export async function routerClaims(verifier: ReturnType<typeof useInternalTokenVerifier>, req: IncomingMessage): Promise<InternalClaims> {
  try {
    return await verifier.verify(req.headers.authorization);
  } catch (error) {
    if (!(error instanceof InternalTokenError)) throw error;
    throw new GraphQLError('Only the LA router may call this subgraph', { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
  }
}
