// Keyed pseudonyms for children at DfE: HMAC-SHA-256 of the normalised NHS number under a secret
// DfE key with a version. Without the key a pseudonym cannot be reversed or recomputed from an NHS
// number; with a new version the register can be re-keyed while the old version still answers.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isValidNhsNumber, normaliseNhsNumber } from './nhs-number.ts';

export interface PseudonymKey {
  version: number;
  /** At least 32 bytes of secret. */
  secret: Buffer;
}

export interface Pseudonym {
  version: number;
  value: Buffer;
}

export class PseudonymError extends Error {
  override name = 'PseudonymError';
}

export class Pseudonymiser {
  private readonly keys = new Map<number, Buffer>();
  readonly current: number;

  /** `keys` lists every version still in use; `current` is the one new pseudonyms are made with. */
  constructor(keys: PseudonymKey[], current: number) {
    for (const key of keys) {
      if (!Number.isInteger(key.version) || key.version < 1) throw new PseudonymError('pseudonym key versions are whole numbers from 1');
      if (key.secret.length < 32) throw new PseudonymError(`pseudonym key version ${key.version} is shorter than 32 bytes`);
      if (this.keys.has(key.version)) throw new PseudonymError(`pseudonym key version ${key.version} is given twice`);
      this.keys.set(key.version, key.secret);
    }
    if (!this.keys.has(current)) throw new PseudonymError(`the current pseudonym key version ${current} has no key`);
    this.current = current;
  }

  get versions(): number[] {
    return [...this.keys.keys()].sort((a, b) => a - b);
  }

  /**
   * The child's pseudonym under key `version` (the current one by default). The NHS number is checked
   * first; it is never part of an error message, so it cannot leak into logs.
   */
  pseudonymise(nhsNumber: string, version = this.current): Pseudonym {
    const digits = normaliseNhsNumber(nhsNumber);
    if (!isValidNhsNumber(digits)) throw new PseudonymError('not a valid NHS number');
    const secret = this.keys.get(version);
    if (!secret) throw new PseudonymError(`no pseudonym key version ${version}`);
    return { version, value: createHmac('sha256', secret).update(`nhs-number:${digits}`).digest() };
  }

  /** The child's pseudonym under every key version in use, for lookups while a re-key is under way. */
  allPseudonyms(nhsNumber: string): Pseudonym[] {
    return this.versions.map((version) => this.pseudonymise(nhsNumber, version));
  }

  matches(nhsNumber: string, pseudonym: Pseudonym): boolean {
    const expected = this.pseudonymise(nhsNumber, pseudonym.version).value;
    return expected.length === pseudonym.value.length && timingSafeEqual(expected, pseudonym.value);
  }
}
