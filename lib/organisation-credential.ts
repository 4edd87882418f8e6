// An organisation's credential at DfE: a short-lived JWT the organisation signs with its own private
// key (an RFC 7523 client assertion: iss = sub = its organisation code), verified against the public
// keys DfE's organisation registry holds for it. A pair, like the internal token: the signer for LA
// routers and other custodians' tools, the verifier for DfE services. The calling organisation is
// whatever the verified assertion says, never a header or argument the caller sets.
import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, importJWK, jwtVerify, SignJWT, type JSONWebKeySet, type JWK } from 'jose';
import type { OrganisationType } from './dsa/policy.ts';

export const ORGANISATION_ALGORITHMS = ['RS256', 'RS512', 'ES256'];
/** An assertion lives at most this long (RFC 7523 assertions are short-lived; NHS England allows 5 minutes). */
export const MAX_ASSERTION_SECONDS = 300;

export interface Organisation {
  code: string;
  name: string;
  type: OrganisationType;
  status: 'ACTIVE' | 'SUSPENDED';
  scopes: string[];
  jwks: JSONWebKeySet | null;
}

export class OrganisationCredentialError extends Error {
  override name = 'OrganisationCredentialError';
}

export interface AssertionOptions {
  organisation: string;
  /** The organisation's private key, with `kid` and `alg`. */
  privateKey: JWK;
  /** Who the assertion is for: the DfE service's audience. */
  audience: string;
  ttlSeconds?: number;
}

export function useOrganisationSigner(options: AssertionOptions) {
  const alg = options.privateKey.alg ?? '';
  if (!ORGANISATION_ALGORITHMS.includes(alg)) throw new OrganisationCredentialError(`organisation keys sign with one of ${ORGANISATION_ALGORITHMS.join(', ')}, not "${alg}"`);
  if (!options.privateKey.kid) throw new OrganisationCredentialError('the organisation key needs a kid');
  if (!options.privateKey.d) throw new OrganisationCredentialError('the organisation key must be a private key');
  const ttl = options.ttlSeconds ?? 60;
  if (!(ttl > 0 && ttl <= MAX_ASSERTION_SECONDS)) throw new OrganisationCredentialError(`assertions live between 1 and ${MAX_ASSERTION_SECONDS} seconds`);
  const key = importJWK(options.privateKey, alg);
  return {
    async sign(): Promise<string> {
      return new SignJWT({})
        .setProtectedHeader({ alg, kid: options.privateKey.kid!, typ: 'JWT' })
        .setIssuer(options.organisation)
        .setSubject(options.organisation)
        .setAudience(options.audience)
        .setJti(randomUUID())
        .setIssuedAt()
        .setExpirationTime(`${ttl}s`)
        .sign(await key);
    },
  };
}

export interface VerifierOptions {
  /** This service's audience. */
  audience: string;
  /** The organisation registry, as the service currently knows it. */
  organisation(code: string): Organisation | undefined;
}

export function useOrganisationVerifier(options: VerifierOptions) {
  if (!options.audience) throw new OrganisationCredentialError('the organisation verifier needs an audience');
  const keySets = new WeakMap<JSONWebKeySet, ReturnType<typeof createLocalJWKSet>>();
  // A credential is reused for its short life (a router holds one for minutes): remember those already
  // verified, with the key set that verified them, so a changed key or a suspension still counts at once.
  const verified = new Map<string, { code: string; exp: number; jwks: JSONWebKeySet }>();
  const MAX_REMEMBERED = 10_000;
  return {
    /** The calling organisation from `Authorization: Bearer <assertion>`; throws OrganisationCredentialError otherwise. */
    async verify(authorization: string | undefined): Promise<Organisation> {
      const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
      if (!token) throw new OrganisationCredentialError('no organisation credential');
      const known = verified.get(token);
      if (known && known.exp > Date.now() / 1000) {
        const organisation = options.organisation(known.code);
        if (organisation?.jwks === known.jwks) {
          if (organisation.status !== 'ACTIVE') throw new OrganisationCredentialError(`organisation ${organisation.code} is suspended`);
          return organisation;
        }
      }
      let issuer: string | undefined;
      try {
        issuer = decodeJwt(token).iss;
      } catch {
        throw new OrganisationCredentialError('the credential is not a JWT');
      }
      const organisation = issuer ? options.organisation(issuer) : undefined;
      if (!organisation?.jwks?.keys?.length) throw new OrganisationCredentialError('the credential names no organisation DfE knows a key for');
      let keys = keySets.get(organisation.jwks);
      if (!keys) keySets.set(organisation.jwks, (keys = createLocalJWKSet(organisation.jwks)));
      try {
        const { payload } = await jwtVerify(token, keys, {
          issuer: organisation.code,
          subject: organisation.code,
          audience: options.audience,
          algorithms: ORGANISATION_ALGORITHMS,
          clockTolerance: 60,
          requiredClaims: ['exp', 'iat', 'jti'],
        });
        if (payload.exp! - payload.iat! > MAX_ASSERTION_SECONDS) throw new OrganisationCredentialError(`the credential lives longer than ${MAX_ASSERTION_SECONDS} seconds`);
        if (verified.size >= MAX_REMEMBERED) verified.delete(verified.keys().next().value!);
        verified.set(token, { code: organisation.code, exp: payload.exp!, jwks: organisation.jwks });
      } catch (error) {
        if (error instanceof OrganisationCredentialError) throw error;
        throw new OrganisationCredentialError(`credential refused: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (organisation.status !== 'ACTIVE') throw new OrganisationCredentialError(`organisation ${organisation.code} is suspended`);
      return organisation;
    },
  };
}
