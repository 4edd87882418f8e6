// Serves an Apollo Server over node:http with the routes every MAIS service has (`/health`), a
// request body limit, and JSON errors instead of stack traces.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function createGraphQLServer<C extends BaseContext>(options: GraphQLHttpOptions<C>): Server {
  const path = options.path ?? '/graphql';
  const limit = options.maxBodyBytes ?? 256 * 1024;
  const untraced = new Set(['/health', '/ready', '/metrics']);
  return createServer((req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://service.local');
    } catch {
      return sendJson(res, 400, { errors: [{ message: 'The request path is not a URL path', extensions: { code: 'BAD_REQUEST' } }] });
    }
    if (untraced.has(url.pathname)) return void handle(req, res, url);
    void inServerSpan(req.method ?? 'GET', url.pathname, req.headers, async (span) => {
      await handle(req, res, url);
      span.setAttribute('http.response.status_code', res.statusCode);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    try {
      if (url.pathname === '/health') return sendJson(res, 200, { status: 'pass' });
      if (options.routes && (await options.routes(req, res, url))) return;
      if (url.pathname !== path) return sendJson(res, 404, { errors: [{ message: `Nothing at ${url.pathname}`, extensions: { code: 'NOT_FOUND' } }] });
      const text = req.method === 'POST' ? await readBody(req, limit) : '';
      let body: unknown = undefined;
      if (text !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          return sendJson(res, 400, { errors: [{ message: 'The request body is not JSON', extensions: { code: 'BAD_REQUEST' } }] });
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
      if (error instanceof BodyTooLarge) return sendJson(res, 413, { errors: [{ message: `Request body over ${limit} bytes`, extensions: { code: 'BAD_REQUEST' } }] });
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      else res.destroy();
    }
  }
}
