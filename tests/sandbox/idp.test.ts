// The sandbox identity provider's sign-in as the portal meets it: the authorization code flow with PKCE
// through the provider's own sign-in page, followed as a browser follows it (redirects, cookies, the
// form), ending in an access token the LA router accepts; and the refusals on the way.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useCaseworkerAuthentication } from '../../la-router/authenticate.ts';
import { SANDBOX_PASSWORD } from '../../sandbox/idp/interactions.ts';
import { createIdentityProviderServer } from '../../sandbox/idp/provider.ts';
import { freePort } from '../helpers/ports.ts';

const AUDIENCE = 'mais-router:northshire';
const REDIRECT = 'http://127.0.0.1:4100/portal/callback';
let issuer: string;
let stop: () => void;

/** A browser's part: one cookie jar, redirects followed by hand so each step can be seen. */
function browser() {
  const cookies = new Map<string, string>();
  return async (url: string, init: RequestInit = {}): Promise<Response> => {
    const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...value] = pair!.split('=');
      cookies.set(name!.trim(), value.join('='));
    }
    return response;
  };
}

function authorizeUrl(verifier: string, state: string): string {
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return `${issuer}/auth?${new URLSearchParams({ client_id: 'mais-portal', response_type: 'code', redirect_uri: REDIRECT, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256', state, resource: AUDIENCE })}`;
}

/** Follows redirects within the provider until one leaves it (the portal's callback) or a page is shown. */
async function follow(go: ReturnType<typeof browser>, response: Response): Promise<Response> {
  let current = response;
  while (current.status >= 300 && current.status < 400) {
    const location = new URL(current.headers.get('location')!, issuer).toString();
    if (!location.startsWith(issuer)) return current;
    current = await go(location);
  }
  return current;
}

beforeAll(async () => {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const port = await freePort();
  issuer = `http://127.0.0.1:${port}`;
  const { server } = createIdentityProviderServer({
    la: 'northshire',
    issuer,
    audience: AUDIENCE,
    signingKey: { ...(await exportJWK(privateKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' },
    cliSecret: 'test-secret',
    users: [{ username: 'olivia.bailey', displayName: 'Olivia Bailey', roles: ['csc.practitioner'] }],
    portalRedirectUris: [REDIRECT],
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  stop = () => {
    server.closeAllConnections();
    server.close();
  };
});

afterAll(() => stop?.());

describe('portal sign-in at the sandbox identity provider', () => {
  it('signs a caseworker in with the authorization code flow and PKCE, giving a token the LA router accepts', async () => {
    const go = browser();
    const verifier = randomBytes(32).toString('base64url');
    const state = randomBytes(8).toString('hex');
    const signIn = await follow(go, await go(authorizeUrl(verifier, state)));
    expect(signIn.status).toBe(200);
    const html = await signIn.text();
    expect(html).toMatch(/<label for="username">Username<\/label>/);
    expect(html).toMatch(/<label for="password">Password<\/label>/);
    const action = /<form method="post" action="([^"]+)"/.exec(html)![1]!;

    // A wrong password: the page again, saying so, and no code.
    const wrong = await go(`${issuer}${action}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username: 'olivia.bailey', password: 'guess' }).toString() });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toMatch(/role="alert"[\s\S]*not right/);

    const signedIn = await go(`${issuer}${action}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username: 'olivia.bailey', password: SANDBOX_PASSWORD }).toString() });
    const back = await follow(go, signedIn);
    const callback = new URL(back.headers.get('location')!);
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT);
    expect(callback.searchParams.get('state')).toBe(state);
    const code = callback.searchParams.get('code')!;
    expect(code).toBeTruthy();

    const exchange = (verifierToSend: string) =>
      fetch(`${issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'mais-portal', code_verifier: verifierToSend, resource: AUDIENCE }) });
    // The code is worth nothing without the verifier it was asked for with.
    expect((await exchange(randomBytes(32).toString('base64url'))).status).toBe(400);
    // (A refused exchange spends the code, as RFC 6749 asks: sign in once more for a fresh one.)
    const again = await follow(go, await go(authorizeUrl(verifier, state)));
    const code2 = new URL(again.headers.get('location')!).searchParams.get('code')!;
    const tokens = (await (
      await fetch(`${issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', code: code2, redirect_uri: REDIRECT, client_id: 'mais-portal', code_verifier: verifier, resource: AUDIENCE }) })
    ).json()) as { access_token?: string; id_token?: string };
    expect(tokens.id_token).toBeTruthy();
    const caller = await useCaseworkerAuthentication({ issuer, audience: AUDIENCE }).authenticate(`Bearer ${tokens.access_token}`);
    expect(caller).toEqual({ username: 'olivia.bailey', roles: ['csc.practitioner'], clientId: 'mais-portal' });
  });

  it('refuses a portal request without PKCE, or for a redirect it does not know', async () => {
    const go = browser();
    const noPkce = await go(`${issuer}/auth?${new URLSearchParams({ client_id: 'mais-portal', response_type: 'code', redirect_uri: REDIRECT, scope: 'openid' })}`);
    expect(new URL(noPkce.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
    const elsewhere = await go(`${issuer}/auth?${new URLSearchParams({ client_id: 'mais-portal', response_type: 'code', redirect_uri: 'https://evil.example/callback', scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' })}`);
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.headers.get('location')).toBeNull();
  });
});
