// The LA router: @apollo/gateway inside @apollo/server, its subgraph requests shaped by MaisDataSource,
// served over node:http with /health and /ready. Built from its pieces so tests build the same router.
import type { DfeCredential } from './data-source.ts';
import { clientAddress, trustProxies } from '../lib/service/client-address.ts';
import { METRICS_PATH, MetricsEndpoint, type MetricsExposure } from '../lib/service/metrics-endpoint.ts';
import { activeTraceId, newTraceId } from '../lib/trace-context.ts';
import type { Server } from 'node:http';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { AuditWriter, LA_AUDIT } from '../lib/audit/chain.ts';
import type { SqlConnection } from '../lib/db/sql.ts';
import { createGraphQLServer } from '../lib/graphql/http.ts';
import { operationNames, RouterMetrics, useTelemetry } from './plugins/telemetry.ts';
import { pino, type Logger } from 'pino';
import { operationLimits, rateLimited, useSourceRetryAfter } from './plugins/hardening.ts';
import { loadTrustedDocuments, trustedDocumentCache, useTrustedDocuments } from './plugins/trusted-documents.ts';
import { createRateLimiter, redisWarning } from '../lib/rate-limit.ts';
import { ApolloServerPluginLandingPageDisabled, ApolloServerPluginSchemaReportingDisabled, ApolloServerPluginUsageReportingDisabled } from '@apollo/server/plugin/disabled';
import { formatError, useOperationChecks } from '../lib/graphql/errors.ts';
import { fieldCategories } from './categories.ts';
import { fieldShapes, type FieldShapes } from './unavailable-entities.ts';
import { usePolicy } from './plugins/policy.ts';
import { SEARCH_VOLUME, SearchWatch, writeAlert } from './search-watch.ts';
import type { useInternalTokenSigner } from '../lib/internal-token.ts';
import type { RouterConfig } from './config.ts';
import { AuthenticationError, useCaseworkerAuthentication } from './authenticate.ts';
import type { Caller, RouterContext } from './context.ts';
import { GraphQLError } from 'graphql';
import { MaisDataSource } from './data-source.ts';
import { ROUTER_SUBGRAPH, routerSubgraph } from './local-subgraph.ts';
import { useDeclaredPurpose } from './plugins/declared-purpose.ts';
import { AllocationIndex } from './relationships.ts';
import { UserDirectory } from './users.ts';
import { serveGraphiQLAsset, useGraphiQL } from './graphiql.ts';
import { subgraphFetcher } from './subgraph-http.ts';
import { connectToRelay, relayConnectUrl, type RelayConnection } from './relay-connection.ts';
import { agreementFile, createShareHandler, createShareResponder, SHARE_OPERATION, SHARE_PATH } from './share.ts';
import { supergraphFrom } from './supergraph.ts';
import { UsageReporter, useFieldUsage } from './plugins/usage.ts';
import { PORTAL_MANIFEST, portalHandler } from './portal.ts';

export interface RouterParts {
  config: RouterConfig;
  /** The LA's store: allocations to decide on, and the audit. Needed unless the mode is insecure-dev. */
  store?: { sql: SqlConnection };
  /** Structured logs (JSON lines); silent when absent. */
  logger?: Logger;
  internalToken: ReturnType<typeof useInternalTokenSigner> | null;
  dfeCredential: ((audience: string) => DfeCredential) | null;
  /** Who may read /metrics (MAIS_METRICS_TOKEN, MAIS_METRICS_LISTEN); nobody when absent. */
  metrics?: MetricsExposure;
}

export interface Router {
  server: Server;
  /** /metrics, and the operator's own listener when one is configured (started by createRouter). */
  metrics: MetricsEndpoint;
  stop(): Promise<void>;
}

export async function createRouter(parts: RouterParts): Promise<Router> {
  const { config } = parts;
  // @apollo/gateway otherwise sends instance data (cloud provider, CPUs, uptime) to Apollo every hour
  // and probes cloud metadata endpoints at start: an LA's router reports to nobody outside it.
  process.env.APOLLO_TELEMETRY_DISABLED = 'true';
  const specs = new Map(config.subgraphs.map((s) => [s.name, s]));
  const metrics = new RouterMetrics();
  const metricsEndpoint = new MetricsEndpoint(parts.metrics ?? {}, async () => ({ contentType: metrics.registry.contentType, text: await metrics.registry.metrics() }));
  const logger = parts.logger ?? pino({ level: 'silent' });
  let categories = new Map<string, string>();
  let shapes: FieldShapes = new Map();
  const audit = parts.store ? new AuditWriter(parts.store.sql, LA_AUDIT) : null;
  const fetcher = subgraphFetcher();
  const gateway = new ApolloGateway({
    supergraphSdl: supergraphFrom(
      'file' in config.supergraph
        ? config.supergraph
        : 'registry' in config.supergraph
          ? { registry: { ...config.supergraph.registry, credential: parts.dfeCredential?.('mais:dfe:registry') ?? null } }
          : { subgraphs: [{ name: ROUTER_SUBGRAPH, url: 'http://router.local/graphql' }, ...config.subgraphs] },
      logger,
    ),
    buildService: ({ name, url }) => {
      if (name === ROUTER_SUBGRAPH) return routerSubgraph(parts.store && audit ? { sql: parts.store.sql, audit } : undefined);
      const spec = specs.get(name);
      // A subgraph this LA did not configure is called as stock @apollo/gateway calls it.
      if (!spec || !parts.internalToken) return new RemoteGraphQLDataSource({ url });
      return new MaisDataSource({ ...spec, url: url ?? spec.url }, { la: config.la, internalToken: parts.internalToken, dfeCredential: parts.dfeCredential, defaultDeadlineMs: config.deadlineMs, purposes: config.purposes, fetcher, circuitBreaker: config.circuitBreaker, fieldShapes: () => shapes, observe: (subgraph, outcome, seconds) => metrics.subgraphLatency.observe({ subgraph, outcome }, seconds) });
    },
  });
  gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
    categories = fieldCategories(coreSupergraphSdl);
    shapes = fieldShapes(coreSupergraphSdl);
  });
  const secure = config.mode !== 'insecure-dev';
  // Each caseworker's searches and matches, for the information-governance officer's alerts.
  const watch = secure ? new SearchWatch({ ...config.searchAlerts, redisUrl: config.redisUrl, prefix: `mais:router:${config.la}:searches`, onRedisError: redisWarning(logger) }) : null;
  const watchLookups = async (context: RouterContext, lookups: NonNullable<RouterContext['lookups']>) => {
    for (const lookup of lookups) metrics.lookups.inc({ action: lookup.action });
    try {
      const crossing = await watch!.record(context.caller!.username, context.caller!.roles, lookups.length);
      if (!crossing) return;
      await writeAlert(parts.store!.sql, crossing, config.searchAlerts.threshold);
      if (crossing.first) {
        metrics.igAlerts.inc({ kind: SEARCH_VOLUME });
        logger.warn({ traceId: context.traceId, kind: SEARCH_VOLUME, count: crossing.count, windowSeconds: config.searchAlerts.windowSeconds }, 'alert for the information-governance officer');
      }
    } catch (error) {
      logger.error({ err: error instanceof Error ? error.message : String(error) }, 'search volume could not be counted or its alert written');
    }
  };
  // Development: GraphiQL, and introspection for the developers' tools (still with a caseworker's token).
  const development = config.mode === 'development';
  if (secure && !parts.store) throw new Error('the router needs the LA store to decide and audit');
  const allocations = secure ? new AllocationIndex(parts.store!.sql, config.allocationRefreshSeconds * 1000) : null;
  const users = secure ? new UserDirectory(parts.store!.sql, config.userRefreshSeconds * 1000) : null;
  // Trusted documents: the LA's own manifest binds every caller; the portal's binds what signs in through it.
  const trusted = secure && config.trustedDocuments ? loadTrustedDocuments(config.trustedDocuments) : null;
  // The reference portal, for LAs that run it (`portal`), signing in at the LA's identity provider.
  const portal = secure && config.portal && config.oidc ? portalHandler({ la: config.la, issuer: config.oidc.issuer, clientId: config.portal.clientId, audience: config.oidc.audience }) : null;
  const portalClient = portal ? config.portal!.clientId : null;
  const portalDocuments = portal ? loadTrustedDocuments(PORTAL_MANIFEST) : null;
  // First among the plugins: an operation that is not trusted is refused before anything is decided or audited.
  const trustedPlugins = [...(trusted ? [useTrustedDocuments(trusted, () => true, 'the LA')] : []), ...(portalDocuments ? [useTrustedDocuments(portalDocuments, (caller) => caller?.clientId === portalClient, 'the portal')] : [])];
  const plugins: ApolloServerPlugin<RouterContext>[] = [
    // Nor usage or schema reports to Apollo's cloud, even with an APOLLO_KEY in the environment.
    ApolloServerPluginUsageReportingDisabled(),
    ApolloServerPluginSchemaReportingDisabled(),
    ...trustedPlugins,
    useTelemetry({ metrics, logger, operations: operationNames([trusted, portalDocuments].filter((d) => d !== null)) }),
    useSourceRetryAfter() as ApolloServerPlugin<RouterContext>,
    // insecure-dev reads the purpose here (for an arbitrary supergraph, nothing); the other modes as they decide.
    ...(!secure && config.subgraphs.length > 0 ? [useDeclaredPurpose()] : []),
    ...(secure
      ? [
          useOperationChecks() as ApolloServerPlugin<RouterContext>,
          // Collect, decide, withhold, audit (plugins/policy.ts).
          usePolicy({
            allocations: allocations!,
            restrictions: {
              isRestricted: async (nhsNumber) =>
                (await parts.store!.sql.withSession((db) => db.query<{ restricted: boolean }>('SELECT restricted FROM la_pds_restriction WHERE nhs_number = $1', [nhsNumber])))[0]?.restricted === true,
            },
            exposedRootFields: development ? [...config.exposedRootFields, '__schema', '__type'] : config.exposedRootFields,
            purposes: config.purposes,
            categories: () => categories,
            audit: audit!,
            onWrite: (ok) => metrics.auditWrites.inc({ result: ok ? 'ok' : 'failed' }),
            onFailure: (error) => logger.error({ err: error instanceof Error ? error.message : String(error) }, 'audit write failed'),
            onLookups: watchLookups,
          }),
        ]
      : []),
  ];
  // Which fields this LA's routers serve, for the registry's breaking-change check.
  const registrySource = 'registry' in config.supergraph ? config.supergraph.registry : null;
  const usage = registrySource
    ? new UsageReporter({ url: new URL('/registry/usage', registrySource.url).toString(), credential: parts.dfeCredential?.('mais:dfe:registry') ?? null, intervalMs: registrySource.usageReportMs, logger })
    : null;
  if (usage) plugins.push(useFieldUsage(usage) as ApolloServerPlugin<RouterContext>);
  const production = config.mode === 'production';
  const armor = secure ? operationLimits(config.limits, production) : null;
  if (armor) plugins.push(...(armor.plugins as ApolloServerPlugin<RouterContext>[]));
  if (production) plugins.push(ApolloServerPluginLandingPageDisabled());
  if (development) plugins.push(useGraphiQL(config.la));
  const apollo = new ApolloServer<RouterContext>({
    gateway,
    plugins,
    stopOnTerminationSignals: false,
    ...(secure
      ? { introspection: !production, csrfPrevention: true, formatError, persistedQueries: { cache: trustedDocumentCache([trusted, portalDocuments].filter((d) => d !== null)) }, includeStacktraceInErrorResponses: false, validationRules: armor!.validationRules, parseOptions: armor!.parseOptions, allowBatchedHttpRequests: false }
      : {}),
  });
  const limiter = createRateLimiter({ limit: config.rateLimitPerMinute, redisUrl: config.redisUrl, prefix: `mais:router:${config.la}:rate`, onRedisError: redisWarning(logger) });
  const anonymousLimiter = createRateLimiter({ limit: config.unauthenticatedRateLimitPerMinute, redisUrl: config.redisUrl, prefix: `mais:router:${config.la}:anonymous`, onRedisError: redisWarning(logger) });
  const trustProxy = trustProxies(config.trustedProxies);
  await apollo.start();
  await allocations?.start();
  await users?.start();
  await watch?.ready();
  const authentication = config.mode === 'insecure-dev' ? null : useCaseworkerAuthentication(config.oidc!);
  /** A request's context before its operation is read: who asks, and its trace and deadline. */
  const newContext = (caller: Caller | null): RouterContext => ({
    caller,
    purpose: null,
    // insecure-dev only: no caseworker, so nobody to decide for. Other modes decide per request.
    decision: config.mode === 'insecure-dev' ? 'FULL' : 'NONE',
    // The OpenTelemetry trace when tracing, so audit entries and logs name the trace a collector holds.
    traceId: activeTraceId() ?? newTraceId(),
    deadline: Date.now() + config.deadlineMs,
    sources: new Set<string>(),
    unavailable: new Set<string>(),
  });
  const sharing = secure ? config.sharing : undefined;
  const respond = sharing
    ? createShareResponder({
        la: config.la,
        relay: { issuer: sharing.dfeIssuer, jwks: new URL(sharing.dfeJwks) },
        agreement: agreementFile(sharing.agreement),
        // Each relay token once, across the router's replicas: its jti is kept in the LA's store until it expires.
        ...(parts.store
          ? {
              firstUse: async (jti: string, expiresAt: number) => {
                const rows = await parts.store!.sql.withSession(async (db) => {
                  await db.query('DELETE FROM la_relay_token WHERE expires_at < now()');
                  return db.query('INSERT INTO la_relay_token (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING RETURNING jti', [jti, new Date(expiresAt).toISOString()]);
                });
                return rows.length === 1;
              },
            }
          : {}),
        run: async (nhsNumber, requester) => {
          const response = await apollo.executeOperation(
            { query: SHARE_OPERATION, variables: { n: nhsNumber, purpose: requester.purpose } },
            {
              contextValue: {
                ...newContext({ username: `org:${requester.organisation}`, roles: ['relay'] }),
                relay: { organisation: requester.organisation, purpose: requester.purpose },
              },
            },
          );
          return response.body.kind === 'single' ? (response.body.singleResult as never) : { errors: [{ message: 'no single result' }] };
        },
        refused: async (nhsNumber, requester, rule) => {
          await audit!.append([
            { actor: `org:${requester.organisation}`, roles: ['relay'], purpose: requester.purpose, nhs_number: nhsNumber, sources: { answered: [], unavailable: [], decision: 'NONE', rule }, withheld: [], outcome: 'DENIED', trace_id: activeTraceId() ?? newTraceId() },
          ]);
        },
      })
    : null;
  // Push mode: DfE's relay calls /share/graphql. Pull mode: the router answers over its own connection to the relay.
  const share = respond && sharing!.mode === 'push' ? createShareHandler(respond) : null;
  let relayConnection: RelayConnection | null = null;
  if (respond && sharing!.mode === 'pull') {
    relayConnection = connectToRelay({ url: sharing!.relayUrl ?? relayConnectUrl(sharing!.dfeIssuer), credential: parts.dfeCredential!('mais:dfe:relay'), respond, logger });
  }
  const server = createGraphQLServer<RouterContext>({
    apollo,
    maxBodyBytes: 256 * 1024,
    context: async (req) => {
      let caller: Caller | null = null;
      if (authentication) {
        try {
          caller = await authentication.authenticate(req.headers.authorization);
        } catch (error) {
          if (!(error instanceof AuthenticationError)) throw error;
          // Counted per client address: past the limit, guessing or replaying tokens is slowed, not answered.
          const wait = await anonymousLimiter.take(clientAddress(req, trustProxy));
          if (wait > 0) throw rateLimited(wait);
          throw new GraphQLError('Sign in: a valid access token from the LA’s identity provider is needed', { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
        }
        const wait = await limiter.take(caller.username);
        if (wait > 0) throw rateLimited(wait);
        if (users && !(await users.isActive(caller.username))) {
          // A withdrawn account, with a token still in date: refused, and the refusal audited.
          await audit!.append([
            { actor: caller.username, roles: caller.roles, purpose: null, nhs_number: null, sources: { answered: [], unavailable: [], decision: 'NONE', rule: 'ACCOUNT_WITHDRAWN' }, withheld: [], outcome: 'DENIED', trace_id: activeTraceId() ?? newTraceId() },
          ]);
          throw new GraphQLError('This account is no longer active at the LA: ask the LA’s administrator', { extensions: { code: 'UNAUTHENTICATED', reason: 'ACCOUNT_WITHDRAWN', http: { status: 401 } } });
        }
      }
      return newContext(caller);
    },
    routes: async (req, res, url) => {
      if (development && serveGraphiQLAsset(res, url.pathname, '/graphql')) return true;
      if (portal?.(res, url.pathname)) return true;
      if (share && url.pathname === SHARE_PATH) {
        await share(req, res);
        return true;
      }
      if (url.pathname === METRICS_PATH) {
        metricsEndpoint.answer(req, res);
        return true;
      }
      if (url.pathname !== '/ready') return false;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'pass', ...(relayConnection ? { relayConnection: relayConnection.connected ? 'open' : 'reconnecting' } : {}) }));
      return true;
    },
  });
  await metricsEndpoint.start();
  return {
    server,
    metrics: metricsEndpoint,
    /** Stops accepting, lets requests in flight finish (their audit entries included), then stops. */
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const idle = setInterval(() => server.closeIdleConnections(), 100);
      await closed;
      clearInterval(idle);
      await relayConnection?.stop();
      await usage?.stop();
      allocations?.stop();
      users?.stop();
      await apollo.stop();
      await fetcher.close();
      await limiter.close();
      await anonymousLimiter.close();
      await watch?.close();
      await metricsEndpoint.stop();
    },
  };
}
