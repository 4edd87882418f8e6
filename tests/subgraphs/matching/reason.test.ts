// MATCH's reason for a band, for every shape of candidate the agreement check can produce.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { explain } from '../../../subgraphs/matching/reason.ts';
import type { Candidate, MatchStatus } from '../../../subgraphs/matching/matcher.ts';

const LEVELS = {
  givenName: ['exact', 'one-edit', 'prefix', 'sound-alike', 'familiar-form', 'transposed', 'disagree', 'none'],
  familyName: ['exact', 'previous-name', 'one-edit', 'sound-alike', 'transposed', 'disagree'],
  dateOfBirth: ['exact', 'day-month-swapped', 'disagree'],
  gender: ['agree', 'disagree'],
  postcode: ['exact', 'historic', 'same-district', 'disagree'],
} as const;

const fields = fc.record(
  Object.fromEntries(Object.entries(LEVELS).map(([field, levels]) => [field, fc.constantFrom(...levels)])) as Record<keyof typeof LEVELS, fc.Arbitrary<string>>,
  { requiredKeys: ['givenName', 'familyName', 'dateOfBirth'] },
);
// Names no sentence could hold by chance, so one that repeats them is caught.
const name = fc.stringMatching(/^Qz[a-z]{2,8}$/);
const asked = fc.record({ givenName: name, familyName: name, dateOfBirth: fc.constant('2014-03-09'), postcode: fc.option(fc.constantFrom('LS1 6AE', 'E1 6AN'), { nil: undefined }) });
const candidate = fc.record({ fields, cap: fc.constantFrom('disagreement', 'uncorroborated', null), score: fc.double({ min: 0, max: 1, noNaN: true }) });
const STATUSES: MatchStatus[] = ['MATCH', 'POTENTIAL_MATCH', 'LOW_CONFIDENCE', 'MANY_MATCH', 'NO_MATCH', 'ERROR'];

describe('explain', () => {
  it('splits the compared details into agreed and disagreed, and gives a reason that follows from them', () => {
    fc.assert(
      fc.property(fc.constantFrom(...STATUSES), candidate, asked, (status, c, d) => {
        const best = { ...c, nhsNumber: '9000000009', pdsScore: 1, strategy: 'exact', patient: {} } as unknown as Candidate;
        const { postcode, ...rest } = d;
        const demographics = { ...rest, ...(postcode ? { postcode } : {}) };
        const out = explain(status, best, demographics);
        const compared = Object.entries(c.fields).filter(([, level]) => level !== 'none');
        // Every compared detail is in exactly one list, with its level where it agreed.
        expect([...out.agreed.map((a) => a.field), ...out.disagreed].sort()).toEqual(compared.map(([f]) => f).sort());
        for (const a of out.agreed) expect(a.level).toBe(c.fields[a.field as keyof typeof c.fields]);
        for (const f of out.disagreed) expect(c.fields[f as keyof typeof c.fields]).toBe('disagree');
        // The reason follows from the band, then from what disagreed, then from what vouched for the candidate.
        const decisive = ['givenName', 'familyName', 'dateOfBirth'].filter((f) => c.fields[f as keyof typeof c.fields] === 'disagree');
        const expected =
          status === 'ERROR' ? 'PDS_UNAVAILABLE'
          : status === 'NO_MATCH' ? 'NOT_FOUND'
          : status === 'MANY_MATCH' ? 'SEVERAL_FIT'
          : status === 'MATCH' ? 'CORROBORATED'
          : decisive.length > 0 ? 'FIELD_DISAGREES'
          : c.fields.dateOfBirth === 'day-month-swapped' ? 'DATE_SWAPPED'
          : c.cap === 'uncorroborated' ? (postcode ? 'POSTCODE_NOT_HELD' : 'NO_POSTCODE')
          : 'WEAK_AGREEMENT';
        expect(out.reason).toBe(expected);
        // The sentence names the details that disagree, and never repeats what was asked.
        if (out.reason === 'FIELD_DISAGREES') for (const f of decisive) expect(out.explanation.toLowerCase()).toContain({ givenName: 'given name', familyName: 'family name', dateOfBirth: 'date of birth' }[f]);
        for (const value of [d.givenName, d.familyName, d.dateOfBirth, postcode].filter(Boolean)) expect(out.explanation).not.toContain(value);
      }),
    );
  });

  it('gives no details for an answer without a candidate', () => {
    for (const status of ['MANY_MATCH', 'NO_MATCH', 'ERROR'] as const) {
      expect(explain(status, undefined, { givenName: 'Ann', familyName: 'Lee', dateOfBirth: '2014-03-09' })).toMatchObject({ agreed: [], disagreed: [] });
    }
  });
});
