// How names and postcodes are compared everywhere: the same normal form on both sides.

/** Upper case, accents dropped, only letters, spaces and hyphens (O'Brien → OBRIEN). */
export function normaliseName(value: string): string {
  return value
    .normalize('NFD')
    .toUpperCase()
    .replace(/[^A-Z\s-]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Upper case with spaces removed (ls1 6ae → LS16AE). */
export function normalisePostcode(value: string): string {
  return value.toUpperCase().replace(/\s+/g, '');
}
