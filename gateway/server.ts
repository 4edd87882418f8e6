// DfE's gateway, the edge every organisation reaches DfE through: the token endpoint and DfE's public
// keys (OAuth2 client credentials, gateway/token-service.ts), and DfE's services behind it at
// /subgraphs/<name>/graphql, each call checked at the edge (a DfE access token for that service, an
// organisation active now, its rate limit) before it is passed on. Built from its pieces so tests build
// the same gateway.
import { once } from 'node:events';
import { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHttpServer } from '../lib/http-server.ts';
import type { AddressInfo } from 'node:net';
import type { JWK } from 'jose';
import pino, { type Logger } from 'pino';
import { Agent, request as request_ } from 'undici';
import { DfeScopeError, DfeTokenError, useDfeTokenVerifier } from '../lib/dfe-token.ts';
import { answerClientErrors, BodyTooLarge, failed, readBodyBytes, readJsonBody, sendError, sendJson } from '../lib/graphql/http.ts';
import { createRateLimiter, redisWarning } from '../lib/rate-limit.ts';
import type { SqlConnection } from '../lib/db/sql.ts';
import { AuditWriter, CENTRAL_AUDIT } from '../lib/audit/chain.ts';
import type { Organisation } from '../lib/organisation-credential.ts';
import { OrganisationRegistry } from './organisations.ts';
import type { CentralDirectory } from './directory.ts';
import { MAX_ANSWER_BYTES, NoSharingEndpointError, Relay, type CustodianAnswer } from '../subgraphs/relay/relay.ts';
import { RELAY_AUDIENCE } from '../schema/audiences.ts';
import { CALLER_HEADER, PURPOSE_HEADER, TIMEOUT_HEADER } from '../schema/headers.ts';
import { createRelayService } from '../subgraphs/relay/service.ts';
import type { Subgraph } from '../lib/graphql/subgraph.ts';
import { clientAddress, trustProxies } from '../lib/service/client-address.ts';
import { METRICS_PATH, MetricsEndpoint, type MetricsExposure } from '../lib/service/metrics-endpoint.ts';
import { GatewayMetrics } from './metrics.ts';
import { RELAY_CONNECT_PATH } from '../schema/relay.ts';
import { RelayHub, refuseUpgrade } from './relay-hub.ts';
import { CheckStopped, RegistryBusy, SchemaRegistry, UsageError, type PublishRequest, type RegistryLimits } from './registry.ts';
import { createTokenService, JWKS_PATH, TOKEN_PATH } from './token-service.ts';

export interface GatewayParts {
  /** DfE's central store: the organisation registry, used assertions. */
  sql: SqlConnection;
  /** DfE's public base URL (the issuer of its access tokens). */
  issuer: string;
  signingKey: JWK;
  /** How often the organisation registry is checked for changes (ms). */
  refreshMs?: number;
  /** DfE's services behind the gateway: name (as in `mais:dfe:<name>`) → internal GraphQL URL. */
  services?: Record<string, string>;
  /** Calls a minute each organisation may make to DfE's services; more are answered RATE_LIMITED (429). */
  rateLimitPerMinute?: number;
  /** Redis shared by the gateway's replicas, so each organisation's limit holds across them all; none: each replica counts on its own. */
  redisUrl?: string;
  /**
   * The relay (`mais:dfe:relay`): served by the gateway itself over the directory of organisations,
   * agreements and pseudonym keys; each custodian has `timeoutMs` to answer (default 2000).
   */
  relay?: { directory: CentralDirectory; timeoutMs?: number; pingMs?: number };
  /** Structured log lines (one per relay request; never a child's identifier or an answer). */
  logger?: Logger;
  /**
   * What the schema registry takes (defaults in DEFAULT_REGISTRY_LIMITS): SDL size, tokens, types and
   * fields; worker processes, queue, time and memory per check; and `perMinute`, the checks and publishes
   * each organisation may make a minute (default 30).
   */
  registry?: Partial<RegistryLimits> & { perMinute?: number };
  /** Who may read /metrics (MAIS_METRICS_TOKEN, MAIS_METRICS_LISTEN); nobody when absent. */
  metrics?: MetricsExposure;
  /**
   * Requests a minute from one client address that fail to authenticate (no valid DfE token, or a client
   * assertion the token endpoint refuses); more are answered RATE_LIMITED (429) with Retry-After, shared
   * through `redisUrl`. Default 60. A valid token is never refused by this limit.
   */
  unauthenticatedRateLimitPerMinute?: number;
  /** The load balancers in front of the gateway, whose X-Forwarded-For names the client (see lib/service/client-address.ts). */
  trustedProxies?: string[];
}


/** Headers passed on to a DfE service; everything else stays at the edge. */
const FORWARDED = ['content-type', 'accept', 'authorization', PURPOSE_HEADER, CALLER_HEADER, TIMEOUT_HEADER, 'traceparent', 'tracestate'];
const SERVICE_PATH = /^\/subgraphs\/([a-z][a-z0-9-]*)\/graphql$/;
/** Largest body passed on to a DfE service (each refuses past its own, smaller, limit). */
const MAX_FORWARDED_BODY_BYTES = 4 * 1024 * 1024;
/** undici's codes for a connection closed or reset before any answer came on it. */
const CONNECTION_LOST = new Set(['UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNRESET', 'EPIPE']);

export interface Gateway {
  server: Server;
  organisations: OrganisationRegistry;
  /** LAs connected to the relay in pull mode. */
  relayHub: RelayHub | null;
  /** /metrics, and the operator's own listener when one is configured (started by createGateway). */
  metrics: MetricsEndpoint;
  stop(): Promise<void>;
}

export async function createGateway(parts: GatewayParts): Promise<Gateway> {
  const organisations = new OrganisationRegistry();
  const refresh = () => parts.sql.withSession((db) => organisations.refresh(db));
  await refresh();
  let lastRefresh = Date.now();
  const refresher = setInterval(
    () =>
      void refresh().then(() => {
        lastRefresh = Date.now();
        // A suspended LA's pull connections are closed, as its calls are refused.
        for (const code of Object.keys(relayHub?.status ?? {})) if (organisations.get(code)?.status !== 'ACTIVE') relayHub!.disconnect(code);
      }, () => {}),
    parts.refreshMs ?? 1000,
  );
  // Used assertions are kept until they expire, then swept.
  const sweeper = setInterval(() => void parts.sql.withSession((db) => db.query('DELETE FROM client_assertion WHERE expires_at < now()')).catch(() => {}), 60_000);
  refresher.unref();
  sweeper.unref();

  const tokens = createTokenService({
    issuer: parts.issuer,
    signingKey: parts.signingKey,
    organisation: (code) => organisations.get(code),
    firstUse: async (id, expiresAt) => {
      const rows = await parts.sql.withSession((db) => db.query('INSERT INTO client_assertion (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id', [id, expiresAt]));
      return rows.length === 1;
    },
  });
  const oauth = tokens.callback();
  const logger = parts.logger ?? pino({ level: 'silent' });
  const metrics = new GatewayMetrics();
  const metricsEndpoint = new MetricsEndpoint(parts.metrics ?? {}, async () => {
    metrics.pullConnections.reset();
    for (const [organisation, open] of Object.entries(relayHub?.status ?? {})) metrics.pullConnections.set({ organisation }, open);
    return { contentType: metrics.registry.contentType, text: await metrics.registry.metrics() };
  });
  const services: Record<string, string> = { ...parts.services };
  const upstream = new Agent({ connections: 64, keepAliveTimeout: 4000 });
  const { d: _d, ...publicKey } = parts.signingKey;
  // The edge's checks for DfE's services: the gateway's own keys, so no round trip to verify.
  const verifierFor = (audience: string) => useDfeTokenVerifier({ issuer: parts.issuer, jwks: { keys: [publicKey] }, audience, organisation: (code) => organisations.get(code) });

  // The relay runs in the gateway's process, where pull connections end, on a loopback port of its own.
  let relayHub: RelayHub | null = null;
  let relayService: Subgraph | null = null;
  if (parts.relay) {
    const { directory } = parts.relay;
    const connecting = verifierFor(RELAY_AUDIENCE);
    const hub = new RelayHub((authorization) => connecting.verify(authorization), parts.relay.pingMs);
    const transport = async (custodian: Organisation, request: { authorization: string; body: string }, timeoutMs: number): Promise<CustodianAnswer> => {
      if (hub.connected(custodian.code)) return hub.send(custodian.code, request, timeoutMs);
      if (!custodian.sharingUrl) throw new NoSharingEndpointError(`${custodian.code} has registered no sharing endpoint and has no pull connection open`);
      return push(custodian.sharingUrl, request, timeoutMs);
    };
    const relay = new Relay({ sql: parts.sql, directory, audit: new AuditWriter(parts.sql, CENTRAL_AUDIT), issuer: parts.issuer, signingKey: parts.signingKey, transport,
      timeoutMs: parts.relay.timeoutMs ?? 2000,
      observe: ({ asker, custodian, transport: via, outcome, bytes, ms }) => {
        metrics.relayFetches.inc({ custodian, transport: via ?? 'none', outcome });
        metrics.relayBytes.inc({ custodian }, bytes);
        if (via) metrics.relaySeconds.observe({ transport: via }, ms / 1000);
        logger.info({ organisation: asker, custodian, transport: via, outcome, bytes, ms }, 'relay');
      },
    });
    relayService = await createRelayService({ relay, directory, dfe: { issuer: parts.issuer, jwks: { keys: [publicKey] } } });
    relayService.server.listen(0, '127.0.0.1');
    await once(relayService.server, 'listening');
    services.relay = `http://127.0.0.1:${(relayService.server.address() as AddressInfo).port}/graphql`;
    relayHub = hub;
  }

  /** Push mode: the relay request to the custodian's registered sharing endpoint, its answer read up to a limit. */
  async function push(url: string, request: { authorization: string; body: string }, timeoutMs: number): Promise<CustodianAnswer> {
    const signal = AbortSignal.timeout(timeoutMs);
    const answer = await request_(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: request.authorization }, body: request.body, dispatcher: upstream, signal });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of answer.body) {
      size += (chunk as Buffer).length;
      if (size > MAX_ANSWER_BYTES) {
        answer.body.destroy();
        break;
      }
      chunks.push(chunk as Buffer);
    }
    return { status: answer.statusCode, body: Buffer.concat(chunks).toString('utf8'), transport: 'push' };
  }

  const verifiers = new Map(Object.keys(services).map((name) => [name, verifierFor(`mais:dfe:${name}`)]));
  const limiter = createRateLimiter({ limit: parts.rateLimitPerMinute ?? 6000, redisUrl: parts.redisUrl, prefix: 'mais:gateway:rate', ...(parts.logger ? { onRedisError: redisWarning(parts.logger) } : {}) });
  const { perMinute: registryPerMinute, ...registryLimits } = parts.registry ?? {};
  const registry = new SchemaRegistry(parts.sql, registryLimits);
  const registryVerifier = verifierFor('mais:dfe:registry');
  // Checks and publishes are heavy: each organisation has a small allowance of its own.
  const anonymousLimiter = createRateLimiter({ limit: parts.unauthenticatedRateLimitPerMinute ?? 60, redisUrl: parts.redisUrl, prefix: 'mais:gateway:anonymous', ...(parts.logger ? { onRedisError: redisWarning(parts.logger) } : {}) });
  const trustProxy = trustProxies(parts.trustedProxies ?? []);
  /** Counts a request that did not authenticate against its address: 401 within the limit, 429 past it. */
  const unauthenticated = async (req: IncomingMessage, res: ServerResponse, message: string): Promise<void> => {
    const wait = await anonymousLimiter.take(clientAddress(req, trustProxy));
    if (wait > 0) return sendError(res, 429, 'RATE_LIMITED', 'Too many requests without a valid DfE access token; try again shortly', { 'retry-after': String(wait) });
    sendError(res, 401, 'UNAUTHENTICATED', message);
  };
  const registryLimiter = createRateLimiter({ limit: registryPerMinute ?? 30, redisUrl: parts.redisUrl, prefix: 'mais:gateway:registry', ...(parts.logger ? { onRedisError: redisWarning(parts.logger) } : {}) });

  /**
   * The token endpoint: each refused client assertion counts against its address, and past the limit a
   * refusal is answered 429 with Retry-After (guessing or replaying assertions is slowed). A valid
   * assertion is always answered: an organisation refused while suspended, say, gets its token as soon
   * as it is reinstated, whatever its address spent meanwhile.
   */
  async function tokenRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const address = clientAddress(req, trustProxy);
    const wait = await anonymousLimiter.peek(address);
    const writeHead = res.writeHead.bind(res) as (status: number, ...rest: unknown[]) => ServerResponse;
    // oidc-provider answers through writeHead (Node calls it for implicit headers too): a refusal is counted there.
    res.writeHead = ((status: number, ...rest: unknown[]) => {
      if (status !== 401) return writeHead(status, ...rest);
      void anonymousLimiter.take(address).catch(() => {});
      if (wait === 0) return writeHead(status, ...rest);
      res.setHeader('retry-after', String(wait));
      return writeHead(429, ...rest);
    }) as typeof res.writeHead;
    oauth(req, res);
  }

  /** The schema registry's routes, for organisations with the registry scope and a DfE token for mais:dfe:registry. */
  async function registryRoute(req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<void> {
    let organisation;
    try {
      organisation = await registryVerifier.verify(req.headers.authorization);
    } catch (error) {
      if (error instanceof DfeScopeError) return sendError(res, 403, 'FORBIDDEN', error.message);
      if (!(error instanceof DfeTokenError)) throw error;
      return unauthenticated(req, res, `A DfE access token for mais:dfe:registry is needed (from ${parts.issuer}${TOKEN_PATH})`);
    }
    if (req.method === 'GET' && path === '/registry/supergraph') {
      const current = await registry.supergraph(organisation.code);
      if (!current) return sendError(res, 404, 'NOT_FOUND', `no supergraph has been composed for ${organisation.code} yet`);
      const etag = `"${current.hash}"`;
      if (req.headers['if-none-match'] === etag) return void res.writeHead(304, { etag }).end();
      return void res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', etag, 'cache-control': 'no-cache' }).end(current.sdl);
    }
    if (req.method === 'POST' && path === '/registry/usage') {
      const body = (await readJsonBody(req, res, 1024 * 1024)) as { fields?: unknown } | null | undefined;
      if (body === undefined) return;
      try {
        return sendJson(res, 200, { recorded: await registry.recordUsage(organisation.code, body?.fields) });
      } catch (error) {
        if (error instanceof UsageError) return sendError(res, 400, 'BAD_USER_INPUT', error.message);
        throw error;
      }
    }
    if (req.method === 'GET' && path === '/registry/history') return sendJson(res, 200, await registry.history(organisation.code, url.searchParams.get('name') ?? undefined));
    if (req.method === 'POST' && (path === '/registry/check' || path === '/registry/publish')) {
      const wait = await registryLimiter.take(organisation.code);
      if (wait > 0) return sendError(res, 429, 'RATE_LIMITED', `${organisation.code} has made too many schema checks and publishes; try again shortly`, { 'retry-after': String(wait) });
      // JSON escaping may double an SDL's size; anything larger is refused before it is read whole.
      const body = (await readJsonBody(req, res, 2 * registry.limits.maxSdlBytes + 64 * 1024)) as Partial<PublishRequest> | null | undefined;
      if (body === undefined) return;
      if (!body || typeof body.name !== 'string' || typeof body.url !== 'string' || typeof body.sdl !== 'string') return sendError(res, 400, 'BAD_USER_INPUT', 'give name, url and sdl (strings), and force (true/false) if needed');
      // An organisation publishes its own subgraphs only: the organisation is the token's.
      const request = { organisation: organisation.code, name: body.name, url: body.url, sdl: body.sdl, force: body.force === true, by: organisation.code };
      try {
        const result = path === '/registry/check' ? await registry.check(request) : await registry.publish(request);
        return sendJson(res, result.ok ? 200 : 422, result);
      } catch (error) {
        if (error instanceof RegistryBusy) return sendError(res, 429, 'RATE_LIMITED', error.message, { 'retry-after': String(error.retryAfterSeconds) });
        // Stopped: refused as any other check is, with the limit as its reason.
        if (error instanceof CheckStopped) return sendJson(res, 422, { ok: false, reasons: [{ kind: 'limit', message: error.message }], forced: [], unused: [], affects: [] });
        throw error;
      }
    }
    return sendError(res, 404, 'NOT_FOUND', `Nothing at ${req.method} ${path}`);
  }

  async function forward(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    let organisation;
    try {
      organisation = await verifiers.get(name)!.verify(req.headers.authorization);
    } catch (error) {
      if (error instanceof DfeScopeError) return sendError(res, 403, 'FORBIDDEN', error.message);
      if (!(error instanceof DfeTokenError)) throw error;
      return unauthenticated(req, res, `A DfE access token for mais:dfe:${name} is needed (from ${parts.issuer}${TOKEN_PATH})`);
    }
    const wait = await limiter.take(organisation.code);
    res.once('finish', () => metrics.calls.inc({ service: name, organisation: organisation.code, status: String(res.statusCode) }));
    if (wait > 0) return sendError(res, 429, 'RATE_LIMITED', `${organisation.code} has made too many calls to DfE; try again shortly`, { 'retry-after': String(wait) });
    const headers: Record<string, string> = {};
    for (const header of FORWARDED) {
      const value = req.headers[header];
      if (typeof value === 'string') headers[header] = value;
    }
    // The body is read whole (bounded) before it is passed on, so that a call can be sent again.
    let body: Buffer | null = null;
    if (req.method !== 'GET') {
      try {
        body = await readBodyBytes(req, MAX_FORWARDED_BODY_BYTES);
      } catch (error) {
        if (error instanceof BodyTooLarge) return sendError(res, 413, 'BAD_REQUEST', `Request body over ${MAX_FORWARDED_BODY_BYTES} bytes`);
        throw error;
      }
    }
    // A GET's query (and a POST's, which the service reads as GraphQL over HTTP does) goes on with it.
    const target = `${services[name]!}${new URL(req.url ?? '/', 'http://gateway.local').search}`;
    for (let attempt = 1; ; attempt++) {
      try {
        const answer = await request_(target, { method: req.method === 'GET' ? 'GET' : 'POST', headers, body, dispatcher: upstream, headersTimeout: 30_000, bodyTimeout: 120_000 });
        res.writeHead(answer.statusCode, { 'content-type': String(answer.headers['content-type'] ?? 'application/json') });
        for await (const chunk of answer.body) res.write(chunk);
        res.end();
        return;
      } catch (error) {
        if (res.headersSent) return void res.destroy();
        const code = (error as { code?: unknown }).code;
        // A kept-alive connection the service closed just as this call was sent on it (its idle timeout
        // and ours racing, or ours running late on a busy machine): nothing was answered, so the call
        // goes again once, on a new connection. Anything else is the service being unavailable.
        if (attempt === 1 && typeof code === 'string' && CONNECTION_LOST.has(code)) {
          logger.info({ service: name, code }, 'a kept connection was closed under a call; sent again on a new one');
          continue;
        }
        logger.warn({ service: name, code: typeof code === 'string' ? code : (error as Error).name, attempt }, 'call to a DfE service failed');
        return sendError(res, 502, 'SOURCE_UNAVAILABLE', `DfE's ${name} service is unavailable`);
      }
    }
  }

  const server = createHttpServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === TOKEN_PATH) return void tokenRequest(req, res).catch(() => failed(res));
    if (path === JWKS_PATH || path === '/.well-known/openid-configuration') return void oauth(req, res);
    if (path.startsWith('/registry/')) {
      return void registryRoute(req, res, path, new URL(req.url ?? '/', 'http://gateway.local')).catch(() => failed(res));
    }
    const service = SERVICE_PATH.exec(path)?.[1];
    if (service && verifiers.has(service)) {
      return void forward(req, res, service).catch(() => failed(res));
    }
    if (path === '/health') return sendJson(res, 200, { status: 'pass' });
    if (path === METRICS_PATH) return metricsEndpoint.answer(req, res);
    if (path !== '/ready') return sendError(res, 404, 'NOT_FOUND', `Nothing at ${path}`);
    if (Date.now() - lastRefresh >= 5000 + (parts.refreshMs ?? 1000)) return sendJson(res, 503, { status: 'fail', reason: 'the organisation registry could not be read' });
    const directory = parts.relay?.directory.status;
    if (directory && !directory.fresh) return sendJson(res, 503, { status: 'fail', reason: 'the relay cannot confirm data sharing agreements are current' });
    sendJson(res, 200, { status: 'pass', ...(relayHub ? { pullConnections: relayHub.status } : {}) });
  });
  answerClientErrors(server);
  server.on('upgrade', (req, socket, head) => {
    if (relayHub && (req.url ?? '').split('?')[0] === RELAY_CONNECT_PATH) return void relayHub.upgrade(req, socket, head).catch(() => socket.destroy());
    refuseUpgrade(socket, 404, 'Not Found');
  });
  await metricsEndpoint.start();
  return {
    server,
    organisations,
    relayHub,
    metrics: metricsEndpoint,
    async stop() {
      await metricsEndpoint.stop();
      clearInterval(refresher);
      clearInterval(sweeper);
      relayHub?.close();
      await relayService?.stop();
      await upstream.close();
      await limiter.close();
      await registryLimiter.close();
      await anonymousLimiter.close();
      await registry.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
  };
}
