import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PseudonymError, Pseudonymiser } from '../../gateway/pseudonym.ts';

const key1 = { version: 1, secret: randomBytes(32) };
const key2 = { version: 2, secret: randomBytes(32) };

describe('pseudonymise', () => {
  it('is stable for one NHS number under one key, however it is written', () => {
    const p = new Pseudonymiser([key1], 1);
    const a = p.pseudonymise('9434765919');
    expect(a.value).toHaveLength(32);
    expect(p.pseudonymise('943 476 5919').value.equals(a.value)).toBe(true);
    expect(p.pseudonymise('9000000009').value.equals(a.value)).toBe(false);
  });

  it('depends on the secret key: another key gives another pseudonym, and the number is not in it', () => {
    const a = new Pseudonymiser([key1], 1).pseudonymise('9434765919');
    const b = new Pseudonymiser([{ version: 1, secret: randomBytes(32) }], 1).pseudonymise('9434765919');
    expect(a.value.equals(b.value)).toBe(false);
    expect(a.value.toString('hex')).not.toContain('9434765919');
    expect(a.value.toString('latin1')).not.toContain('9434765919');
  });

  it('supports key rotation: the current version for new pseudonyms, every version for lookups', () => {
    const p = new Pseudonymiser([key1, key2], 2);
    expect(p.pseudonymise('9434765919').version).toBe(2);
    const all = p.pseudonymsOf('9434765919');
    expect(all.map((x) => x.version)).toEqual([1, 2]);
    expect(all[0]!.value.equals(new Pseudonymiser([key1], 1).pseudonymise('9434765919').value)).toBe(true);
    expect(all[1]!.value.equals(all[0]!.value)).toBe(false);
    expect(p.matches('9434765919', all[0]!)).toBe(true);
    expect(p.matches('9434765919', all[1]!)).toBe(true);
    expect(p.matches('9000000009', all[0]!)).toBe(false);
  });

  it('re-keys a stored pseudonym to the next version without the NHS number', () => {
    const p = new Pseudonymiser([key1, key2], 1);
    const v1 = p.pseudonymise('9434765919', 1);
    expect(p.rekey(v1.value, 2).equals(p.pseudonymise('9434765919', 2).value)).toBe(true);
    // Version 2 needs version 2's key: version 1's key alone cannot make or test it.
    const other = new Pseudonymiser([key1, { version: 2, secret: randomBytes(32) }], 2);
    expect(other.pseudonymise('9434765919').value.equals(p.pseudonymise('9434765919', 2).value)).toBe(false);
    expect(() => p.rekey(v1.value, 1)).toThrow(/from 2/);
  });

  it('keeps subject ids in a space of their own per custodian', () => {
    const p = new Pseudonymiser([key1], 1);
    const a = p.pseudonymiseSubject('northshire', 'P000123');
    expect(a.value.equals(p.pseudonymiseSubject('southshire', 'P000123').value)).toBe(false);
    expect(a.value.equals(p.pseudonymiseSubject('northshire', 'P000123').value)).toBe(true);
  });

  it('refuses invalid NHS numbers without repeating them, and weak or missing keys', () => {
    const p = new Pseudonymiser([key1], 1);
    expect(() => p.pseudonymise('9434765918')).toThrow(new PseudonymError('not a valid NHS number'));
    expect(() => p.pseudonymise('9434765919', 7)).toThrow(/no pseudonym key version 7/);
    expect(() => new Pseudonymiser([{ version: 1, secret: randomBytes(16) }], 1)).toThrow(/shorter than 32 bytes/);
    expect(() => new Pseudonymiser([key1], 2)).toThrow(/current pseudonym key version 2 has no key/);
    expect(() => new Pseudonymiser([key1, { ...key2, version: 1 }], 1)).toThrow(/given twice/);
    expect(() => new Pseudonymiser([key1, { ...key2, version: 3 }], 1)).toThrow(/version 2 is missing/);
  });
});
