// A sandbox LA's identity provider: a real OpenID Connect provider (oidc-provider) whose accounts are
// the LA's synthetic caseworkers. Access tokens for the LA router are JWTs (audience: the router) signed
// with the provider's own key and carrying the caseworker's roles. `mais token` uses a sandbox-only
// grant that names the caseworker; the portal signs in with the authorization code flow and PKCE.
import { type Server } from 'node:http';
import { createHttpServer } from '../../lib/http-server.ts';
import Provider, { errors, type Configuration } from 'oidc-provider';
import type { JWK } from 'jose';
import { INTERACTION_PATH, interactionHandler, signOutPage } from './interactions.ts';

export interface Caseworker {
  username: string;
  displayName: string;
  roles: string[];
}

import { CLI_CLIENT, SANDBOX_USER_GRANT } from './grant.ts';

export { CLI_CLIENT, SANDBOX_USER_GRANT };

export interface IdentityProviderOptions {
  la: string;
  issuer: string;
  /** The audience of access tokens: the LA router. */
  audience: string;
  signingKey: JWK;
  users: Caseworker[];
  cliSecret: string;
  /** Where the portal may be sent back to after sign-in. */
  portalRedirectUris?: string[];
  accessTokenTtlSeconds?: number;
}

const portalOrigins = (options: IdentityProviderOptions) => [...new Set((options.portalRedirectUris ?? []).map((uri) => new URL(uri).origin))];

export function createIdentityProvider(options: IdentityProviderOptions): Provider {
  const users = new Map(options.users.map((u) => [u.username, u]));
  const ttl = options.accessTokenTtlSeconds ?? 3600;
  const resourceServer = {
    scope: 'openid',
    audience: options.audience,
    accessTokenTTL: ttl,
    accessTokenFormat: 'jwt' as const,
    jwt: { sign: { alg: 'ES256' as const } },
  };
  const configuration: Configuration = {
    clients: [
      { client_id: CLI_CLIENT, client_secret: options.cliSecret, grant_types: [SANDBOX_USER_GRANT], response_types: [], redirect_uris: [] },
      {
        client_id: 'mais-portal',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: options.portalRedirectUris ?? [],
        // Signing out of the portal ends the session here too, then returns to the portal's start.
        post_logout_redirect_uris: (options.portalRedirectUris ?? []).map((uri) => new URL('/portal/', uri).toString()),
      },
    ],
    jwks: { keys: [options.signingKey as never] },
    findAccount: async (_ctx, id) => {
      const user = users.get(id);
      if (!user) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, name: user.displayName, roles: user.roles }) };
    },
    claims: { openid: ['sub'], profile: ['name', 'roles'] },
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    // Sign-in pages of its own (sandbox/idp/interactions.ts), not oidc-provider's development ones.
    interactions: { url: (_ctx, interaction) => `${INTERACTION_PATH}${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.type = 'html';
          // The confirmation posts here, and the redirect after it ends at the portal.
          ctx.set('content-security-policy', `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${portalOrigins(options).join(' ')}; frame-ancestors 'none'`);
          ctx.body = signOutPage(options.la, form);
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => options.audience,
        useGrantedResource: async () => true,
        getResourceServerInfo: async () => resourceServer,
      },
    },
    extraTokenClaims: async (_ctx, token) => {
      const user = 'accountId' in token && token.accountId ? users.get(token.accountId) : undefined;
      return user ? { roles: user.roles, name: user.displayName, la: options.la } : {};
    },
    pkce: { required: () => true },
    // The portal, a browser application on the router's origin, exchanges its code at the token endpoint.
    clientBasedCORS: (_ctx, origin, client) => client.clientId === 'mais-portal' && (client.redirectUris ?? []).some((uri) => new URL(uri).origin === origin),
    ttl: { AccessToken: ttl, Grant: ttl },
  };
  const provider = new Provider(options.issuer, configuration);

  provider.registerGrantType(
    SANDBOX_USER_GRANT,
    async (ctx) => {
      const username = String((ctx.oidc.params as Record<string, unknown>).username ?? '');
      const user = users.get(username);
      if (!user) throw new errors.InvalidGrant(`no caseworker ${username} at ${options.la}`);
      const grant = new provider.Grant({ accountId: username, clientId: ctx.oidc.client!.clientId });
      grant.addOIDCScope('openid');
      grant.addResourceScope(options.audience, 'openid');
      const grantId = await grant.save();
      const token = new provider.AccessToken({ accountId: username, client: ctx.oidc.client!, grantId, gty: 'sandbox_user', scope: 'openid' });
      token.resourceServer = { ...resourceServer, identifier: () => options.audience } as never;
      const value = await token.save();
      ctx.body = { access_token: value, token_type: 'Bearer', expires_in: token.expiration, scope: 'openid' };
    },
    ['username'],
  );
  return provider;
}

/** The identity provider over HTTP: its sign-in pages at /interaction/, the OpenID Connect endpoints elsewhere. */
export function createIdentityProviderServer(options: IdentityProviderOptions): { provider: Provider; server: Server } {
  const provider = createIdentityProvider(options);
  const users = new Set(options.users.map((u) => u.username));
  const interactions = interactionHandler(provider, { la: options.la, audience: options.audience, isUser: (username) => users.has(username), portalOrigins: portalOrigins(options) });
  const oidc = provider.callback();
  const server = createHttpServer((req, res) => {
    if ((req.url ?? '').startsWith(INTERACTION_PATH)) {
      return void interactions(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('The sign-in could not continue.');
      });
    }
    oidc(req, res);
  });
  return { provider, server };
}
