// DfE's token endpoint as organisations meet it: a DfE access token for a client assertion signed with
// the organisation's own key, and every way an assertion is refused, over a real central store.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import fc from 'fast-check';
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type CentralClient, type Store } from '../../lib/db/store.ts';
import { CLIENT_ASSERTION_TYPE, DfeTokenError, useDfeTokenClient, useDfeTokenVerifier } from '../../lib/dfe-token.ts';
import { createGateway, type Gateway } from '../../gateway/server.ts';
import { freshDatabase, type TestDatabase } from '../helpers/database.ts';
import { freePort } from '../helpers/ports.ts';
import { MetricsConfigError, metricsExposureFromEnv } from '../../lib/service/metrics-endpoint.ts';

let database: TestDatabase;
let store: Store<CentralClient>;
let gateway: Gateway;
let dfeKey: JWK;
let issuer: string;
let tokenUrl: string;
const keys = new Map<string, JWK>();

const ORGANISATIONS = [
  { code: 'northshire', name: 'Northshire County Council', type: 'LA' as const, alg: 'ES256' },
  { code: 'north-icb', name: 'NHS North Integrated Care Board', type: 'HEALTH' as const, alg: 'RS512' },
  { code: 'eastshire', name: 'Eastshire Council', type: 'LA' as const, alg: 'RS256' },
];

async function newKey(kid: string, alg: string): Promise<{ privateKey: JWK; publicKey: JWK }> {
  const pair = await generateKeyPair(alg, { extractable: true });
  return { privateKey: { ...(await exportJWK(pair.privateKey)), kid, alg }, publicKey: { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' } };
}

/** A client assertion with the claims a test chooses. */
async function assertion(org: string, overrides: Record<string, unknown> = {}, key: JWK = keys.get(org)!): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: org, sub: org, aud: tokenUrl, jti: randomUUID(), iat: now, exp: now + 60, ...overrides };
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg!, kid: key.kid! }).sign(await importJWK(key, key.alg));
}

async function requestToken(fields: Record<string, string>) {
  const response = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
  return { status: response.status, body: (await response.json()) as { access_token?: string; expires_in?: number; error?: string; error_description?: string } };
}

const withAssertion = (org: string, clientAssertion: string, extra: Record<string, string> = {}) =>
  requestToken({ grant_type: 'client_credentials', client_id: org, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: clientAssertion, resource: 'mais:dfe:locator', ...extra });

beforeAll(async () => {
  database = await freshDatabase();
  store = await openStore({ kind: 'central', dataDir: database.dataDir, poolSize: 4, ...(database.databaseUrl ? { databaseUrl: database.databaseUrl } : {}) });
  for (const org of ORGANISATIONS) {
    const { privateKey, publicKey } = await newKey(`${org.code}-1`, org.alg);
    keys.set(org.code, privateKey);
    await store.prisma.organisation.create({ data: { code: org.code, name: org.name, type: org.type, scopes: ['find'], jwks: { keys: [publicKey] } as never } });
  }
  const port = await freePort();
  issuer = `http://127.0.0.1:${port}`;
  tokenUrl = `${issuer}/oauth2/token`;
  dfeKey = (await newKey('dfe-1', 'ES256')).privateKey;
  gateway = await createGateway({ sql: store.sql, issuer, signingKey: dfeKey, refreshMs: 100 });
  gateway.server.listen(port, '127.0.0.1');
  await once(gateway.server, 'listening');
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await store?.close();
  await database?.drop();
});

describe('DfE token endpoint', () => {
  it('issues a DfE-signed access token for one service, living at most 5 minutes, that the service verifies against DfE’s published keys', async () => {
    const client = useDfeTokenClient({ tokenUrl, organisation: 'northshire', privateKey: keys.get('northshire')!, resource: 'mais:dfe:locator' });
    const token = await client.token();
    expect(await client.token()).toBe(token);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', kid: 'dfe-1', typ: 'at+jwt' });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ iss: issuer, aud: 'mais:dfe:locator', client_id: 'northshire', org: 'northshire', org_type: 'LA' });
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(300);
    const verifier = useDfeTokenVerifier({ issuer, jwks: new URL(`${issuer}/.well-known/jwks.json`), audience: 'mais:dfe:locator', organisation: (code) => gateway.organisations.get(code) });
    expect((await verifier.verify(`Bearer ${token}`)).code).toBe('northshire');
    const elsewhere = useDfeTokenVerifier({ issuer, jwks: new URL(`${issuer}/.well-known/jwks.json`), audience: 'mais:dfe:matching', organisation: (code) => gateway.organisations.get(code) });
    await expect(elsewhere.verify(`Bearer ${token}`)).rejects.toThrow(/aud/);
  });

  it('takes RS512 and RS256 assertions as well as ES256', async () => {
    for (const org of ['north-icb', 'eastshire']) expect((await withAssertion(org, await assertion(org))).body.access_token).toBeTruthy();
  });

  it('refuses an unknown client, a bad signature, a reused jti, an expired or long-lived assertion and a wrong audience', async () => {
    const cases: [string, Promise<string>, string, string?][] = [
      ['unknown client', assertion('westshire', {}, keys.get('northshire')!), 'westshire'],
      ['another organisation’s key', assertion('northshire', {}, { ...keys.get('eastshire')!, kid: 'northshire-1' }), 'northshire'],
      ['expired', assertion('northshire', { iat: Math.floor(Date.now() / 1000) - 600, exp: Math.floor(Date.now() / 1000) - 300 }), 'northshire'],
      ['lives 10 minutes', assertion('northshire', { exp: Math.floor(Date.now() / 1000) + 600 }), 'northshire'],
      ['addressed to a service, not the token URL', assertion('northshire', { aud: 'mais:dfe:locator' }), 'northshire'],
      // The subject names the client: one that is not the client_id is a malformed request.
      ['subject is another organisation', assertion('northshire', { sub: 'eastshire' }), 'northshire', 'invalid_request'],
    ];
    for (const [why, signed, org, error = 'invalid_client'] of cases) {
      const reply = await withAssertion(org, await signed);
      expect(reply.status, why).toBe(error === 'invalid_client' ? 401 : 400);
      expect(reply.body.error, why).toBe(error);
      expect(reply.body.access_token, why).toBeUndefined();
    }
    const once = await assertion('northshire');
    expect((await withAssertion('northshire', once)).status).toBe(200);
    const again = await withAssertion('northshire', once);
    expect(again.status).toBe(401);
    expect(again.body.error).toBe('invalid_client');
    expect(again.body.access_token).toBeUndefined();
  });

  it('refuses a reused assertion at another replica over the same store', async () => {
    const replica = await createGateway({ sql: store.sql, issuer, signingKey: (await newKey('dfe-1', 'ES256')).privateKey });
    const port = await freePort();
    replica.server.listen(port, '127.0.0.1');
    await once(replica.server, 'listening');
    try {
      const signed = await assertion('northshire');
      expect((await withAssertion('northshire', signed)).status).toBe(200);
      const elsewhere = await fetch(`http://127.0.0.1:${port}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'northshire', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: signed, resource: 'mais:dfe:locator' }),
      });
      expect(elsewhere.status).toBe(401);
    } finally {
      await replica.stop();
    }
  });

  it('needs a DfE service as resource and the client credentials grant', async () => {
    const none = await requestToken({ grant_type: 'client_credentials', client_id: 'northshire', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: await assertion('northshire') });
    expect(none.body.error).toBe('invalid_target');
    const unknown = await withAssertion('northshire', await assertion('northshire'), { resource: 'https://example.org/api' });
    expect(unknown.body.error).toBe('invalid_target');
    const password = await withAssertion('northshire', await assertion('northshire'), { grant_type: 'password' });
    expect(password.status).toBe(400);
    expect(password.body.error).toMatch(/unsupported_grant_type|invalid_request/);
  });

  it('refuses a suspended organisation a token, and its tokens already issued, on its next request', async () => {
    const client = useDfeTokenClient({ tokenUrl, organisation: 'eastshire', privateKey: keys.get('eastshire')!, resource: 'mais:dfe:locator' });
    const token = await client.token();
    const verifier = useDfeTokenVerifier({ issuer, jwks: new URL(`${issuer}/.well-known/jwks.json`), audience: 'mais:dfe:locator', organisation: (code) => gateway.organisations.get(code) });
    expect((await verifier.verify(`Bearer ${token}`)).code).toBe('eastshire');
    await store.prisma.organisation.update({ where: { code: 'eastshire' }, data: { status: 'SUSPENDED' } });
    try {
      await expect.poll(() => gateway.organisations.get('eastshire')?.status, { timeout: 3000 }).toBe('SUSPENDED');
      await expect(verifier.verify(`Bearer ${token}`)).rejects.toThrow(/suspended/);
      client.forget();
      const refused = await client.token().catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(DfeTokenError);
      expect((refused as DfeTokenError).status).toBe(401);
    } finally {
      await store.prisma.organisation.update({ where: { code: 'eastshire' }, data: { status: 'ACTIVE' } });
    }
  });
});

describe('DfE gateway: operators and callers who do not authenticate', () => {
  const token = 'gateway-metrics-token-0123456789abcdef';
  /** A gateway over the same store with another metrics configuration, listening on loopback while `use` runs. */
  async function withGateway(extra: Partial<Parameters<typeof createGateway>[0]>, use: (origin: string, started: Gateway) => Promise<void>): Promise<void> {
    // DfE's key, as every replica has it: tokens any replica signs are verified by each.
    const started = await createGateway({ sql: store.sql, issuer, signingKey: dfeKey, ...extra });
    try {
      const port = await freePort();
      started.server.listen(port, '127.0.0.1');
      await once(started.server, 'listening');
      await use(`http://127.0.0.1:${port}`, started);
    } finally {
      await started.stop();
    }
    expect(started.metrics.address).toBeNull();
  }

  it('reads one configuration for every service, refusing a short token or an address that is not host:port', () => {
    expect(metricsExposureFromEnv({})).toEqual({});
    expect(metricsExposureFromEnv({ MAIS_METRICS_TOKEN: ` ${token} `, MAIS_METRICS_LISTEN: '10.0.0.5:9464' })).toEqual({ token, listen: { host: '10.0.0.5', port: 9464 } });
    expect(metricsExposureFromEnv({ MAIS_METRICS_LISTEN: '[::1]:0' })).toEqual({ listen: { host: '::1', port: 0 } });
    fc.assert(
      fc.property(fc.string({ maxLength: 23 }).filter((t) => t.trim() !== ''), (short) => {
        expect(() => metricsExposureFromEnv({ MAIS_METRICS_TOKEN: short })).toThrow(MetricsConfigError);
      }),
      { seed: 32 },
    );
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 30 }), fc.nat().map((n) => `host:${n + 65536}`), fc.constant('9464'), fc.constant('http://10.0.0.5:9464')).filter((a) => a.trim() !== '' && !/^[A-Za-z0-9.-]+:\d{1,5}$/.test(a.trim())), (address) => {
        expect(() => metricsExposureFromEnv({ MAIS_METRICS_LISTEN: address })).toThrow(MetricsConfigError);
      }),
      { seed: 32 },
    );
  });

  it('serves no /metrics without configuration, whatever is sent', async () => {
    for (const headers of [{}, { authorization: `Bearer ${token}` }] as Record<string, string>[]) {
      const response = await fetch(`http://127.0.0.1:${new URL(issuer).port}/metrics`, { headers });
      expect(response.status).toBe(404);
      expect(await response.text()).not.toContain('mais_gateway');
    }
  });

  it('serves /metrics on the public listener only with the operator’s token', async () => {
    await withGateway({ metrics: { token } }, async (origin) => {
      for (const authorization of [undefined, 'Bearer', `Bearer ${token.slice(1)}`, `Basic ${token}`, `Bearer ${randomUUID()}`]) {
        const refused = await fetch(`${origin}/metrics`, { headers: authorization ? { authorization } : {} });
        expect(refused.status).toBe(401);
        expect(await refused.text()).not.toContain('mais_gateway');
      }
      const served = await fetch(`${origin}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(served.status).toBe(200);
      expect(await served.text()).toMatch(/^# HELP mais_gateway_/m);
    });
  });

  it('serves /metrics only on the operator’s listener when one is configured, and nothing else there', async () => {
    await withGateway({ metrics: { listen: { host: '127.0.0.1', port: 0 } } }, async (origin, started) => {
      expect((await fetch(`${origin}/metrics`)).status).toBe(404);
      const operator = `http://127.0.0.1:${started.metrics.address!.port}`;
      expect(await (await fetch(`${operator}/metrics`)).text()).toMatch(/^# HELP mais_gateway_/m);
      expect((await fetch(`${operator}/oauth2/token`, { method: 'POST' })).status).toBe(404);
    });
  });

  it('answers 429 with Retry-After to a client address past its limit of requests that do not authenticate, at the services and the token endpoint, and never to a valid token', async () => {
    const LIMIT = 4;
    // FIND's address is never reached here: what is checked happens at the edge.
    await withGateway({ unauthenticatedRateLimitPerMinute: LIMIT, trustedProxies: ['loopback'], services: { locator: 'http://127.0.0.1:9/graphql' } }, async (origin) => {
      // A token DfE signed (at another replica: the same key).
      const validToken = await useDfeTokenClient({ tokenUrl, organisation: 'northshire', privateKey: keys.get('northshire')!, resource: 'mais:dfe:locator' }).token();
      const service = `${origin}/subgraphs/locator/graphql`;
      let run = 0;
      const badToken = fc.oneof(fc.constant(undefined), fc.string({ maxLength: 40 }).map((t) => `Bearer ${t}`), fc.constant('Basic bm9ydGhzaGlyZQ=='));
      await fc.assert(
        fc.asyncProperty(fc.array(fc.record({ client: fc.nat({ max: 1 }), authorization: badToken, spoofed: fc.option(fc.ipV4(), { nil: undefined }) }), { minLength: 1, maxLength: 2 * (LIMIT + 2) }), async (steps) => {
          run += 1;
          const spent = new Map<number, number>();
          for (const { client, authorization, spoofed } of steps) {
            const address = `10.${run}.1.${client + 1}`;
            const response = await fetch(service, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': spoofed ? `${spoofed}, ${address}` : address, ...(authorization ? { authorization } : {}) }, body: '{"query":"{ __typename }"}' });
            const count = spent.get(client) ?? 0;
            spent.set(client, count + 1);
            expect(response.status).toBe(count < LIMIT ? 401 : 429);
            if (response.status === 429) expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
          }
          // A valid token from a spent address is let through (to a service that is not there).
          const valid = await fetch(service, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': `10.${run}.1.1`, authorization: `Bearer ${validToken}` }, body: '{"query":"{ __typename }"}' });
          expect([401, 429]).not.toContain(valid.status);
        }),
        { numRuns: 15, seed: 32 },
      );
      // The token endpoint: refused assertions count; past the limit the address waits.
      const address = '10.250.0.1';
      const ask = async (clientAssertion: string, from = address) =>
        (await fetch(`${origin}/oauth2/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': from },
          body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'northshire', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: clientAssertion, resource: 'mais:dfe:locator' }),
        })).status;
      const forgedAssertions = await Promise.all(Array.from({ length: LIMIT + 2 }, async () => assertion('northshire', {}, (await newKey('northshire-1', 'ES256')).privateKey)));
      const statuses: number[] = [];
      for (const forged of forgedAssertions) statuses.push(await ask(forged));
      expect(statuses).toEqual([...Array(LIMIT).fill(401), 429, 429]);
      // Another address is not held back: its refusal is a 401 of its own.
      expect(await ask(forgedAssertions[0]!, '10.250.0.2')).toBe(401);
    });
  });

  // Last in the file: it spends the loopback address's allowance at the main gateway.
  it('still answers a valid client assertion from an address past its limit of refused ones, as an organisation reinstated after a suspension needs', async () => {
    const forged = (await newKey('northshire-1', 'ES256')).privateKey;
    const refused = async () => (await withAssertion('northshire', await assertion('northshire', {}, forged))).status;
    // Refusals earlier in the file count too: a run of 401s until the address is past its limit, then 429.
    // (Asked until the first 429, so that the window cannot roll over in the middle of the run.)
    const statuses: number[] = [];
    while (statuses.length < 200 && statuses.at(-1) !== 429) statuses.push(await refused());
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.slice(0, -1).every((s) => s === 401)).toBe(true);
    const valid = await withAssertion('northshire', await assertion('northshire'));
    expect(valid.status).toBe(200);
    expect(valid.body.access_token).toBeDefined();
    // And the address is still held back for the refused ones.
    expect(await refused()).toBe(429);
  });
});
