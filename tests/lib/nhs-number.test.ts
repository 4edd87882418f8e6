import { describe, expect, it } from 'vitest';
import { isValidNhsNumber, nhsCheckDigit, normaliseNhsNumber } from '../../lib/nhs-number.ts';

describe('NHS number', () => {
  it("accepts NHS England's sandbox test patients", () => {
    for (const number of ['9000000009', '9000000017', '9000000025', '9449306060']) expect(isValidNhsNumber(number)).toBe(true);
  });

  it('computes the modulus 11 check digit, with 11 giving 0', () => {
    expect(nhsCheckDigit('900000000')).toBe(9);
    expect(nhsCheckDigit('943476591')).toBe(9);
    // weights 3 and 2 on the last two digits: 3 + 2 = 5, 11 - 5 = 6
    expect(nhsCheckDigit('000000011')).toBe(6);
    // a sum of 0 leaves remainder 0: 11 - 0 = 11, written as 0
    expect(nhsCheckDigit('000000000')).toBe(0);
  });

  it('knows nine digits whose check digit would be 10 have no valid number', () => {
    // 6 * 2 = 12, remainder 1, 11 - 1 = 10: no such NHS number
    expect(nhsCheckDigit('000000006')).toBe(undefined);
    for (let d = 0; d <= 9; d++) expect(isValidNhsNumber(`000000006${d}`)).toBe(false);
  });

  it('rejects a wrong check digit, wrong length and letters', () => {
    expect(isValidNhsNumber('9000000008')).toBe(false);
    expect(isValidNhsNumber('900000000')).toBe(false);
    expect(isValidNhsNumber('90000000091')).toBe(false);
    expect(isValidNhsNumber('90000000O9')).toBe(false);
    expect(isValidNhsNumber('')).toBe(false);
  });

  it('allows the spaces and hyphens people write numbers with', () => {
    expect(normaliseNhsNumber('943 476 5919')).toBe('9434765919');
    expect(isValidNhsNumber('943-476-5919')).toBe(true);
    expect(isValidNhsNumber('943 476 5918')).toBe(false);
  });
});
