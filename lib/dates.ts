// Calendar dates as whole days since 1970-01-01 (UTC): cheap to add, compare and format.

const DAY_MS = 86_400_000;

export function dayOf(iso: string): number {
  return Math.floor(Date.parse(`${iso}T00:00:00Z`) / DAY_MS);
}

export function isoDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** Whether `text` is a real calendar day written yyyy-mm-dd (2026-02-30 and 2026-13-01 are not). */
export function isIsoDay(text: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(text) && Number.isFinite(dayOf(text)) && isoDay(dayOf(text)) === text;
}

export function yearsBetween(fromDay: number, toDay: number): number {
  const from = new Date(fromDay * DAY_MS);
  const to = new Date(toDay * DAY_MS);
  let years = to.getUTCFullYear() - from.getUTCFullYear();
  if (to.getUTCMonth() < from.getUTCMonth() || (to.getUTCMonth() === from.getUTCMonth() && to.getUTCDate() < from.getUTCDate())) years--;
  return years;
}

/** A Date's calendar day (UTC), yyyy-mm-dd; null for none. */
export function isoDate(date: Date | null | undefined): string | null {
  return date ? date.toISOString().slice(0, 10) : null;
}

/**
 * The date with day and month exchanged (2014-03-09 → 2014-09-03), the commonest way a date of birth is
 * mistyped; undefined when that is not a different real date.
 */
export function swapDayAndMonth(iso: string): string | undefined {
  const [year, month, day] = iso.split('-');
  const swapped = `${year}-${day}-${month}`;
  const swappedDay = dayOf(swapped);
  return swapped !== iso && Number.isFinite(swappedDay) && isoDay(swappedDay) === swapped ? swapped : undefined;
}

/** The 1st of September on or before `day`: the start of that school year. */
export function schoolYearStart(day: number): number {
  const date = new Date(day * DAY_MS);
  const year = date.getUTCMonth() >= 8 ? date.getUTCFullYear() : date.getUTCFullYear() - 1;
  return dayOf(`${year}-09-01`);
}
