// NHS number: ten digits, the last a modulus 11 check digit over the first nine (weights 10..2).

const WEIGHTS = [10, 9, 8, 7, 6, 5, 4, 3, 2] as const;

/** Spaces and hyphens are how people write NHS numbers (`943 476 5919`); nothing else is allowed. */
export function normaliseNhsNumber(value: string): string {
  return value.replace(/[\s-]/g, '');
}

/** The check digit for nine digits, or undefined where none exists (the remainder gives 10). */
export function nhsCheckDigit(firstNine: string): number | undefined {
  if (!/^\d{9}$/.test(firstNine)) throw new RangeError('nhsCheckDigit needs exactly nine digits');
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(firstNine[i]) * WEIGHTS[i]!;
  const check = 11 - (sum % 11);
  if (check === 10) return undefined;
  return check === 11 ? 0 : check;
}

export function isValidNhsNumber(value: string): boolean {
  const digits = normaliseNhsNumber(value);
  if (!/^\d{10}$/.test(digits)) return false;
  return nhsCheckDigit(digits.slice(0, 9)) === Number(digits[9]);
}
