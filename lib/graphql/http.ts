// Serves an Apollo Server over node:http with the routes every MAIS service has (`/health`), a
// request body limit, and JSON errors instead of stack traces.
import { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHttpServer } from '../http-server.ts';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import { inServerSpan } from '../trace-context.ts';

export interface GraphQLHttpOptions<C extends BaseContext> {
  apollo: ApolloServer<C>;
  context: (req: IncomingMessage) => Promise<C>;
  path?: string;
  maxBodyBytes?: number;
  /** Extra routes, tried before GraphQL: return true when handled. */
  routes?: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> | boolean;
}

export class BodyTooLarge extends Error {}

/** A request's body as text; BodyTooLarge past `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return (await readBodyBytes(req, limit)).toString('utf8');
}

/** A request's body as it came; BodyTooLarge past `limit` bytes. */
export async function readBodyBytes(req: IncomingMessage, limit: number): Promise<Buffer> {
  let size = 0;
  const chunks: Buffer[] = [];
  // Past the limit the rest is read and dropped, not cut off: a client still sending when the
  // connection closed would never see the 413 (the server's request timeout bounds how long).
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= limit) chunks.push(chunk as Buffer);
  }
  if (size > limit) throw new BodyTooLarge();
  return Buffer.concat(chunks);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/** A GraphQL-shaped error answer with a stable code, as every MAIS service gives one. */
export function sendError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] }, headers);
}

/** A request's JSON body; answers 413 or 400 itself and gives undefined when it is too large or not JSON. */
export async function readJsonBody(req: IncomingMessage, res: ServerResponse, limit: number): Promise<unknown> {
  let text: string;
  try {
    text = await readBody(req, limit);
  } catch (error) {
    if (!(error instanceof BodyTooLarge)) throw error;
    sendError(res, 413, 'BAD_REQUEST', `Request body over ${limit} bytes`);
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    sendError(res, 400, 'BAD_REQUEST', 'The request body is not JSON');
    return undefined;
  }
}

/** Answers 500 without detail for a handler that failed, or drops the connection when it had begun answering. */
export function failed(res: ServerResponse): void {
  if (res.headersSent) res.destroy();
  else sendError(res, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
}

const CLIENT_ERRORS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large'],
  HPE_URI_TOO_LONG: [414, 'URI Too Long'],
};

/**
 * Requests Node's HTTP parser refuses before any handler sees them (headers too large, not HTTP) are
 * answered as every other refusal is: JSON with a stable code, not an empty body.
 */
export function answerClientErrors(server: Server): Server {
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || error.code === 'ECONNRESET') return void socket.destroy();
    const [status, reason] = CLIENT_ERRORS[error.code ?? ''] ?? [400, 'Bad Request'];
    const body = JSON.stringify({ errors: [{ message: `The request could not be read: ${reason.toLowerCase()}`, extensions: { code: 'BAD_REQUEST' } }] });
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
  return server;
}

export function createGraphQLServer<C extends BaseContext>(options: GraphQLHttpOptions<C>): Server {
  const path = options.path ?? '/graphql';
  const limit = options.maxBodyBytes ?? 256 * 1024;
  const untraced = new Set(['/health', '/ready', '/metrics']);
  return answerClientErrors(createHttpServer((req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://service.local');
    } catch {
      return sendError(res, 400, 'BAD_REQUEST', 'The request path is not a URL path');
    }
    if (untraced.has(url.pathname)) return void handle(req, res, url);
    void inServerSpan(req.method ?? 'GET', url.pathname, req.headers, async (span) => {
      await handle(req, res, url);
      span.setAttribute('http.response.status_code', res.statusCode);
    });
  }));

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    try {
      if (url.pathname === '/health') return sendJson(res, 200, { status: 'pass' });
      if (options.routes && (await options.routes(req, res, url))) return;
      // Ready once serving, unless the service answers /ready itself (with what it depends on).
      if (url.pathname === '/ready') return sendJson(res, 200, { status: 'pass' });
      if (url.pathname !== path) return sendError(res, 404, 'NOT_FOUND', `Nothing at ${url.pathname}`);
      const text = req.method === 'POST' ? await readBody(req, limit) : '';
      let body: unknown = undefined;
      if (text !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          return sendError(res, 400, 'BAD_REQUEST', 'The request body is not JSON');
        }
      }
      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(req.headers)) if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      const response = await options.apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
        context: () => options.context(req),
      });
      for (const [key, value] of response.headers) res.setHeader(key, value);
      res.statusCode = response.status ?? 200;
      if (response.body.kind === 'complete') {
        res.end(response.body.string);
      } else {
        for await (const chunk of response.body.asyncIterator) res.write(chunk);
        res.end();
      }
    } catch (error) {
      if (error instanceof BodyTooLarge) return sendError(res, 413, 'BAD_REQUEST', `Request body over ${limit} bytes`);
      failed(res);
    }
  }
}
