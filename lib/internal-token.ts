// The internal token: a short-lived JWT the LA router signs for each request it sends to a subgraph,
// carrying who is asking, for what purpose, what the router decided they may see, and the one child the
// request is about. Each token is used once (its `jti`) and lives no longer than the caseworker's request.
// A pair: the signer for the router, the verifier for the subgraphs. Subgraphs trust nothing else.
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { createLocalJWKSet, importJWK, jwtVerify, SignJWT, type JSONWebKeySet, type JWK } from 'jose';

export const INTERNAL_TOKEN_ALG = 'ES256';

/** What the router decided this caseworker may see of a child. */
export type AccessDecision = 'FULL' | 'SUMMARY' | 'BREAK_GLASS' | 'NONE';

export interface InternalClaims {
  /** The caseworker's username at the LA. */
  sub: string;
  roles: string[];
  purpose: string;
  decision: AccessDecision;
  /** The router's trace id, for audit. */
  traceId?: string;
  /** The NHS number of the one child the request is about; none for a request about no child (a search). */
  child?: string;
  /** The token's own id, set by the signer: a subgraph accepts each token once. */
  jti?: string;
  /** The data categories the request's purpose permits (patterns: a category, `csc.*`, `*`), checked again by the subgraphs. */
  categories?: string[];
}

export class InternalTokenError extends Error {
  override name = 'InternalTokenError';
}

export interface SignerOptions {
  /** The router's identity, e.g. `mais-router:northshire`. */
  issuer: string;
  privateKey: JWK;
  /** Seconds a token lives: long enough for one request. */
  ttlSeconds?: number;
}

export function useInternalTokenSigner(options: SignerOptions) {
  if (!options.issuer) throw new InternalTokenError('internal token signer needs an issuer');
  if (!options.privateKey.kid) throw new InternalTokenError('internal token signing key needs a kid');
  if (!options.privateKey.d) throw new InternalTokenError('internal token signing key must be a private key');
  const ttl = options.ttlSeconds ?? 60;
  if (!(ttl > 0 && ttl <= 300)) throw new InternalTokenError('internal tokens live between 1 and 300 seconds');
  const key = importJWK(options.privateKey, INTERNAL_TOKEN_ALG);
  const callerKey = createHash('sha256').update(`mais-caller-name\0${options.privateKey.d}`).digest();
  return {
    /** A token for one call to one subgraph; `until` (ms since epoch, the request's deadline) shortens its life. */
    async sign(audience: string, claims: InternalClaims, until?: number): Promise<string> {
      const now = Math.floor(Date.now() / 1000);
      const expires = Math.max(now + 1, Math.min(now + ttl, until === undefined ? Infinity : Math.ceil(until / 1000)));
      return new SignJWT({ roles: claims.roles, purpose: claims.purpose, decision: claims.decision, ...(claims.traceId ? { trace_id: claims.traceId } : {}), ...(claims.child ? { child: claims.child } : {}), ...(claims.categories ? { categories: claims.categories } : {}) })
        .setProtectedHeader({ alg: INTERNAL_TOKEN_ALG, kid: options.privateKey.kid!, typ: 'mais-internal+jwt' })
        .setIssuer(options.issuer)
        .setSubject(claims.sub)
        .setAudience(audience)
        .setJti(randomUUID())
        .setIssuedAt(now)
        .setExpirationTime(expires)
        .sign(await key);
    },
    /**
     * The opaque name under which DfE's services know a caseworker (the MAIS-Caller header), so that MATCH
     * can share this LA's PDS allowance fairly between them: the same at every replica (keyed by the
     * router's signing key), and telling DfE nothing of who they are.
     */
    callerName(username: string): string {
      return createHmac('sha256', callerKey).update(username).digest('base64url').slice(0, 22);
    },
  };
}

export interface VerifierOptions {
  issuer: string;
  /** This subgraph's name: tokens for another audience are refused. */
  audience: string;
  /** The router's public keys. */
  jwks: JSONWebKeySet;
}

const DECISIONS = new Set<AccessDecision>(['FULL', 'SUMMARY', 'BREAK_GLASS', 'NONE']);

export function useInternalTokenVerifier(options: VerifierOptions) {
  if (!options.issuer || !options.audience) throw new InternalTokenError('internal token verifier needs an issuer and an audience');
  if (!options.jwks.keys?.length) throw new InternalTokenError('internal token verifier needs at least one public key');
  const keys = createLocalJWKSet(options.jwks);
  // Tokens already used, until they expire (seconds since epoch): a token seen again is refused.
  const used = new Map<string, number>();
  let swept = 0;
  const forget = (now: number) => {
    if (now === swept) return;
    swept = now;
    for (const [jti, exp] of used) if (exp + 5 < now) used.delete(jti);
  };
  return {
    /** The claims of a valid token from `Authorization: Bearer ...`; throws InternalTokenError otherwise. */
    async verify(authorization: string | undefined): Promise<InternalClaims> {
      const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
      if (!token) throw new InternalTokenError('no internal token');
      let payload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms: [INTERNAL_TOKEN_ALG],
          typ: 'mais-internal+jwt',
          clockTolerance: 5,
          requiredClaims: ['sub', 'exp', 'iat', 'jti'],
        }));
      } catch (error) {
        throw new InternalTokenError(`internal token refused: ${error instanceof Error ? error.message : String(error)}`);
      }
      const decision = payload.decision as AccessDecision;
      if (!DECISIONS.has(decision) || typeof payload.purpose !== 'string' || !Array.isArray(payload.roles) || (payload.child !== undefined && typeof payload.child !== 'string') || (payload.categories !== undefined && !(Array.isArray(payload.categories) && payload.categories.every((c) => typeof c === 'string')))) {
        throw new InternalTokenError('internal token refused: claims are incomplete');
      }
      const now = Math.floor(Date.now() / 1000);
      forget(now);
      if (used.has(payload.jti!)) throw new InternalTokenError('internal token refused: it was used before');
      used.set(payload.jti!, payload.exp!);
      return {
        sub: payload.sub!,
        roles: payload.roles.map(String),
        purpose: payload.purpose,
        decision,
        ...(typeof payload.trace_id === 'string' ? { traceId: payload.trace_id } : {}),
        ...(typeof payload.child === 'string' ? { child: payload.child } : {}),
        ...(Array.isArray(payload.categories) ? { categories: payload.categories as string[] } : {}),
        jti: payload.jti!,
      };
    },
  };
}
