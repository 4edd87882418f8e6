// Every HTTP server of the platform is made here, so that all keep idle connections the same way.
import { createServer, type RequestListener, type Server } from 'node:http';

/**
 * How long an idle keep-alive connection is kept open: longer than the 60 s idle timeout load
 * balancers and HTTP clients commonly use. A server that closes first (Node's default is 5 s) races
 * every client that picks that connection for its next request at the same moment: the request is lost
 * with "socket hang up" (or, behind a balancer, a 502). Clients told `keep-alive: timeout=65` close
 * their side before the server does.
 */
export const KEEP_ALIVE_MS = 65_000;

export function createHttpServer(listener: RequestListener): Server {
  const server = createServer(listener);
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  // Headers of a request on a kept connection must be allowed at least as long as it is kept.
  server.headersTimeout = KEEP_ALIVE_MS + 1_000;
  return server;
}
