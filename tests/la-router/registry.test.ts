// The router's supergraph from a schema registry over HTTP: polled cheaply, swapped without dropping
// requests, and kept on disk for a restart while the registry is out of reach; and the fields it serves
// reported back for the registry's usage-aware breaking-change check.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRouterConfig } from '../../la-router/config.ts';
import { createRouter, type Router } from '../../la-router/server.ts';
import { freePort, serveOnLoopback } from '../helpers/ports.ts';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])';
const V1 = `${LINK} type Query { books: [Book!]! } type Book { title: String! }`;
const V2 = `${LINK} type Query { books: [Book!]! } type Book { title: String! year: Int! }`;

let books: ApolloServer;
let booksUrl: string;
let registry: Server;
let registryUrl: string;
let served = '';
const requests: { etag: string | undefined; status: number }[] = [];
const usageReports: Record<string, number>[] = [];
const cacheFile = join(mkdtempSync(join(tmpdir(), 'mais-registry-')), 'supergraph.graphql');
const supergraph = (sdl: string) => composeServices([{ name: 'books', url: booksUrl, typeDefs: parse(sdl) }]).supergraphSdl!;

async function startRouter(): Promise<{ router: Router; url: string }> {
  const config = parseRouterConfig({ la: 'northshire', port: 0, mode: 'insecure-dev', supergraph: { registry: { url: registryUrl, pollMs: 150, cacheFile, usageReportMs: 150 } } });
  const router = await createRouter({ config, internalToken: null, dfeCredential: null });
  return { router, url: `${await serveOnLoopback(router.server)}/graphql` };
}

const ask = async (url: string, query: string) =>
  (await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) })).json()) as { data?: any; errors?: any[] };

beforeAll(async () => {
  books = new ApolloServer({ schema: buildSubgraphSchema({ typeDefs: parse(V2), resolvers: { Query: { books: () => [{ title: 'Hard Times', year: 1854 }] } } as never }) });
  booksUrl = (await startStandaloneServer(books, { listen: { port: await freePort(), host: '127.0.0.1' } })).url;
  served = supergraph(V1);
  registry = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/registry/usage') {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        usageReports.push((JSON.parse(body) as { fields: Record<string, number> }).fields);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
      return;
    }
    const etag = `"${createHash('sha256').update(served).digest('hex').slice(0, 16)}"`;
    const status = req.headers['if-none-match'] === etag ? 304 : 200;
    requests.push({ etag: req.headers['if-none-match'], status });
    res.writeHead(status, { etag, 'content-type': 'text/plain' });
    res.end(status === 200 ? served : undefined);
  });
  registry.listen(0, '127.0.0.1');
  await once(registry, 'listening');
  registryUrl = `http://127.0.0.1:${(registry.address() as { port: number }).port}/supergraph`;
});

afterAll(async () => {
  registry.close();
  await books.stop();
});

describe('a supergraph from the registry', () => {
  it('is polled with If-None-Match, swapped in without a failed request, and kept for a restart while the registry is away', async () => {
    const { router, url } = await startRouter();
    expect((await ask(url, '{ books { title } }')).data.books).toEqual([{ title: 'Hard Times' }]);
    expect((await ask(url, '{ books { year } }')).errors?.[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(requests.some((r) => r.status === 304 && r.etag)).toBe(true);

    served = supergraph(V2);
    let failed = 0;
    let swapped = false;
    const deadline = Date.now() + 5000;
    while (!swapped && Date.now() < deadline) {
      const [title, year] = await Promise.all([ask(url, '{ books { title } }'), ask(url, '{ books { year } }')]);
      if (title.errors) failed++;
      swapped = year.data?.books?.[0]?.year === 1854;
    }
    expect(swapped).toBe(true);
    expect(failed).toBe(0);
    // It reported the fields it served to the registry: coordinates and counts only.
    await expect.poll(() => usageReports.some((r) => r['Book.year']), { timeout: 3000 }).toBe(true);
    const totals: Record<string, number> = {};
    for (const report of usageReports) for (const [coordinate, n] of Object.entries(report)) totals[coordinate] = (totals[coordinate] ?? 0) + n;
    expect(Object.keys(totals).sort()).toEqual(['Book.title', 'Book.year', 'Query.books']);
    expect(totals['Query.books']).toBe(totals['Book.title']! + totals['Book.year']!);
    await router.stop();

    registry.close();
    registry.closeAllConnections();
    const restarted = await startRouter();
    expect((await ask(restarted.url, '{ books { year } }')).data.books).toEqual([{ year: 1854 }]);
    await restarted.router.stop();
  });
});
