/** The names of the details a search was given (blank text counts as not given), sorted: what an audit records of a search, never the values. */
export function detailsGiven(input: Record<string, unknown> | null | undefined): string[] {
  return Object.entries(input ?? {})
    .filter(([, v]) => (typeof v === 'string' ? v.trim() !== '' : v !== null && v !== undefined))
    .map(([k]) => k)
    .sort();
}
