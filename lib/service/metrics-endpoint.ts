// Where a service's Prometheus metrics are served, and to whom. Metrics are for the operator: they name
// organisations, subgraphs and operations, so no service answers /metrics to a caller who is not one.
// One configuration, the same on every service (the routers, the gateway):
//   MAIS_METRICS_TOKEN   a bearer token the scraper sends (`Authorization: Bearer <token>`), at least 24 characters
//   MAIS_METRICS_LISTEN  host:port of a listener of its own that serves only /metrics (e.g. on a pod's
//                        private interface); when set, the service's public listener does not serve /metrics
// Both may be set (the operator's listener then also asks for the token). With neither, /metrics is not served.
import { createHash, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerClientErrors, failed, sendError } from '../graphql/http.ts';

export const METRICS_PATH = '/metrics';
const MIN_TOKEN_LENGTH = 24;

export interface MetricsExposure {
  /** The bearer token a scraper must send. */
  token?: string;
  /** A listener of the operator's choosing that serves only /metrics. */
  listen?: { host: string; port: number };
}

export class MetricsConfigError extends Error {
  override name = 'MetricsConfigError';
}

/** Reads MAIS_METRICS_TOKEN and MAIS_METRICS_LISTEN, refusing a short token or an address that is not host:port. */
export function metricsExposureFromEnv(env: NodeJS.ProcessEnv = process.env): MetricsExposure {
  const token = env.MAIS_METRICS_TOKEN?.trim();
  const listen = env.MAIS_METRICS_LISTEN?.trim();
  const exposure: MetricsExposure = {};
  if (token) {
    if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) throw new MetricsConfigError(`MAIS_METRICS_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters with no spaces`);
    exposure.token = token;
  }
  if (listen) exposure.listen = parseListen(listen);
  return exposure;
}

export function parseListen(value: string): { host: string; port: number } {
  const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  const port = Number(match?.[2]);
  if (!match || !(port >= 0 && port <= 65535)) throw new MetricsConfigError(`MAIS_METRICS_LISTEN must be host:port (e.g. 10.0.0.5:9464), not ${JSON.stringify(value.slice(0, 80))}`);
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

export interface Collected {
  contentType: string;
  text: string;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Serves a service's metrics as its configuration says: on the public listener with the token, on the
 * operator's own listener, or not at all. `collect` is called only for a caller who may have them.
 */
export class MetricsEndpoint {
  readonly #exposure: MetricsExposure;
  readonly #collect: () => Promise<Collected>;
  readonly #expected: Buffer | null;
  #server: Server | null = null;

  constructor(exposure: MetricsExposure, collect: () => Promise<Collected>) {
    this.#exposure = exposure;
    this.#collect = collect;
    this.#expected = exposure.token ? digest(exposure.token) : null;
  }

  /** Answers /metrics on the service's public listener. */
  answer(req: IncomingMessage, res: ServerResponse): void {
    if (this.#exposure.listen || !this.#expected) return sendError(res, 404, 'NOT_FOUND', `Nothing at ${METRICS_PATH}`);
    this.#serve(req, res);
  }

  /** Starts the operator's listener, when one is configured. */
  async start(): Promise<void> {
    const listen = this.#exposure.listen;
    if (!listen || this.#server) return;
    const server = answerClientErrors(
      createServer((req, res) => {
        if ((req.url ?? '/').split('?')[0] !== METRICS_PATH) return sendError(res, 404, 'NOT_FOUND', 'Only /metrics is served here');
        this.#serve(req, res);
      }),
    );
    server.listen(listen.port, listen.host);
    await once(server, 'listening');
    this.#server = server;
  }

  /** The operator's listener's address, once started. */
  get address(): AddressInfo | null {
    return (this.#server?.address() as AddressInfo | null) ?? null;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  #serve(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return sendError(res, 405, 'BAD_REQUEST', 'Metrics are read with GET');
    }
    if (this.#expected && !this.#authorised(req.headers.authorization)) {
      res.setHeader('www-authenticate', 'Bearer realm="metrics"');
      return sendError(res, 401, 'UNAUTHENTICATED', 'Metrics are for the operator: send the metrics bearer token');
    }
    this.#collect().then(
      ({ contentType, text }) => {
        res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      () => failed(res),
    );
  }

  #authorised(header: string | undefined): boolean {
    const presented = /^Bearer ([!-~]{1,512})$/i.exec(header ?? '')?.[1];
    return presented !== undefined && timingSafeEqual(digest(presented), this.#expected!);
  }
}
