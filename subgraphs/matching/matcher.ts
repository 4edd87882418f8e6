// MATCH: demographics → NHS number, following the DfE SUI Matcher's search sequence against PDS and
// stopping as soon as a confident answer is found. Every candidate PDS returns is checked field by
// field (agreement.ts) before it is believed. Nothing about the child is stored.
import { dayOf, isoDay, swapDayAndMonth } from '../../lib/dates.ts';
import type { CallOptions, PatientSearch, PdsClient } from './pds/client.ts';
import { QuotaExceeded } from './pds/fair-share.ts';
import { PdsRequestError } from './pds/errors.ts';
import type { Patient } from './pds/patient.ts';
import { normaliseName } from '../../lib/names.ts';
import { agreement, givenNamesOf, type Cap } from './agreement.ts';
import { formalNamesOf } from './familiar-forms.ts';
import type { Demographics } from './demographics.ts';

export type MatchStatus = 'MATCH' | 'POTENTIAL_MATCH' | 'LOW_CONFIDENCE' | 'MANY_MATCH' | 'NO_MATCH' | 'ERROR';

export const BANDS = { match: 0.95, potentialMatch: 0.85 } as const;

export function band(score: number): 'MATCH' | 'POTENTIAL_MATCH' | 'LOW_CONFIDENCE' {
  return score >= BANDS.match ? 'MATCH' : score >= BANDS.potentialMatch ? 'POTENTIAL_MATCH' : 'LOW_CONFIDENCE';
}

export interface Candidate {
  nhsNumber: string;
  score: number;
  pdsScore: number;
  strategy: string;
  fields: Record<string, string>;
  /** Why the score was held below MATCH, if it was (agreement.ts). */
  cap: Cap | null;
  patient: Patient;
}

export interface MatchResult {
  status: MatchStatus;
  nhsNumber: string | null;
  score: number;
  strategy: string | null;
  candidates: Candidate[];
  pdsCalls: number;
  error?: string;
}

interface Strategy {
  name: string;
  /**
   * False when no candidate this search alone finds can reach MATCH: one on another date of birth is held
   * below it (agreement.ts), so once a candidate is in review's band the search can add nothing decisive.
   */
  decisive?: false;
  /** Skipped when the strategy named here had its answer from PDS (not too many, not refused)… */
  unless?: string;
  /** …or only when that answer found someone. */
  unlessFound?: boolean;
  /** The PDS search for these demographics, or undefined when the strategy does not apply. */
  search(d: Demographics): PatientSearch | undefined;
}

const withOptional = (d: Demographics, options: { postcode?: boolean; gender?: boolean } = {}): Partial<PatientSearch> => ({
  // An unknown gender is no filter: PDS would return only patients recorded as unknown.
  ...(options.gender !== false && d.gender && d.gender !== 'unknown' ? { gender: d.gender } : {}),
  ...(options.postcode !== false && d.postcode ? { postcode: d.postcode } : {}),
});

/** How far either side of the record's date of birth the household search looks: a year's slip and more. */
const HOUSEHOLD_DAYS = 400;

/** The given name to search PDS with: the record's first (the rest are compared, not searched); none for a placeholder. */
const first = (d: Demographics): string | undefined => givenNamesOf(d.givenName)[0];
/** A strategy that searches by given name, for records that have one. */
const named = (search: (d: Demographics, given: string) => PatientSearch | undefined) => (d: Demographics) => {
  const given = first(d);
  return given ? search(d, given) : undefined;
};

/**
 * After the DfE SUI Matcher's sequence, ordered to ask PDS as little as it can: exact; a familiar form's
 * formal name; the household at the record's postcode; fuzzy on the date of birth widened (which holds
 * the exact date); the fuzzy searches without a given or a family name only when the household was too
 * many for PDS to answer; day and month swapped. Each searches with the record's first given name only
 * (the rest are compared), never by an unknown gender, and without a given name for a placeholder
 * ("Baby"). PDS's fuzzy search also finds given and family names the other way round. A strategy whose
 * record lacks what it needs (a postcode, a gender, a familiar form) is not tried.
 */
export const STRATEGIES: Strategy[] = [
  {
    name: 'exact',
    search: named((d, given) => ({ given: [given], family: d.familyName, birthdate: [`eq${d.dateOfBirth}`], history: true, ...withOptional(d) })),
  },
  {
    name: 'no_given_name',
    // A placeholder for a baby's given name ("Baby", "Infant"): family name, birth date, gender and postcode.
    search: (d) => (first(d) ? undefined : { family: d.familyName, birthdate: [`eq${d.dateOfBirth}`], history: true, ...withOptional(d) }),
  },
  ...[0, 1].map((i) => ({
    name: i === 0 ? 'familiar_form' : `familiar_form_${i + 1}`,
    // A familiar form (Tom) searched as the formal name it may stand for (Thomas), before any fuzzy search:
    // a record's given name that is a familiar form more often stands for the formal one than holds a typo.
    search: named((d, given) => {
      const formal = formalNamesOf(given)[i];
      return formal ? { given: [formal], family: d.familyName, birthdate: [`eq${d.dateOfBirth}`], history: true, ...withOptional(d) } : undefined;
    }),
  })),
  {
    name: 'household',
    // The children PDS holds at the record's postcode (now or before), of that sex, born within 400 days of
    // the record's date, whose family name starts as the record's does (its first two letters and a
    // wildcard, non-fuzzy, with history): a child recorded under another first name, with a mistyped
    // surname, or with a date slipped by a day, a month or a year, in one search. A brother or sister is
    // rarely born that close; twins are too many for PDS to answer, and the fuzzy searches follow.
    search: (d) => {
      const family = normaliseName(d.familyName);
      if (!d.gender || d.gender === 'unknown' || !d.postcode || family.length < 2) return undefined;
      const day = dayOf(d.dateOfBirth);
      return { family: `${family.slice(0, 2)}*`, birthdate: [`ge${isoDay(day - HOUSEHOLD_DAYS)}`, `le${isoDay(day + HOUSEHOLD_DAYS)}`], gender: d.gender, postcode: d.postcode, history: true };
    },
  },
  {
    name: 'date_of_birth_range',
    // Six months either side, fuzzy: holds the exact-date fuzzy search (which then runs only if PDS found too many here).
    search: named((d, given) => {
      const day = dayOf(d.dateOfBirth);
      return { given: [given], family: d.familyName, birthdate: [`ge${isoDay(day - 183)}`, `le${isoDay(day + 183)}`], fuzzy: true, ...withOptional(d, { postcode: false }) };
    }),
  },
  {
    name: 'fuzzy',
    search: named((d, given) => ({ given: [given], family: d.familyName, birthdate: [`eq${d.dateOfBirth}`], fuzzy: true, ...withOptional(d, { postcode: false }) })),
  },
  {
    name: 'fuzzy_no_given_name',
    unless: 'household',
    // Family name, birth date, gender and postcode: finds a child recorded under another first name.
    search: named((d) => (d.gender && d.gender !== 'unknown' && d.postcode ? { family: d.familyName, birthdate: [`eq${d.dateOfBirth}`], fuzzy: true, gender: d.gender, postcode: d.postcode } : undefined)),
  },
  {
    name: 'fuzzy_no_family_name',
    unless: 'household',
    unlessFound: true,
    // Given name, birth date, gender and postcode: finds a child whose family name was mistyped, also in
    // the first two letters the household search keeps (Tqylor for Taylor).
    search: named((d, given) => (d.gender && d.gender !== 'unknown' && d.postcode ? { given: [given], birthdate: [`eq${d.dateOfBirth}`], fuzzy: true, gender: d.gender, postcode: d.postcode } : undefined)),
  },
  {
    name: 'day_month_swapped',
    decisive: false,
    search: named((d, given) => {
      const swapped = swapDayAndMonth(d.dateOfBirth);
      return swapped ? { given: [given], family: d.familyName, birthdate: [`eq${swapped}`], fuzzy: true, ...withOptional(d, { postcode: false }) } : undefined;
    }),
  },
];

/** Everything a search asks of PDS but the date of birth. */
const besidesBirth = (s: PatientSearch) => JSON.stringify([s.given, s.family, s.gender, s.postcode, s.fuzzy ?? false, s.history ?? false]);

/** The first and last day a search's birth-date parameters allow (eq, ge, le). */
function birthDays(s: PatientSearch): [number, number] {
  let from = -Infinity;
  let to = Infinity;
  for (const p of s.birthdate ?? []) {
    const day = dayOf(p.slice(2));
    if (p.startsWith('eq')) [from, to] = [day, day];
    else if (p.startsWith('ge')) from = day;
    else if (p.startsWith('le')) to = day;
  }
  return [from, to];
}

/** PDS already answered this search: an earlier one asked the same on a range of birth dates that holds this one's. */
function answered(search: PatientSearch, made: readonly PatientSearch[]): boolean {
  const [from, to] = birthDays(search);
  return made.some((m) => {
    const [f, t] = birthDays(m);
    return f <= from && to <= t && besidesBirth(m) === besidesBirth(search);
  });
}

/** The record's postcode is the candidate's, now or before. */
const atPostcode = (fields: Record<string, string>) => fields.postcode === 'exact' || fields.postcode === 'historic';
/** Neither name disagrees outright. */
const namesAgree = (fields: Record<string, string>) => fields.familyName !== 'disagree' && fields.givenName !== 'disagree';

/** Names and date of birth agree exactly (a surname from the name history counts). */
const exactly = (fields: Record<string, string>) => (fields.familyName === 'exact' || fields.familyName === 'previous-name') && fields.givenName === 'exact' && fields.dateOfBirth === 'exact';

export class Matcher {
  constructor(
    private readonly pds: PdsClient,
    private readonly strategies: Strategy[] = STRATEGIES,
  ) {}

  /** Throws QuotaExceeded, having asked PDS nothing, when the caller is past their share of the PDS allowance. */
  async match(d: Demographics, options: CallOptions = {}): Promise<MatchResult> {
    const candidates = new Map<string, Candidate>();
    let pdsCalls = 0;
    const made: PatientSearch[] = [];
    /** The strategies PDS answered, with how many it found. */
    const answeredBy = new Map<string, number>();
    let manyMatches: string | undefined;
    const finish = (status: MatchStatus, best?: Candidate, error?: string): MatchResult => ({
      status,
      nhsNumber: status === 'MATCH' || status === 'POTENTIAL_MATCH' || status === 'LOW_CONFIDENCE' ? (best?.nhsNumber ?? null) : null,
      score: best?.score ?? 0,
      strategy: best?.strategy ?? (status === 'MANY_MATCH' ? (manyMatches ?? null) : null),
      candidates: [...candidates.values()].sort((a, b) => b.score - a.score),
      pdsCalls,
      ...(error ? { error } : {}),
    });
    /** One PDS search, its candidates checked and kept; undefined when PDS would not take it or found too many. */
    const ask = async (name: string, search: PatientSearch) => {
      pdsCalls++;
      let result;
      try {
        // Once the first search is taken, the rest of this match goes on at the caller's share: never refused half done.
        result = await this.pds.searchPatients(search, pdsCalls > 1 ? { ...options, continuing: true } : options);
      } catch (error) {
        // A search PDS will not take (for example a name too short for it) is skipped, not fatal.
        if (error instanceof PdsRequestError && error.status === 400) return undefined;
        throw error;
      }
      if (result.kind === 'too-many-matches') {
        manyMatches ??= name;
        return undefined;
      }
      made.push(search);
      answeredBy.set(name, result.matches.length);
      // A non-fuzzy search with history on the whole postcode (or the family name) returns only those PDS holds it for, now or before.
      const exactWithHistory = !search.fuzzy && search.history === true;
      const postcodeSearched = exactWithHistory && search.postcode !== undefined && !search.postcode.includes('*');
      const familySearched = exactWithHistory && search.family === d.familyName;
      const confident: Candidate[] = [];
      const uncorroborated: Candidate[] = [];
      for (const match of result.matches) {
        const checked = agreement(d, match.patient, { postcodeSearched, familySearched });
        const candidate: Candidate = { nhsNumber: match.patient.nhsNumber, score: checked.score, pdsScore: match.score, strategy: name, fields: checked.fields, cap: checked.cap, patient: match.patient };
        const previous = candidates.get(candidate.nhsNumber);
        if (!previous || previous.score < candidate.score) candidates.set(candidate.nhsNumber, candidate);
        if (band(candidate.score) === 'MATCH') confident.push(candidate);
        else if (checked.cap === 'uncorroborated') uncorroborated.push(candidate);
      }
      return { confident, uncorroborated, postcodeSearched, all: result.matches.map((m) => candidates.get(m.patient.nhsNumber)!) };
    };
    try {
      for (const strategy of this.strategies) {
        const search = strategy.search(d);
        const skipped = strategy.unless !== undefined && answeredBy.has(strategy.unless) && (!strategy.unlessFound || answeredBy.get(strategy.unless)! > 0);
        if (!search || skipped || answered(search, made)) continue;
        // Only another date of birth is left to try, and a person has a candidate to review already.
        if (strategy.decisive === false && [...candidates.values()].some((c) => c.score >= BANDS.potentialMatch)) continue;
        const found = await ask(strategy.name, search);
        if (!found) continue;
        const { confident, uncorroborated } = found;
        if (confident.length === 1) return finish('MATCH', confident[0]);
        if (confident.length > 1) return finish('MANY_MATCH');
        // With no postcode, no later search can vouch for anyone: a person reviews the candidate now.
        if (!d.postcode && uncorroborated.length === 1) return finish('POTENTIAL_MATCH', uncorroborated[0]);
        if (!d.postcode && uncorroborated.length > 1) return finish('MANY_MATCH');
        // A candidate in review's band at the record's postcode (now or before) whose names agree, held back
        // only by its date of birth: no other child of that household bears those names, so no later search
        // can find a better one. A person reviews it now.
        const slipped = [...candidates.values()].find((c) => c.score >= BANDS.potentialMatch && atPostcode(c.fields) && namesAgree(c.fields));
        if (slipped) return finish('POTENTIAL_MATCH', slipped);
        // The household held one child born about then, in review's band (another first name, a surname typo, a date slip):
        // anyone a later search finds lives elsewhere, and the postcode would not vouch for them.
        if (strategy.name === 'household' && found.all.length === 1 && found.all[0]!.score >= BANDS.potentialMatch) return finish('POTENTIAL_MATCH', found.all[0]);
        if (uncorroborated.length !== 1) continue;
        const [candidate] = uncorroborated as [Candidate];
        // A candidate whose names and date of birth agree exactly but whose postcode PDS has never held (a
        // whole-postcode search with history ran first) will not be vouched for by a later search either.
        if (exactly(candidate.fields) && !found.postcodeSearched) return finish('POTENTIAL_MATCH', candidate);
        // One candidate a search without the postcode found: ask PDS once whether it holds the record's
        // postcode for them, now or before (their own names, birth date and the postcode, with history).
        // Either answer settles it: vouched for (MATCH if nothing else disagrees) or for a person to review.
        const given = candidate.patient.givenNames[0];
        const { familyName, birthDate } = candidate.patient;
        if (!given || !familyName || !birthDate) continue;
        const confirm: PatientSearch = { given: [given], family: familyName, birthdate: [`eq${birthDate}`], postcode: d.postcode, history: true };
        if (answered(confirm, made)) continue;
        const confirmed = await ask('postcode_history', confirm);
        if (confirmed?.confident.length === 1) return finish('MATCH', confirmed.confident[0]);
        if (confirmed && confirmed.confident.length > 1) return finish('MANY_MATCH');
        const settled = candidates.get(candidate.nhsNumber)!;
        if (settled.score >= BANDS.potentialMatch) return finish('POTENTIAL_MATCH', settled);
      }
    } catch (error) {
      if (error instanceof QuotaExceeded) throw error;
      return finish('ERROR', undefined, error instanceof Error ? error.message : String(error));
    }
    const best = [...candidates.values()].sort((a, b) => b.score - a.score)[0];
    if (best) return finish(band(best.score), best);
    return finish(manyMatches ? 'MANY_MATCH' : 'NO_MATCH');
  }
}
