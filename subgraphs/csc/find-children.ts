// Local search for a child by name, date of birth and postcode, tolerant of the ways LA records differ.
import { normaliseName, normalisePostcode, oneEditApart } from '../../lib/names.ts';
import { isoDate, swapDayAndMonth } from '../../lib/dates.ts';
import { soundex } from '../../lib/soundex.ts';
import type { LocalClient } from '../../lib/db/store.ts';

export interface ChildSearch {
  givenName?: string | null;
  familyName?: string | null;
  dateOfBirth?: string | null;
  postcode?: string | null;
  /** The records holding this NHS number; the other details are then not used. */
  nhsNumber?: string | null;
}

export interface ChildSearchHit {
  personId: string;
  nhsNumber: string | null;
  matched: boolean;
  givenName: string | null;
  familyName: string | null;
  dateOfBirth: string | null;
  postcode: string | null;
  score: number;
}

/** A record's latest address (by start date): where its postcode comes from, in a search hit and in a link's check. */
export const LATEST_ADDRESS = { addresses: { orderBy: { addr_address_start_date: 'desc' as const }, take: 1 } };

/** Hits a search answers unless the service is configured otherwise (`--search-limit`). */
export const DEFAULT_SEARCH_LIMIT = 20;
const MIN_SCORE = 0.6;

function nameScore(query: string, stored: string | null): number {
  const q = normaliseName(query);
  const s = normaliseName(stored ?? '');
  if (!s) return 0;
  if (q === s) return 1;
  if (oneEditApart(q, s)) return 0.85;
  if (q.length >= 3 && s.length >= 3 && (q.startsWith(s) || s.startsWith(q) || q.slice(0, 3) === s.slice(0, 3))) return 0.75;
  if (soundex(q) === soundex(s)) return 0.7;
  return 0;
}

/** The best `limit` hits, best first, and whether more records matched than that. */
export async function findChildren(prisma: LocalClient, search: ChildSearch, limit = DEFAULT_SEARCH_LIMIT): Promise<{ hits: ChildSearchHit[]; more: boolean }> {
  if (search.nhsNumber) {
    const held = await prisma.ssd_person.findMany({ where: { pers_common_child_id: search.nhsNumber }, include: LATEST_ADDRESS, orderBy: { pers_person_id: 'asc' }, take: limit + 1 });
    return { hits: held.slice(0, limit).map((person) => hitOf(person, 1)), more: held.length > limit };
  }
  const given = search.givenName?.trim() || undefined;
  const family = search.familyName?.trim() || undefined;
  const dob = search.dateOfBirth ?? undefined;
  const postcode = search.postcode?.trim() ? normalisePostcode(search.postcode) : undefined;
  const dobs = dob ? [dob, swapDayAndMonth(dob)].filter((d): d is string => d !== undefined).map((d) => new Date(`${d}T00:00:00Z`)) : [];
  const prefix = family ? normaliseName(family).replace(/[\s-]/g, '').slice(0, 2) : undefined;
  const candidates = await prisma.ssd_person.findMany({
    where: {
      OR: [
        ...(dobs.length ? [{ pers_dob: { in: dobs } }] : []),
        ...(postcode ? [{ addresses: { some: { addr_address_postcode: { in: [postcode, `${postcode.slice(0, -3)} ${postcode.slice(-3)}`] } } } }] : []),
        ...(prefix && prefix.length === 2 ? [{ pers_surname: { startsWith: prefix, mode: 'insensitive' as const } }] : []),
      ],
    },
    include: LATEST_ADDRESS,
    take: 2000,
  });
  const hits: ChildSearchHit[] = [];
  for (const person of candidates) {
    const parts: [number, number][] = [];
    if (given) parts.push([0.3, Math.max(nameScore(given, person.pers_forename), 0.9 * nameScore(given, person.pers_surname))]);
    if (family) parts.push([0.35, Math.max(nameScore(family, person.pers_surname), 0.9 * nameScore(family, person.pers_forename))]);
    const personDob = isoDate(person.pers_dob);
    if (dob) parts.push([0.25, personDob === dob ? 1 : personDob && swapDayAndMonth(dob) === personDob ? 0.7 : 0]);
    const personPostcode = person.addresses[0]?.addr_address_postcode ?? null;
    if (postcode) {
      const stored = personPostcode ? normalisePostcode(personPostcode) : '';
      parts.push([0.1, stored === postcode ? 1 : stored && stored.slice(0, -3) === postcode.slice(0, -3) ? 0.5 : 0]);
    }
    const total = parts.reduce((sum, [w]) => sum + w, 0);
    const score = Math.round((parts.reduce((sum, [w, s]) => sum + w * s, 0) / total) * 1000) / 1000;
    if (score < MIN_SCORE) continue;
    hits.push(hitOf(person, score));
  }
  hits.sort((a, b) => b.score - a.score || a.personId.localeCompare(b.personId));
  return { hits: hits.slice(0, limit), more: hits.length > limit };
}

type PersonWithAddress = { pers_person_id: string; pers_common_child_id: string | null; pers_forename: string | null; pers_surname: string | null; pers_dob: Date | null; addresses: { addr_address_postcode: string | null }[] };

/** A record as a search answers it: its identifiers and the details the caseworker sees (and MATCH is asked with). */
export function hitOf(person: PersonWithAddress, score: number): ChildSearchHit {
  return {
    personId: person.pers_person_id,
    nhsNumber: person.pers_common_child_id,
    matched: person.pers_common_child_id !== null,
    givenName: person.pers_forename,
    familyName: person.pers_surname,
    dateOfBirth: isoDate(person.pers_dob),
    postcode: person.addresses[0]?.addr_address_postcode ?? null,
    score,
  };
}
