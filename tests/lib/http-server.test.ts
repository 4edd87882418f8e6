// Idle keep-alive connections: a client that reuses one after a pause (a load balancer after its idle
// timeout, a client whose event loop was busy) must get an answer, not a connection closed under it.
import { once } from 'node:events';
import { connect } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createGraphQLServer } from '../../lib/graphql/http.ts';
import { KEEP_ALIVE_MS } from '../../lib/http-server.ts';
import { serveOnLoopback } from '../helpers/ports.ts';

const apollo = new ApolloServer({ typeDefs: 'type Query { hello: String }', resolvers: { Query: { hello: () => 'hello' } } });
const server = createGraphQLServer({ apollo, context: async () => ({}) });
let url: string;

beforeAll(async () => {
  await apollo.start();
  url = await serveOnLoopback(server);
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await apollo.stop();
});

const ask = () => fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ hello }' }) });

it('tells clients how long it keeps an idle connection, longer than a load balancer’s 60 s', async () => {
  const reply = await ask();
  expect(reply.status).toBe(200);
  expect(reply.headers.get('keep-alive')).toBe(`timeout=${KEEP_ALIVE_MS / 1000}`);
  expect(KEEP_ALIVE_MS).toBeGreaterThan(60_000);
});

it('answers a second request on a connection left idle for longer than Node’s default 5 s, as a load balancer reuses it', async () => {
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  await once(socket, 'connect');
  let received = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
  const body = JSON.stringify({ query: '{ hello }' });
  const request = `POST /graphql HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nconnection: keep-alive\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
  const answers = () => received.split('HTTP/1.1 200 OK').length - 1;
  socket.write(request);
  await expect.poll(answers, { timeout: 5_000, interval: 20 }).toBe(1);
  await new Promise((resolve) => setTimeout(resolve, 6_000));
  expect(socket.destroyed || socket.readableEnded).toBe(false);
  socket.write(request);
  await expect.poll(answers, { timeout: 5_000, interval: 20 }).toBe(2);
  socket.destroy();
}, 20_000);
