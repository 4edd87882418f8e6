// Keyed pseudonyms for children at DfE. Version 1 is HMAC-SHA-256 of the normalised NHS number under
// DfE's first secret key; each later version is HMAC-SHA-256 of the previous version's pseudonym under
// that version's key. So the register can be re-keyed from what it holds (no NHS number needed), and
// once re-keyed, a stolen earlier key alone no longer re-identifies it. Without the keys a pseudonym
// cannot be reversed or recomputed from an NHS number.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { isValidNhsNumber, normaliseNhsNumber } from '../lib/nhs-number.ts';

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

  /** `keys` holds every version from 1 up to at least `current`; `current` is the one new pseudonyms are made with. */
  constructor(keys: PseudonymKey[], current: number) {
    for (const key of keys) {
      if (!Number.isInteger(key.version) || key.version < 1) throw new PseudonymError('pseudonym key versions are whole numbers from 1');
      if (key.secret.length < 32) throw new PseudonymError(`pseudonym key version ${key.version} is shorter than 32 bytes`);
      if (this.keys.has(key.version)) throw new PseudonymError(`pseudonym key version ${key.version} is given twice`);
      this.keys.set(key.version, key.secret);
    }
    if (!this.keys.has(current)) throw new PseudonymError(`the current pseudonym key version ${current} has no key`);
    for (let version = 1; version <= Math.max(...this.keys.keys()); version++) {
      if (!this.keys.has(version)) throw new PseudonymError(`pseudonym key version ${version} is missing: each version builds on the one before`);
    }
    this.current = current;
  }

  get versions(): number[] {
    return [...this.keys.keys()].sort((a, b) => a - b);
  }

  get latest(): number {
    return Math.max(...this.keys.keys());
  }

  private secret(version: number): Buffer {
    const secret = this.keys.get(version);
    if (!secret) throw new PseudonymError(`no pseudonym key version ${version}`);
    return secret;
  }

  /** The pseudonym one version on from `value` (at `version - 1`): how the register is re-keyed. */
  rekey(value: Buffer, version: number): Buffer {
    if (version < 2) throw new PseudonymError('only versions from 2 re-key an earlier pseudonym');
    return createHmac('sha256', this.secret(version)).update(value).digest();
  }

  private chain(label: string, versions: readonly number[]): Pseudonym[] {
    const wanted = new Set(versions);
    const top = Math.max(...versions);
    if (!this.keys.has(top)) throw new PseudonymError(`no pseudonym key version ${top}`);
    const out: Pseudonym[] = [];
    let value: Buffer = createHmac('sha256', this.secret(1)).update(label).digest();
    for (let version = 1; version <= top; version++) {
      if (version > 1) value = this.rekey(value, version);
      if (wanted.has(version)) out.push({ version, value });
    }
    return out;
  }

  /**
   * The child's pseudonym under key `version` (the current one by default). The NHS number is checked
   * first; it is never part of an error message, so it cannot leak into logs.
   */
  pseudonymise(nhsNumber: string, version = this.current): Pseudonym {
    return this.pseudonymsOf(nhsNumber, [version])[0]!;
  }

  /** The child's pseudonyms under the given versions (every version by default), in version order. */
  pseudonymsOf(nhsNumber: string, versions: readonly number[] = this.versions): Pseudonym[] {
    const digits = normaliseNhsNumber(nhsNumber);
    if (!isValidNhsNumber(digits)) throw new PseudonymError('not a valid NHS number');
    return this.chain(`nhs-number:${digits}`, versions);
  }

  /** A custodian's own subject id, pseudonymised the same way but in its own space per custodian. */
  pseudonymiseSubject(custodian: string, subjectId: string, version = this.current): Pseudonym {
    return this.chain(`subject:${custodian}:${subjectId}`, [version])[0]!;
  }

  matches(nhsNumber: string, pseudonym: Pseudonym): boolean {
    const expected = this.pseudonymise(nhsNumber, pseudonym.version).value;
    return expected.length === pseudonym.value.length && timingSafeEqual(expected, pseudonym.value);
  }
}

/** A keys file: `{ "keys": [{ "version": 1, "secret": "<base64, 32 bytes or more>" }] }`, kept as a secret. */
export function readPseudonymKeys(path: string): PseudonymKey[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new PseudonymError(`cannot read the pseudonym keys file ${path}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
  const keys = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new PseudonymError(`${path}: expected { "keys": [{ "version", "secret" }] }`);
  return keys.map((key: { version?: unknown; secret?: unknown }) => {
    if (typeof key.version !== 'number' || typeof key.secret !== 'string') throw new PseudonymError(`${path}: each key needs a numeric version and a base64 secret`);
    return { version: key.version, secret: Buffer.from(key.secret, 'base64') };
  });
}

export function writePseudonymKeys(path: string, keys: PseudonymKey[]): void {
  const body = { keys: keys.map((key) => ({ version: key.version, secret: key.secret.toString('base64') })) };
  writeFileSync(path, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
}

/** A keys file with one more version (a fresh random secret), for a rotation. */
export function addPseudonymKey(path: string): PseudonymKey {
  const keys = readPseudonymKeys(path);
  const key = { version: Math.max(...keys.map((k) => k.version)) + 1, secret: randomBytes(32) };
  writePseudonymKeys(path, [...keys, key]);
  return key;
}
