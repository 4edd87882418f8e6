// MATCH's signed word, both ends. MATCH signs each linkable result it returns (a MATCH or a
// POTENTIAL_MATCH) with a key of its own: a short-lived receipt over a digest of the demographics it was
// asked with, the NHS number, the band and score, for the asking organisation. An LA links a record to
// an NHS number only on such a receipt, recomputing the digest from the record itself, so neither the
// caller's band and score nor details other than the record's can make a link.
import { createHash, randomUUID } from 'node:crypto';
import { decodeJwt, errors, importJWK, jwtVerify, SignJWT, type JSONWebKeySet, type JWK } from 'jose';
import { keySet } from './dfe-token.ts';

/** The JWT `typ` of a receipt: nothing else DfE signs is taken for one. */
export const RECEIPT_TYPE = 'mais-match-receipt+jwt';
/** Who issues receipts. */
export const RECEIPT_ISSUER = 'mais:dfe:matching';
/** How long a receipt may be used: long enough for a caseworker to read the result and confirm it. */
export const RECEIPT_TTL_SECONDS = 15 * 60;

export type LinkableBand = 'MATCH' | 'POTENTIAL_MATCH';

/** The details a receipt binds: those MATCH is asked with and an LA record holds. */
export interface ReceiptDemographics {
  givenName: string | null | undefined;
  familyName: string | null | undefined;
  dateOfBirth: string | null | undefined;
  postcode?: string | null | undefined;
}

export interface ReceiptClaims {
  /** The organisation that asked MATCH (the receipt's audience). */
  organisation: string;
  nhsNumber: string;
  band: LinkableBand;
  score: number;
  strategy: string | null;
  /** `demographicsDigest` of what MATCH was asked with. */
  digest: string;
  /** The receipt's own id, for the audit. */
  id: string;
  expiresAt: Date;
}

const name = (value: string | null | undefined) => (value ?? '').normalize('NFC').trim().replace(/\s+/g, ' ').toLocaleUpperCase('en-GB');

/**
 * A digest of the details, in one normal form on both sides (names in upper case with their spaces
 * collapsed, the postcode without spaces, no postcode as empty): equal for the same details however
 * they were keyed in case and spacing, different for any other letter.
 */
export function demographicsDigest(details: ReceiptDemographics): string {
  const canonical = [name(details.givenName), name(details.familyName), (details.dateOfBirth ?? '').trim(), (details.postcode ?? '').toUpperCase().replace(/\s+/g, '')];
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url');
}

/** Signs receipts with MATCH's private key (ES256, with its `kid`). */
export function useReceiptSigner(privateKey: JWK) {
  if (!privateKey.kid || !privateKey.d) throw new Error('MATCH’s receipt key must be a private JWK with a kid');
  const key = importJWK(privateKey, 'ES256');
  return {
    async sign(claims: Omit<ReceiptClaims, 'id' | 'expiresAt'>, now = Date.now()): Promise<string> {
      const iat = Math.floor(now / 1000);
      return new SignJWT({ band: claims.band, score: claims.score, strategy: claims.strategy, digest: claims.digest })
        .setProtectedHeader({ alg: 'ES256', kid: privateKey.kid!, typ: RECEIPT_TYPE })
        .setIssuer(RECEIPT_ISSUER)
        .setAudience(claims.organisation)
        .setSubject(claims.nhsNumber)
        .setIssuedAt(iat)
        .setExpirationTime(iat + RECEIPT_TTL_SECONDS)
        .setJti(randomUUID())
        .sign(await key);
    },
  };
}

/** Why a receipt was refused: a stable reason, in the error's `extensions.reason`. */
export type ReceiptRefusal = 'RECEIPT_INVALID' | 'RECEIPT_EXPIRED' | 'RECEIPT_OTHER_ORGANISATION' | 'RECEIPT_OTHER_CHILD' | 'RECEIPT_OTHER_DEMOGRAPHICS' | 'RECEIPT_NOT_LINKABLE';

export class ReceiptError extends Error {
  override name = 'ReceiptError';
  constructor(
    readonly reason: ReceiptRefusal,
    message: string,
  ) {
    super(message);
  }
}

/** The claims of a receipt, read without checking its signature: for the audit of a link the LA subgraph then checks. */
export function unverifiedReceipt(token: unknown): { id: string | null; digest: string | null; band: string | null; score: number | null } | null {
  if (typeof token !== 'string' || token.length > 4096) return null;
  try {
    const payload = decodeJwt(token);
    const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, 100) : null);
    return { id: text(payload.jti), digest: text(payload.digest), band: text(payload.band), score: typeof payload.score === 'number' ? payload.score : null };
  } catch {
    return null;
  }
}

/**
 * Verifies receipts against MATCH's public keys (a key set, or a JWKS URL), for one organisation. A
 * receipt is refused unless MATCH signed it, for this organisation, within its life, for a linkable band.
 */
export function useReceiptVerifier(options: { jwks: JSONWebKeySet | URL; organisation: string }) {
  const keys = keySet(options.jwks);
  return {
    async verify(token: string): Promise<ReceiptClaims> {
      let payload;
      try {
        ({ payload } = await jwtVerify(token, keys, { issuer: RECEIPT_ISSUER, audience: options.organisation, typ: RECEIPT_TYPE, algorithms: ['ES256'], clockTolerance: 30, requiredClaims: ['exp', 'iat', 'jti', 'sub'] }));
      } catch (error) {
        if (error instanceof errors.JWTExpired) throw new ReceiptError('RECEIPT_EXPIRED', 'This receipt from MATCH has expired: ask MATCH again');
        if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'aud') throw new ReceiptError('RECEIPT_OTHER_ORGANISATION', 'This receipt from MATCH was given to another organisation');
        throw new ReceiptError('RECEIPT_INVALID', 'This is not a receipt MATCH signed');
      }
      const { band, score, strategy, digest } = payload as Record<string, unknown>;
      if (band !== 'MATCH' && band !== 'POTENTIAL_MATCH') throw new ReceiptError('RECEIPT_NOT_LINKABLE', 'Only a MATCH or a POTENTIAL_MATCH may be linked');
      if (typeof score !== 'number' || !(score >= 0 && score <= 1) || typeof digest !== 'string' || (strategy !== null && strategy !== undefined && typeof strategy !== 'string')) {
        throw new ReceiptError('RECEIPT_INVALID', 'This is not a receipt MATCH signed');
      }
      return { organisation: options.organisation, nhsNumber: payload.sub!, band, score, strategy: (strategy as string | null | undefined) ?? null, digest, id: payload.jti!, expiresAt: new Date(payload.exp! * 1000) };
    },
  };
}
