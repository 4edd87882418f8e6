// The locator subgraph (FIND), built from its pieces so tests build the same service on a free port.
import type { IncomingMessage } from 'node:http';
import DataLoader from 'dataloader';
import type { JSONWebKeySet } from 'jose';
import { GraphQLError } from 'graphql';
import { AuditWriter, CENTRAL_AUDIT } from '../../lib/audit/chain.ts';
import type { SqlConnection } from '../../lib/db/sql.ts';
import { sourceUnavailable } from '../../lib/graphql/errors.ts';
import { createSubgraph, type Subgraph } from '../../lib/graphql/subgraph.ts';
import { subgraphSdl } from '../../lib/graphql/standards.ts';
import { LOCATOR_AUDIENCE } from '../../schema/audiences.ts';
import { PURPOSE_HEADER } from '../../schema/headers.ts';
import { DfeScopeError, DfeTokenError, useDfeTokenVerifier } from '../../lib/dfe-token.ts';
import type { Context } from './context.ts';
import { StaleDirectoryError, type CentralDirectory } from '../../gateway/directory.ts';
import { lookupLocations } from './lookup.ts';
import { resolvers } from './resolvers.ts';

export const { sdl: locatorSdl, typeDefs: locatorTypeDefs } = subgraphSdl(new URL('./schema.graphql', import.meta.url));

export interface LocatorServiceOptions {
  sql: SqlConnection;
  directory: CentralDirectory;
  /** Pointers unconfirmed for longer than this are stale (default 30 days). */
  staleAfterDays?: number;
  /** Who issues the DfE access tokens callers present, and DfE's public keys (a key set, or the gateway's JWKS URL). */
  dfe: { issuer: string; jwks: JSONWebKeySet | URL };
  audience?: string;
  now?: () => number;
}

export function createLocatorService(options: LocatorServiceOptions): Promise<Subgraph> {
  const now = options.now ?? Date.now;
  const verifier = useDfeTokenVerifier({ ...options.dfe, audience: options.audience ?? LOCATOR_AUDIENCE, organisation: (code) => options.directory.organisations.get(code) });
  const staleAfterMs = (options.staleAfterDays ?? 30) * 86_400_000;
  const audit = new AuditWriter(options.sql, CENTRAL_AUDIT);
  return createSubgraph<Context>({
    typeDefs: locatorTypeDefs,
    resolvers,
    // 10,000 registrations a call.
    maxBodyBytes: 8 * 1024 * 1024,
    routes: (_req, res, url) => {
      if (url.pathname !== '/ready') return false;
      // Ready only while the data sharing agreements are known to be current.
      const status = options.directory.status;
      const body = JSON.stringify({ status: status.fresh ? 'pass' : 'fail', directory: status });
      res.writeHead(status.fresh ? 200 : 503, { 'content-type': 'application/json' });
      res.end(body);
      return true;
    },
    context: async (req: IncomingMessage) => {
      let caller;
      try {
        caller = await verifier.verify(req.headers.authorization);
      } catch (error) {
        if (error instanceof DfeScopeError) throw new GraphQLError(error.message, { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
        if (!(error instanceof DfeTokenError)) throw error;
        throw new GraphQLError('FIND needs a DfE access token for mais:dfe:locator (from DfE’s token endpoint)', { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
      }
      const header = req.headers[PURPOSE_HEADER];
      const purpose = typeof header === 'string' && header.length > 0 ? header : null;
      const context: Context = {
        caller,
        purpose,
        directory: options.directory,
        sql: options.sql,
        staleAfterMs,
        now,
        locations: new DataLoader(async (nhsNumbers: readonly string[]) => {
          try {
            return await lookupLocations(options.sql, options.directory, audit, { caller, purpose: purpose!, nhsNumbers, at: now() });
          } catch (error) {
            if (error instanceof StaleDirectoryError) throw sourceUnavailable('locator', 'FIND cannot confirm its data sharing agreements are current; try again shortly');
            throw error;
          }
        }),
      };
      return context;
    },
  });
}
