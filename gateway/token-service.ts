// DfE's OAuth2 token endpoint for organisations (machine to machine): the client credentials grant with
// a private_key_jwt client assertion (RFC 7523), as NHS England's APIs take it. An organisation is a
// client while the registry holds it as ACTIVE with public keys; its assertion must name it as issuer
// and subject, be addressed to the token URL, live at most 5 minutes and be used once. The answer is a
// DfE-signed JWT access token (RFC 9068) for one DfE service (the `resource`), living 5 minutes at most.
// The protocol is oidc-provider's; this module only says who the clients are and what they may ask for.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { type RequestListener } from 'node:http';
import { createHttpServer } from '../lib/http-server.ts';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { errors, type Adapter, type AdapterPayload, type Configuration } from 'oidc-provider';
import { RESOURCE_SCOPES, scopesAllow } from '../lib/dfe-token.ts';
import { MAX_ASSERTION_SECONDS, ORGANISATION_ALGORITHMS, type Organisation } from '../lib/organisation-credential.ts';

/** The DfE services a token can be for: its `aud`, and what the organisation names as `resource`. */
export const DFE_RESOURCES = ['mais:dfe:locator', 'mais:dfe:matching', 'mais:dfe:registry', 'mais:dfe:relay'] as const;
export const ACCESS_TOKEN_MAX_SECONDS = 300;
export const TOKEN_PATH = '/oauth2/token';
export const JWKS_PATH = '/.well-known/jwks.json';
/** How far apart DfE's clock and an organisation's may be. */
const CLOCK_TOLERANCE_SECONDS = 60;

export interface TokenServiceOptions {
  /** DfE's public base URL: the issuer of access tokens; the token URL is this plus /oauth2/token. */
  issuer: string;
  /** DfE's private signing key (ES256, with kid). */
  signingKey: JWK;
  /** The organisation registry as the gateway currently knows it. */
  organisation(code: string): Organisation | undefined;
  /** Records a used assertion until it expires; false when it was recorded before (by any replica). */
  firstUse(id: string, expiresAt: Date): Promise<boolean>;
  accessTokenSeconds?: number;
}

/** oidc-provider's storage: clients from the organisation registry; everything else short-lived, in memory. */
function adapterFor(options: TokenServiceOptions) {
  const memory = new Map<string, { payload: AdapterPayload; expiresAt: number }>();
  return class implements Adapter {
    constructor(private readonly model: string) {}

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') {
        const organisation = options.organisation(id);
        if (!organisation || organisation.status !== 'ACTIVE' || !organisation.jwks?.keys?.length) return undefined;
        return {
          client_id: organisation.code,
          client_name: organisation.name,
          token_endpoint_auth_method: 'private_key_jwt',
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          jwks: organisation.jwks as never,
        } as AdapterPayload;
      }
      const found = memory.get(`${this.model}:${id}`);
      if (!found || found.expiresAt < Date.now()) return undefined;
      return found.payload;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      if (memory.size > 100_000) for (const [key, value] of memory) if (value.expiresAt < Date.now()) memory.delete(key);
      memory.set(`${this.model}:${id}`, { payload, expiresAt: Date.now() + expiresIn * 1000 });
    }

    async destroy(id: string): Promise<void> {
      memory.delete(`${this.model}:${id}`);
    }

    async consume(): Promise<void> {}
    async findByUid(): Promise<undefined> {
      return undefined;
    }
    async findByUserCode(): Promise<undefined> {
      return undefined;
    }
    async revokeByGrantId(): Promise<void> {}
  };
}

export function createTokenService(options: TokenServiceOptions): Provider {
  const ttl = options.accessTokenSeconds ?? ACCESS_TOKEN_MAX_SECONDS;
  if (!(ttl > 0 && ttl <= ACCESS_TOKEN_MAX_SECONDS)) throw new RangeError(`access tokens live between 1 and ${ACCESS_TOKEN_MAX_SECONDS} seconds`);
  const tokenUrl = `${options.issuer}${TOKEN_PATH}`;
  const resources = new Set<string>(DFE_RESOURCES);
  const configuration: Configuration = {
    adapter: adapterFor(options) as never,
    jwks: { keys: [options.signingKey as never] },
    clientAuthMethods: ['private_key_jwt'],
    enabledJWA: { clientAuthSigningAlgValues: ORGANISATION_ALGORITHMS as never },
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    // DfE signs with one ES256 key; no ID tokens are issued, but client metadata must agree with the key.
    clientDefaults: { id_token_signed_response_alg: 'ES256', grant_types: ['client_credentials'], response_types: [] },
    routes: { token: TOKEN_PATH, jwks: JWKS_PATH },
    // Opaque client-credentials tokens are never issued (every token is a JWT for one service); the
    // lifetime is set all the same, the same as the JWTs'.
    ttl: { ClientCredentials: ttl },
    scopes: [],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // A token is for one named DfE service: no resource, no token.
        defaultResource: async () => {
          throw new errors.InvalidTarget('name the DfE service the token is for as `resource` (one of ' + DFE_RESOURCES.join(', ') + ')');
        },
        getResourceServerInfo: async (_ctx, resource, client) => {
          if (!resources.has(resource)) throw new errors.InvalidTarget(`${resource} is not a DfE service`);
          // Only for a service the organisation's scopes open (each service checks them again on every call).
          const organisation = options.organisation(client.clientId);
          if (!organisation || !scopesAllow(organisation.scopes, resource)) throw new errors.InvalidTarget(`${client.clientId} has no scope for ${resource} (one of ${(RESOURCE_SCOPES[resource] ?? []).join(', ')})`);
          return { audience: resource, scope: '', accessTokenTTL: ttl, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
        },
      },
    },
    assertJwtClientAuthClaimsAndHeader: async (_ctx, claims, _header, client) => {
      const now = Math.floor(Date.now() / 1000);
      if (claims.sub !== client.clientId) throw new errors.InvalidClientAuth('sub (JWT subject) must be the client_id');
      if (claims.aud !== tokenUrl && !(Array.isArray(claims.aud) && claims.aud.length === 1 && claims.aud[0] === tokenUrl)) {
        throw new errors.InvalidClientAuth(`aud (JWT audience) must be the token URL, ${tokenUrl}`);
      }
      const exp = Number(claims.exp);
      const lifetime = typeof claims.iat === 'number' ? exp - claims.iat : exp - now;
      if (lifetime > MAX_ASSERTION_SECONDS || exp - now > MAX_ASSERTION_SECONDS + CLOCK_TOLERANCE_SECONDS) {
        throw new errors.InvalidClientAuth(`the client assertion must expire within ${MAX_ASSERTION_SECONDS} seconds`);
      }
      // Single use, across every replica: the store refuses a second record of the same assertion.
      const id = createHash('sha256').update(`${client.clientId}\n${String(claims.jti)}`).digest('base64url');
      if (!(await options.firstUse(id, new Date((exp + CLOCK_TOLERANCE_SECONDS) * 1000)))) {
        throw new errors.InvalidClientAuth('client assertion tokens must only be used once');
      }
    },
    extraTokenClaims: async (_ctx, token) => {
      const organisation = 'clientId' in token && token.clientId ? options.organisation(token.clientId) : undefined;
      return organisation ? { org: organisation.code, org_type: organisation.type } : {};
    },
  };
  const provider = new Provider(options.issuer, configuration);
  provider.proxy = true;
  return provider;
}

/**
 * DfE's token endpoint over a fixed set of organisations, on a loopback port with a fresh signing key and
 * single-use records in memory: for benchmarks and tests that run FIND or MATCH without DfE's gateway.
 */
export async function serveTokenService(organisations: ReadonlyMap<string, Organisation>, kid: string): Promise<{ issuer: string; tokenUrl: string; jwks: URL; close(): Promise<void> }> {
  let handle: RequestListener = (_req, res) => void res.writeHead(503).end();
  const server = createHttpServer((req, res) => handle(req, res)).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const used = new Set<string>();
  handle = createTokenService({
    issuer,
    signingKey: { ...(await exportJWK(privateKey)), kid, alg: 'ES256' },
    organisation: (code) => organisations.get(code),
    firstUse: async (id) => !used.has(id) && Boolean(used.add(id)),
  }).callback();
  return { issuer, tokenUrl: `${issuer}${TOKEN_PATH}`, jwks: new URL(`${issuer}${JWKS_PATH}`), close: () => new Promise((resolve) => server.close(() => resolve())) };
}
