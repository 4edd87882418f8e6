// An organisation's credential at DfE: a short-lived JWT the organisation signs with its own private
// key (an RFC 7523 client assertion: iss = sub = its organisation code, a single-use jti), which DfE's
// token endpoint (gateway/token-service.ts) verifies against the public keys its organisation registry
// holds, in exchange for a DfE access token (lib/dfe-token.ts).
import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type JSONWebKeySet, type JWK } from 'jose';
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
  /** The systems it registers records from (FIND refuses any other). */
  systems?: string[];
  jwks: JSONWebKeySet | null;
  /** Its sharing endpoint for DfE's relay (push mode), if it registered one. */
  sharingUrl?: string | null;
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
