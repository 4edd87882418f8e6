// Calendar dates as whole days since 1970-01-01 (UTC): cheap to add, compare and format.

const DAY_MS = 86_400_000;

export function dayOf(iso: string): number {
  return Math.floor(Date.parse(`${iso}T00:00:00Z`) / DAY_MS);
}

export function isoDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

export function yearsBetween(fromDay: number, toDay: number): number {
  const from = new Date(fromDay * DAY_MS);
  const to = new Date(toDay * DAY_MS);
  let years = to.getUTCFullYear() - from.getUTCFullYear();
  if (to.getUTCMonth() < from.getUTCMonth() || (to.getUTCMonth() === from.getUTCMonth() && to.getUTCDate() < from.getUTCDate())) years--;
  return years;
}

/** The 1st of September on or before `day`: the start of that school year. */
export function schoolYearStart(day: number): number {
  const date = new Date(day * DAY_MS);
  const year = date.getUTCMonth() >= 8 ? date.getUTCFullYear() : date.getUTCFullYear() - 1;
  return dayOf(`${year}-09-01`);
}
