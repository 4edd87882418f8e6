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

/**
 * Whether two names differ by one keying error (Damerau–Levenshtein distance 1: a letter added,
 * dropped, replaced, or two neighbours swapped). Names under four letters must match exactly.
 */
export function oneEditApart(a: string, b: string): boolean {
  if (a === b || Math.min(a.length, b.length) < 4 || Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (a.length === b.length) {
    if (a.slice(i + 1) === b.slice(i + 1)) return true; // replaced
    return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2); // swapped
  }
  const [longer, shorter] = a.length > b.length ? [a, b] : [b, a];
  return longer.slice(i + 1) === shorter.slice(i); // added or dropped
}
