// MATCH's receipt key for tests that link a record without running MATCH: a real ES256 key, signing real
// receipts with MATCH's own signer, and the public key set an LA's csc subgraph is given.
import { exportJWK, generateKeyPair, type JSONWebKeySet } from 'jose';
import { demographicsDigest, useReceiptSigner, type LinkableBand, type ReceiptDemographics } from '../../lib/match-receipt.ts';

export interface TestReceipts {
  jwks: JSONWebKeySet;
  /** A receipt as MATCH signs one for `organisation` (default northshire), asked with `details`. */
  sign(receipt: { nhsNumber: string; details: ReceiptDemographics; band?: LinkableBand; score?: number; organisation?: string; strategy?: string | null }, now?: number): Promise<string>;
}

export async function testReceiptKeys(kid = 'match-receipts-test'): Promise<TestReceipts> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const signer = useReceiptSigner({ ...(await exportJWK(privateKey)), kid, alg: 'ES256' });
  return {
    jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] },
    sign: (r, now) =>
      signer.sign({ organisation: r.organisation ?? 'northshire', nhsNumber: r.nhsNumber, band: r.band ?? 'MATCH', score: r.score ?? (r.band === 'POTENTIAL_MATCH' ? 0.9 : 0.97), strategy: r.strategy ?? 'exact', digest: demographicsDigest(r.details) }, now),
  };
}

/** The details of an LA record, as a receipt binds them (the latest address's postcode). */
export function recordDetails(person: { pers_forename: string | null; pers_surname: string | null; pers_dob: Date | null; addresses?: { addr_address_postcode: string | null }[] }): ReceiptDemographics {
  return { givenName: person.pers_forename, familyName: person.pers_surname, dateOfBirth: person.pers_dob ? person.pers_dob.toISOString().slice(0, 10) : null, postcode: person.addresses?.[0]?.addr_address_postcode ?? null };
}
