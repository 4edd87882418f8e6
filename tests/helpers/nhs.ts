import { nhsCheckDigit } from '../../lib/nhs-number.ts';

/** The first valid NHS number at or after 999 followed by `start` (the never-issued synthetic range). */
export function syntheticNhsNumber(start: number): string {
  for (let n = start; ; n++) {
    const nine = `999${String(n).padStart(6, '0')}`;
    const check = nhsCheckDigit(nine);
    if (check !== undefined) return `${nine}${check}`;
  }
}
