// Caseworkers present an OpenID Connect access token from the LA's identity provider. The router finds
// the provider's keys through its discovery document, checks signature, issuer, audience, expiry and
// not-before (60 s of clock skew at most), caches the keys and fetches them again when a token names a
// key it does not know (the provider rotated). Anything else is refused before any subgraph is called.
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { Caller } from './context.ts';

export class AuthenticationError extends Error {
  override name = 'AuthenticationError';
}

export interface AuthenticationOptions {
  issuer: string;
  audience: string;
  /** How soon after a fetch the keys may be fetched again for an unknown key id. */
  keyRefetchCooldownMs?: number;
}

const ALGORITHMS = ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'];

export function useCaseworkerAuthentication(options: AuthenticationOptions) {
  if (!options.issuer || !options.audience) throw new AuthenticationError('caseworker authentication needs an issuer and an audience');
  let keys: Promise<ReturnType<typeof createRemoteJWKSet>> | null = null;
  // A caseworker's token is sent with every request of its life: remember the ones already verified
  // until they expire, so each is checked once per router.
  const verified = new Map<string, { caller: Caller; exp: number }>();
  const MAX_REMEMBERED = 10_000;
  const discover = async () => {
    const response = await fetch(new URL('.well-known/openid-configuration', options.issuer.endsWith('/') ? options.issuer : `${options.issuer}/`), { signal: AbortSignal.timeout(5000) });
    if (!response.ok) throw new AuthenticationError(`the identity provider's discovery document answered ${response.status}`);
    const metadata = (await response.json()) as { issuer?: string; jwks_uri?: string };
    if (metadata.issuer !== options.issuer || !metadata.jwks_uri) throw new AuthenticationError('the identity provider’s discovery document does not match the configured issuer');
    return createRemoteJWKSet(new URL(metadata.jwks_uri), { cooldownDuration: options.keyRefetchCooldownMs ?? 5000, timeoutDuration: 5000 });
  };
  return {
    /** The caseworker of `Authorization: Bearer <token>`; throws AuthenticationError otherwise. */
    async authenticate(authorization: string | undefined): Promise<Caller> {
      const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
      if (!token) throw new AuthenticationError('no access token');
      const known = verified.get(token);
      if (known && known.exp > Date.now() / 1000) return known.caller;
      if (!keys) keys = discover().catch((error: unknown) => ((keys = null), Promise.reject(error)));
      let payload;
      try {
        ({ payload } = await jwtVerify(token, await keys, { issuer: options.issuer, audience: options.audience, algorithms: ALGORITHMS, clockTolerance: 60, requiredClaims: ['sub', 'exp'] }));
      } catch (error) {
        throw new AuthenticationError(`access token refused: ${error instanceof Error ? error.message : String(error)}`);
      }
      const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
      // The OAuth client the token was issued to (RFC 9068 client_id; azp in some providers).
      const clientId = typeof payload.client_id === 'string' ? payload.client_id : typeof payload.azp === 'string' ? payload.azp : undefined;
      const caller: Caller = { username: payload.sub!, roles, ...(clientId ? { clientId } : {}) };
      if (verified.size >= MAX_REMEMBERED) verified.delete(verified.keys().next().value!);
      verified.set(token, { caller, exp: payload.exp! });
      return caller;
    },
  };
}
