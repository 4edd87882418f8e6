// Caseworker authentication at the LA router, against a real OpenID Connect provider on loopback.
import { once } from 'node:events';
import type { Server } from 'node:http';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRouterConfig } from '../../la-router/config.ts';
import { createRouter, type Router } from '../../la-router/server.ts';
import { createIdentityProvider, SANDBOX_USER_GRANT } from '../../sandbox/idp/provider.ts';
import { createCscService } from '../../subgraphs/csc/service.ts';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import { startLaSubgraph, type TestLaSubgraph } from '../helpers/la-subgraph.ts';
import { freePort } from '../helpers/ports.ts';

const AUDIENCE = 'mais-router:northshire';
let issuer: string;
let idpPort: number;
let idpServer: Server;
let signingKey: JWK;
let csc: TestLaSubgraph;
let proxy: FaultProxy;
let router: Router;
let url: string;

async function newKey(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
}

async function startIdp(key: JWK): Promise<void> {
  const provider = createIdentityProvider({
    la: 'northshire',
    issuer,
    audience: AUDIENCE,
    signingKey: key,
    cliSecret: 'test-secret',
    users: [{ username: 'olivia.bailey', displayName: 'Olivia Bailey', roles: ['csc.practitioner'] }],
  });
  idpServer = provider.listen(idpPort, '127.0.0.1');
  await once(idpServer, 'listening');
}

async function tokenFor(username: string): Promise<string> {
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('mais-cli:test-secret').toString('base64')}` },
    body: new URLSearchParams({ grant_type: SANDBOX_USER_GRANT, username }),
  });
  const body = (await response.json()) as { access_token?: string; error?: string };
  if (!body.access_token) throw new Error(`no token: ${JSON.stringify(body)}`);
  return body.access_token;
}

/** A token as the provider would sign it, with claims the test chooses. */
async function forged(claims: Record<string, unknown>, key: JWK = signingKey, alg = 'ES256'): Promise<string> {
  return new SignJWT({ roles: ['csc.practitioner'], ...claims })
    .setProtectedHeader({ alg, kid: key.kid!, typ: 'at+jwt' })
    .setSubject('olivia.bailey')
    .sign(await importJWK(key, alg));
}

const now = () => Math.floor(Date.now() / 1000);
const QUERY = `query ($n: NhsNumber!) { child(nhsNumber: $n, purpose: CHILD_PROTECTION_ENQUIRY) { nhsNumber socialCare { personId } } }`;

async function ask(token?: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: QUERY, variables: { n: '9434765919' } }),
  });
  return { status: response.status, body: (await response.json()) as { data?: any; errors?: any[] } };
}

beforeAll(async () => {
  idpPort = await freePort();
  issuer = `http://127.0.0.1:${idpPort}`;
  signingKey = await newKey('idp-1');
  await startIdp(signingKey);
  csc = await startLaSubgraph('csc', createCscService, { children: 200, seed: 3 });
  proxy = await startFaultProxy(csc.url.replace(/\/graphql$/, ''));
  const config = parseRouterConfig({
    la: 'northshire',
    port: 0,
    mode: 'production',
    subgraphs: [{ name: 'csc', url: `${proxy.url}/graphql`, kind: 'la' }],
    oidc: { issuer, audience: AUDIENCE, keyRefetchCooldownMs: 0 },
  });
  router = await createRouter({ config, internalToken: csc.signer, dfeCredential: null });
  router.server.listen(0, '127.0.0.1');
  await once(router.server, 'listening');
  url = `http://127.0.0.1:${(router.server.address() as { port: number }).port}/graphql`;
}, 120_000);

afterAll(async () => {
  await router?.stop();
  idpServer?.close();
  await proxy?.close();
  await csc?.close();
});

describe('caseworker authentication', () => {
  it('accepts an access token from the LA’s identity provider', async () => {
    const seen = proxy.seen.length;
    const reply = await ask(await tokenFor('olivia.bailey'));
    expect(reply.status).toBe(200);
    expect(reply.body.data.child.nhsNumber).toBe('9434765919');
    expect(proxy.seen.length).toBeGreaterThan(seen);
  });

  it.each([
    ['no token', async () => undefined],
    ['an expired token', async () => forged({ iss: issuer, aud: AUDIENCE, iat: now() - 7200, exp: now() - 120 })],
    ['a token not yet valid', async () => forged({ iss: issuer, aud: AUDIENCE, iat: now(), nbf: now() + 600, exp: now() + 3600 })],
    ['a token for another audience', async () => forged({ iss: issuer, aud: 'mais-router:southshire', iat: now(), exp: now() + 600 })],
    ['a token from another issuer', async () => forged({ iss: 'http://127.0.0.1:1/other', aud: AUDIENCE, iat: now(), exp: now() + 600 })],
    ['a token signed by another key', async () => forged({ iss: issuer, aud: AUDIENCE, iat: now(), exp: now() + 600 }, { ...(await newKey('idp-1')) })],
    [
      'an unsigned token (alg: none)',
      async () => {
        const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
        return `${part({ alg: 'none', typ: 'at+jwt' })}.${part({ iss: issuer, aud: AUDIENCE, sub: 'olivia.bailey', roles: ['csc.manager'], exp: now() + 600 })}.`;
      },
    ],
    ['something that is not a JWT', async () => 'let-me-in'],
  ])('refuses %s with 401 UNAUTHENTICATED and calls no subgraph', async (_name, make) => {
    const seen = proxy.seen.length;
    const reply = await ask(await make());
    expect(reply.status).toBe(401);
    expect(reply.body.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(reply.body.data).toBeUndefined();
    expect(proxy.seen.length).toBe(seen);
  });

  it('a token just past its expiry is still accepted within 60 seconds of clock skew, and not after', async () => {
    expect((await ask(await forged({ iss: issuer, aud: AUDIENCE, iat: now() - 600, exp: now() - 30 }))).status).toBe(200);
    expect((await ask(await forged({ iss: issuer, aud: AUDIENCE, iat: now() - 600, exp: now() - 90 }))).status).toBe(401);
  });

  it('follows the provider’s key rotation', async () => {
    await ask(await tokenFor('olivia.bailey'));
    idpServer.close();
    idpServer.closeAllConnections();
    signingKey = await newKey('idp-2');
    await startIdp(signingKey);
    const reply = await ask(await tokenFor('olivia.bailey'));
    expect(reply.status).toBe(200);
  });
});
