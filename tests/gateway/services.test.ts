// DfE's services as organisations reach them: through the gateway, which checks each call at the edge
// (a DfE access token for that service, the organisation active now, its rate limit) and passes on only
// what the service needs.
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocator, type TestLocator } from '../helpers/locator.ts';
import { syntheticNhsNumber } from '../helpers/nhs.ts';

let locator: TestLocator;
let limited: TestLocator;
let racing: TestLocator;
let racer: Server;
/** Calls the racer dropped, by closing their kept-alive connection as they arrived. */
let dropped = 0;
let serial = 500_000;
const child = () => syntheticNhsNumber((serial += 7));
const REGISTER = `mutation ($input: [RecordRegistration!]!) { registerRecords(input: $input) { written created errors { code } } }`;
const LOOKUP = `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Child { locations { custodian { code } recordType } } } }`;

beforeAll(async () => {
  [locator, limited] = await Promise.all([startLocator(), startLocator({ gatewayRateLimitPerMinute: 3 })]);
  // In front of a third locator: a service that closes each kept-alive connection as the next call
  // arrives on it, without answering (the race between a service's idle timeout and the gateway's reuse).
  racing = await startLocator({
    gatewayReaches: async (locatorUrl) => {
      const calls = new WeakMap<object, number>();
      racer = createServer((req, res) => {
        const seen = (calls.get(req.socket) ?? 0) + 1;
        calls.set(req.socket, seen);
        if (seen > 1) {
          dropped++;
          return void req.socket.destroy();
        }
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          const headers = Object.fromEntries(Object.entries(req.headers).filter(([k, v]) => typeof v === 'string' && !['host', 'connection', 'content-length', 'keep-alive'].includes(k))) as Record<string, string>;
          void fetch(`${locatorUrl}${new URL(req.url ?? '/', 'http://racer.local').search}`, { method: req.method!, headers, ...(req.method === 'GET' ? {} : { body: Buffer.concat(chunks) }) }).then(async (answer) => {
            res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json', 'keep-alive': 'timeout=65' });
            res.end(Buffer.from(await answer.arrayBuffer()));
          });
        });
      });
      racer.keepAliveTimeout = 65_000;
      racer.listen(0, '127.0.0.1');
      await once(racer, 'listening');
      return `http://127.0.0.1:${(racer.address() as { port: number }).port}/graphql`;
    },
  });
}, 120_000);

afterAll(async () => {
  await locator?.close();
  await limited?.close();
  await racing?.close();
  racer?.closeAllConnections();
  racer?.close();
});

describe('DfE services behind the gateway', () => {
  it('passes a call with a DfE token for that service on, with its purpose, and answers as the service does', async () => {
    const nhsNumber = child();
    const registered = await locator.graphql(REGISTER, { input: [{ nhsNumber, systemId: 'northshire-csc', recordType: 'csc.referral' }] }, { url: locator.gatewayUrl });
    expect(registered.body.data.registerRecords).toEqual({ written: true, created: 1, errors: [] });
    const variables = { r: [{ __typename: 'Child', nhsNumber }] };
    const through = await locator.graphql(LOOKUP, variables, { url: locator.gatewayUrl, purpose: 'CHILD_PROTECTION_ENQUIRY' });
    const direct = await locator.graphql(LOOKUP, variables, { purpose: 'CHILD_PROTECTION_ENQUIRY' });
    expect(through.body).toEqual(direct.body);
    expect(through.body.data._entities[0].locations).toEqual([{ custodian: { code: 'northshire' }, recordType: 'csc.referral' }]);
  });

  it('refuses at the edge a call without a token, with a token for another DfE service, or from an organisation suspended since', async () => {
    const input = { input: [{ nhsNumber: child(), systemId: 's', recordType: 'csc.referral' }] };
    for (const token of [null, await locator.credential('northshire', 'mais:dfe:matching'), 'not-a-jwt']) {
      const reply = await locator.graphql(REGISTER, input, { url: locator.gatewayUrl, token });
      expect(reply.status).toBe(401);
      expect(reply.body.errors?.[0]).toMatchObject({ extensions: { code: 'UNAUTHENTICATED' }, message: expect.stringMatching(/oauth2\/token/) });
    }
    const token = await locator.credential('eastshire');
    expect((await locator.graphql(REGISTER, input, { url: locator.gatewayUrl, token })).status).toBe(200);
    await locator.store.sql.withSession((db) => db.query(`UPDATE organisation SET status = 'SUSPENDED' WHERE code = 'eastshire'`));
    try {
      await expect.poll(async () => (await locator.graphql(REGISTER, input, { url: locator.gatewayUrl, token })).status, { timeout: 3000 }).toBe(401);
    } finally {
      await locator.store.sql.withSession((db) => db.query(`UPDATE organisation SET status = 'ACTIVE' WHERE code = 'eastshire'`));
    }
  });

  it('holds each organisation to its rate limit with RATE_LIMITED and Retry-After, without slowing another', async () => {
    const input = () => ({ input: [{ nhsNumber: child(), systemId: 's', recordType: 'csc.referral' }] });
    const token = await limited.credential('northshire');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await limited.graphql(REGISTER, input(), { url: limited.gatewayUrl, token })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const response = await fetch(limited.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: REGISTER, variables: input() }) });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('RATE_LIMITED');
    expect((await limited.graphql(REGISTER, input(), { url: limited.gatewayUrl, as: 'southshire' })).status).toBe(200);
  });

  it('sends a call again, once, on a new connection when the service closed the kept one under it, and passes a GET’s query on', async () => {
    const token = await racing.credential('northshire');
    const before = dropped;
    for (let i = 0; i < 6; i++) {
      const nhsNumber = child();
      const reply = await racing.graphql(REGISTER, { input: [{ nhsNumber, systemId: 'northshire-csc', recordType: 'csc.referral' }] }, { url: racing.gatewayUrl, token });
      expect(reply.status).toBe(200);
      expect(reply.body.data.registerRecords).toEqual({ written: true, created: 1, errors: [] });
      const get = await fetch(`${racing.gatewayUrl}?query=${encodeURIComponent('{ __typename }')}`, { headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
      expect(get.status).toBe(200);
      expect(await get.json()).toEqual({ data: { __typename: 'Query' } });
    }
    // The racer did drop calls: each was sent again and answered.
    expect(dropped).toBeGreaterThan(before);
  });
});
