// The matching subgraph (MATCH), built from its pieces so tests build the same service on a free port.
// It answers organisations presenting a DfE access token for mais:dfe:matching, and nobody else, and
// writes every search and every read of a child's demographics to DfE's central audit, under the child's
// pseudonym, before it answers.
import { GraphQLError } from 'graphql';
import type { JSONWebKeySet, JWK } from 'jose';
import { useReceiptSigner } from '../../lib/match-receipt.ts';
import { AuditWriter, CENTRAL_AUDIT } from '../../lib/audit/chain.ts';
import type { SqlConnection } from '../../lib/db/sql.ts';
import { DfeScopeError, DfeTokenError, useDfeTokenVerifier } from '../../lib/dfe-token.ts';
import { MATCHING_AUDIENCE } from '../../schema/audiences.ts';
import { CALLER_HEADER, PURPOSE_HEADER, TIMEOUT_HEADER } from '../../schema/headers.ts';
import { sourceUnavailable } from '../../lib/graphql/errors.ts';
import type { CentralDirectory } from '../../gateway/directory.ts';
import { createSubgraph, type Subgraph } from '../../lib/graphql/subgraph.ts';
import { subgraphSdl } from '../../lib/graphql/standards.ts';
import type { PdsClient } from './pds/client.ts';
import { METRICS_PATH, MetricsEndpoint, type MetricsExposure } from '../../lib/service/metrics-endpoint.ts';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Context } from './context.ts';
import { Matcher } from './matcher.ts';
import { resolvers } from './resolvers.ts';

export const { typeDefs } = subgraphSdl(new URL('./schema.graphql', import.meta.url));

const CALLER_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** A request refused (400 BAD_USER_INPUT) for a header that is not as MATCH takes it. */
const badHeader = (header: string, what: string) => new GraphQLError(`The ${header} header ${what}`, { extensions: { code: 'BAD_USER_INPUT', field: header, http: { status: 400 } } });

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
  /** Where /metrics is served, and to whom (lib/service/metrics-endpoint.ts); not served without it. */
  metrics?: MetricsExposure;
}

/** MATCH's metrics: PDS calls by the organisation they were made for, and calls waiting for the allowance. */
function matchMetrics(pds: PdsClient) {
  const registry = new Registry();
  new Counter({
    name: 'mais_match_pds_calls_total',
    help: 'Requests sent to PDS (retries included), by the organisation they were made for ("none": for no organisation)',
    labelNames: ['organisation'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [organisation, count] of pds.stats.requestsByOrganisation) this.labels(organisation || 'none').inc(count);
    },
  });
  new Gauge({
    name: 'mais_match_pds_waiting',
    help: 'Calls waiting for their share of the PDS allowance, by organisation',
    labelNames: ['organisation'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [organisation, count] of Object.entries(pds.waiting)) this.labels(organisation || 'none').set(count);
    },
  });
  return registry;
}

export async function createMatchingService(options: MatchingServiceOptions): Promise<Subgraph> {
  const registry = matchMetrics(options.pds);
  const metrics = new MetricsEndpoint(options.metrics ?? {}, async () => ({ contentType: registry.contentType, text: await registry.metrics() }));
  const matcher = new Matcher(options.pds);
  const { directory } = options;
  const verifier = useDfeTokenVerifier({ ...options.dfe, audience: MATCHING_AUDIENCE, organisation: (code) => directory.organisations.get(code) });
  const writer = new AuditWriter(options.sql, CENTRAL_AUDIT);
  const receipts = useReceiptSigner(options.receiptKey);
  await metrics.start();
  const subgraph = await createSubgraph<Context>({
    typeDefs,
    resolvers,
    routes: (req, res, url) => {
      if (url.pathname !== METRICS_PATH) return false;
      metrics.answer(req, res);
      return true;
    },
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
      // Who in the organisation asked, as its router names them (an opaque name): their share of the organisation's.
      const named = req.headers[CALLER_HEADER];
      if (named !== undefined && (typeof named !== 'string' || !CALLER_NAME.test(named))) {
        throw badHeader(CALLER_HEADER, 'must be 1 to 64 letters, digits, "-" or "_"');
      }
      const callerName = named;
      // How long the caller will wait for the answer (its router's deadline): calls still waiting for the
      // PDS allowance by then are refused RATE_LIMITED, leaving time to answer, rather than sent too late.
      const timeout = req.headers[TIMEOUT_HEADER];
      if (timeout !== undefined && (typeof timeout !== 'string' || !/^\d{1,6}$/.test(timeout) || Number(timeout) < 1)) {
        throw badHeader(TIMEOUT_HEADER, 'must be a whole number of milliseconds, 1 to 999999');
      }
      const answerBy = timeout === undefined ? undefined : Date.now() + Number(timeout) - Math.min(500, Number(timeout) / 4);
      const header = req.headers[PURPOSE_HEADER];
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
      const pdsCall = { share: { organisation: caller.code, ...(callerName ? { caller: callerName } : {}) }, ...(answerBy !== undefined ? { answerBy } : {}), ...(typeof correlation === 'string' ? { correlationId: correlation } : {}) };
      return { pds: options.pds, matcher, caller, purpose, audit, receipts, pdsCall };
    },
  });
  return {
    server: subgraph.server,
    async stop() {
      await metrics.stop();
      await subgraph.stop();
    },
  };
}
