// The matching subgraph (MATCH), built from its pieces so tests build the same service on a free port.
// It answers organisations presenting a DfE access token for mais:dfe:matching, and nobody else, and
// writes every search and every read of a child's demographics to DfE's central audit, under the child's
// pseudonym, before it answers.
import { GraphQLError } from 'graphql';
import type { JSONWebKeySet, JWK } from 'jose';
import { useReceiptSigner } from '../../lib/match-receipt.ts';
import { AuditWriter, CENTRAL_AUDIT } from '../../lib/audit/chain.ts';
import type { SqlConnection } from '../../lib/db/sql.ts';
import { DfeScopeError, DfeTokenError, MATCHING_AUDIENCE, useDfeTokenVerifier } from '../../lib/dfe-token.ts';
import { sourceUnavailable } from '../../lib/graphql/errors.ts';
import type { CentralDirectory } from '../../lib/register/directory.ts';
import { createSubgraph, type Subgraph } from '../../lib/graphql/subgraph.ts';
import { subgraphSdl } from '../../lib/graphql/standards.ts';
import type { PdsClient } from '../../lib/pds/client.ts';
import type { Context } from './context.ts';
import { Matcher } from './matcher.ts';
import { resolvers } from './resolvers.ts';

export const { typeDefs } = subgraphSdl(new URL('./schema.graphql', import.meta.url));

export { MATCHING_AUDIENCE };

export interface MatchingServiceOptions {
  pds: PdsClient;
  /** Who issues the DfE access tokens callers present, and DfE's public keys (a key set, or the gateway's JWKS URL). */
  dfe: { issuer: string; jwks: JSONWebKeySet | URL };
  /** DfE's central store, for the audit. */
  sql: SqlConnection;
  /** DfE's organisations (a suspended one is refused) and pseudonym keys (the audit names children by pseudonym). */
  directory: CentralDirectory;
  /** MATCH's own private key (ES256, with a kid), which signs the receipts an LA links on; LAs hold its public half. */
  receiptKey: JWK;
  /** Told of each audit write that fails (the request is answered SOURCE_UNAVAILABLE). */
  onAuditFailure?: (error: unknown) => void;
}

export function createMatchingService(options: MatchingServiceOptions): Promise<Subgraph> {
  const matcher = new Matcher(options.pds);
  const { directory } = options;
  const verifier = useDfeTokenVerifier({ ...options.dfe, audience: MATCHING_AUDIENCE, organisation: (code) => directory.organisations.get(code) });
  const writer = new AuditWriter(options.sql, CENTRAL_AUDIT);
  const receipts = useReceiptSigner(options.receiptKey);
  return createSubgraph<Context>({
    typeDefs,
    resolvers,
    context: async (req) => {
      let caller;
      try {
        caller = await verifier.verify(req.headers.authorization);
      } catch (error) {
        if (error instanceof DfeScopeError) throw new GraphQLError(error.message, { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
        if (!(error instanceof DfeTokenError)) throw error;
        throw new GraphQLError(`MATCH needs a DfE access token for ${MATCHING_AUDIENCE} (from DfE’s token endpoint)`, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
      }
      const correlation = req.headers['x-correlation-id'];
      const header = req.headers['mais-purpose'];
      const purpose = typeof header === 'string' && header.length > 0 ? header : null;
      const audit: Context['audit'] = async (entries) => {
        try {
          await writer.append(
            entries.map((entry) => ({
              actor_org: caller.code,
              action: entry.action,
              pseudonym: entry.nhsNumber ? directory.pseudonymsForLookup(entry.nhsNumber).audit : null,
              purpose: entry.purpose ?? purpose,
              decision: entry.decision,
              detail: { ...entry.detail, keyVersion: directory.writeVersion },
            })),
          );
        } catch (error) {
          options.onAuditFailure?.(error);
          throw sourceUnavailable('matching', 'MATCH could not write DfE’s audit, so it does not answer; try again shortly');
        }
      };
      return { pds: options.pds, matcher, caller, purpose, audit, receipts, ...(typeof correlation === 'string' ? { correlationId: correlation } : {}) };
    },
  });
}
