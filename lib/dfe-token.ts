// DfE access tokens, both ends. An organisation's tools (an LA router, `mais register sync`) get one
// from DfE's token endpoint with a client assertion signed by the organisation's own key, and reuse it
// until shortly before it expires; a DfE service accepts nothing else, and takes the calling
// organisation from the verified token (never from a header the caller sets), checking the registry
// on every request so a suspension counts at once.
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JSONWebKeySet, type JWK } from 'jose';
import { useOrganisationSigner, type Organisation } from './organisation-credential.ts';

/** The DfE service name MATCH's tokens are for. */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** A token is asked for again this long before it expires. */
const RENEW_BEFORE_SECONDS = 30;

export class DfeTokenError extends Error {
  override name = 'DfeTokenError';
  constructor(
    message: string,
    /** The token endpoint's HTTP status, when it answered. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * The scopes that open each DfE service: an organisation holds one of them in DfE's organisation
 * registry, or DfE issues it no token for the service and the service refuses it (both, on every call).
 * FIND's fields each need their own (`find` to locate, `register` to register records).
 */
export const RESOURCE_SCOPES: Readonly<Record<string, readonly string[]>> = {
  'mais:dfe:locator': ['find', 'register'],
  'mais:dfe:matching': ['match'],
  'mais:dfe:registry': ['registry', 'registry:admin'],
  'mais:dfe:relay': ['relay'],
};

/** Whether an organisation's scopes open a DfE service (a service with no scopes listed opens to none). */
export const scopesAllow = (scopes: readonly string[], resource: string): boolean => (RESOURCE_SCOPES[resource] ?? []).some((scope) => scopes.includes(scope));

/** The organisation is known and active, but its scopes do not open the service: 403, not 401. */
export class DfeScopeError extends DfeTokenError {
  override name = 'DfeScopeError';
  constructor(organisation: string, resource: string) {
    super(`${organisation} has no scope for ${resource} in DfE's organisation registry (one of ${(RESOURCE_SCOPES[resource] ?? []).join(', ')})`, 403);
  }
}

export interface DfeTokenClientOptions {
  /** DfE's token URL, e.g. http://127.0.0.1:4000/oauth2/token. */
  tokenUrl: string;
  organisation: string;
  /** The organisation's private key (with kid and alg) whose public half DfE's registry holds. */
  privateKey: JWK;
  /** The DfE service the token is for, e.g. mais:dfe:locator. */
  resource: string;
}

/** A DfE access token for one service, fetched when needed and reused until shortly before it expires. */
export function useDfeTokenClient(options: DfeTokenClientOptions) {
  const signer = useOrganisationSigner({ organisation: options.organisation, privateKey: options.privateKey, audience: options.tokenUrl, ttlSeconds: 60 });
  let cached: { token: string; renewAt: number } | null = null;
  let pending: Promise<string> | null = null;

  async function fetchToken(): Promise<string> {
    let response: Response;
    try {
      response = await fetch(options.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: options.organisation,
          client_assertion_type: CLIENT_ASSERTION_TYPE,
          client_assertion: await signer.sign(),
          resource: options.resource,
        }),
        signal: AbortSignal.timeout(5000),
      });
    } catch (error) {
      throw new DfeTokenError(`DfE's token endpoint cannot be reached: ${error instanceof Error ? error.message : String(error)}`);
    }
    const body = (await response.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: string; error_description?: string };
    if (!response.ok || !body.access_token) {
      throw new DfeTokenError(`DfE refused a token for ${options.resource}: ${body.error_description ?? body.error ?? `HTTP ${response.status}`}`, response.status);
    }
    const lifetime = Number(body.expires_in ?? 60);
    cached = { token: body.access_token, renewAt: Date.now() + Math.max(1, lifetime - RENEW_BEFORE_SECONDS) * 1000 };
    return body.access_token;
  }

  return {
    async token(): Promise<string> {
      if (cached && Date.now() < cached.renewAt) return cached.token;
      pending ??= fetchToken().finally(() => (pending = null));
      return pending;
    },
    /** Forgets the held token (after a service refused it), so the next call fetches another. */
    forget(): void {
      cached = null;
    },
  };
}

export interface DfeTokenVerifierOptions {
  /** DfE's issuer (the gateway's public base URL). */
  issuer: string;
  /** DfE's public keys: the key set, or the gateway's JWKS URL (fetched, cached, refetched for an unknown kid). */
  jwks: JSONWebKeySet | URL;
  /** This service's resource name, e.g. mais:dfe:locator. */
  audience: string;
  /**
   * The organisation registry as the service currently knows it: every call is checked against it (known,
   * active, and holding a scope that opens the service), as DfE's gateway checks it first.
   */
  organisation(code: string): Organisation | undefined;
}

/** DfE's public keys for jose: a key set as given, or the gateway's JWKS URL (fetched, cached, refetched for an unknown kid). */
export function keySet(jwks: JSONWebKeySet | URL) {
  return jwks instanceof URL ? createRemoteJWKSet(jwks) : createLocalJWKSet(jwks);
}

export function useDfeTokenVerifier(options: DfeTokenVerifierOptions) {
  const keys = keySet(options.jwks);
  // A token is presented many times in its short life: its verified claims are kept until it expires.
  const verified = new Map<string, { code: string; type: string; exp: number }>();
  const MAX_REMEMBERED = 10_000;
  return {
    /** The calling organisation from `Authorization: Bearer <DfE access token>`; throws DfeTokenError otherwise. */
    async verify(authorization: string | undefined): Promise<Organisation> {
      const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
      if (!token) throw new DfeTokenError('no DfE access token');
      let known = verified.get(token);
      if (!known || known.exp <= Date.now() / 1000) {
        try {
          const { payload } = await jwtVerify(token, keys, { issuer: options.issuer, audience: options.audience, algorithms: ['ES256'], typ: 'at+jwt', clockTolerance: 5, requiredClaims: ['exp', 'client_id'] });
          known = { code: String(payload.client_id), type: String(payload.org_type ?? 'LA'), exp: payload.exp! };
        } catch (error) {
          throw new DfeTokenError(`DfE access token refused: ${error instanceof Error ? error.message : String(error)}`);
        }
        if (verified.size >= MAX_REMEMBERED) verified.delete(verified.keys().next().value!);
        verified.set(token, known);
      }
      const organisation = options.organisation(known.code);
      if (!organisation) throw new DfeTokenError(`organisation ${known.code} is not in DfE's registry`);
      if (organisation.status !== 'ACTIVE') throw new DfeTokenError(`organisation ${organisation.code} is suspended`);
      // The scope as the registry holds it now: one withdrawn counts on the next call, not at the token's expiry.
      if (!scopesAllow(organisation.scopes, options.audience)) throw new DfeScopeError(organisation.code, options.audience);
      return organisation;
    },
  };
}

/** DfE's public keys as a service is told of them: the gateway's JWKS URL, or a key-set file. */
export function readJwks(where: string): JSONWebKeySet | URL {
  return /^https?:\/\//.test(where) ? new URL(where) : (JSON.parse(readFileSync(where, 'utf8')) as JSONWebKeySet);
}
