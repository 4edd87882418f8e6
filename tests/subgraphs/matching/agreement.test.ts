import { describe, expect, it } from 'vitest';
import type { Patient } from '../../../subgraphs/matching/pds/patient.ts';
import { oneEditApart } from '../../../lib/names.ts';
import { agreement, DISAGREEMENT_CAP, givenNamesOf, UNCORROBORATED_CAP } from '../../../subgraphs/matching/agreement.ts';
import { band } from '../../../subgraphs/matching/matcher.ts';
import { familiarForms, formalNamesOf } from '../../../subgraphs/matching/familiar-forms.ts';
import { DemographicsError, validateDemographics } from '../../../subgraphs/matching/demographics.ts';

const patient = (overrides: Partial<Patient> = {}): Patient => ({
  nhsNumber: '9990001234',
  givenNames: ['Olivia', 'Rose'],
  familyName: "O'Brien",
  previousFamilyNames: [],
  gender: 'female',
  birthDate: '2014-03-09',
  deathDate: null,
  address: { lines: ['1 High Street'], postcode: 'DL1 4AB' },
  previousPostcodes: [],
  gpOdsCode: 'A81001',
  restricted: false,
  ...overrides,
});
const input = { givenName: 'Olivia', familyName: "O'Brien", dateOfBirth: '2014-03-09', gender: 'female' as const, postcode: 'DL1 4AB' };

describe('one keying error apart', () => {
  it.each([
    ['SMITH', 'SMIHT', true],
    ['SMITH', 'SMIT', true],
    ['SMITH', 'SMIITH', true],
    ['SMITH', 'SMYTH', true],
    ['SMITH', 'SMYTHE', false],
    ['SMITH', 'SMITH', false],
    ['LEE', 'LEA', false],
    ['JONES', 'JAMES', false],
  ])('%s ~ %s: %s', (a, b, expected) => {
    expect(oneEditApart(a, b)).toBe(expected);
    expect(oneEditApart(b, a)).toBe(expected);
  });
});

describe('agreement', () => {
  it('scores every field agreeing as a match', () => {
    const result = agreement(input, patient());
    expect(band(result.score)).toBe('MATCH');
    expect(result.fields).toEqual({ familyName: 'exact', givenName: 'exact', dateOfBirth: 'exact', gender: 'agree', postcode: 'exact' });
  });

  it('still matches through one typo or a familiar form sharing the first letters', () => {
    expect(band(agreement({ ...input, familyName: "O'Brein" }, patient()).score)).toBe('MATCH');
    expect(band(agreement({ ...input, givenName: 'Liv' }, patient({ givenNames: ['Livia'] })).score)).toBe('MATCH');
    expect(band(agreement({ ...input, givenName: 'Olivai' }, patient()).score)).toBe('MATCH');
  });

  it('never auto-matches a twin: a different first name caps the score below MATCH however much else agrees', () => {
    const twin = agreement({ ...input, givenName: 'Grace' }, patient());
    expect(twin.fields.givenName).toBe('disagree');
    expect(twin.score).toBeLessThanOrEqual(DISAGREEMENT_CAP);
    expect(band(twin.score)).not.toBe('MATCH');
  });

  it('caps an outright family-name or birth-date disagreement too', () => {
    expect(agreement({ ...input, familyName: 'Kowalski' }, patient()).score).toBeLessThanOrEqual(DISAGREEMENT_CAP);
    expect(agreement({ ...input, dateOfBirth: '2014-03-10' }, patient()).score).toBeLessThanOrEqual(DISAGREEMENT_CAP);
  });

  it('recognises a day-month swap and transposed names', () => {
    expect(agreement({ ...input, dateOfBirth: '2014-09-03' }, patient()).fields.dateOfBirth).toBe('day-month-swapped');
    const transposed = agreement({ ...input, givenName: "O'Brien", familyName: 'Olivia' }, patient());
    expect(transposed.fields).toMatchObject({ familyName: 'transposed', givenName: 'transposed' });
  });

  it('never reaches MATCH on names, date of birth and sex alone: a namesake shares them; the postcode, now or before, must agree', () => {
    const { postcode: _postcode, ...withoutPostcode } = input;
    for (const [record, holder] of [
      [withoutPostcode, patient()],
      [{ ...input, postcode: 'SO14 2AB' }, patient()],
      [{ ...input, postcode: 'DL1 4ZZ' }, patient()],
      [input, patient({ address: null })],
    ] as const) {
      const result = agreement(record, holder);
      expect(result).toMatchObject({ cap: 'uncorroborated' });
      expect(result.score).toBeLessThanOrEqual(UNCORROBORATED_CAP);
      expect(band(result.score)).toBe('POTENTIAL_MATCH');
    }
    // An earlier address PDS returned, or a search that asked PDS for that postcode with history, vouches as the current one does.
    const moved = agreement({ ...input, postcode: 'TS1 3XY' }, patient({ previousPostcodes: ['TS1 3XY'] }));
    expect(moved).toMatchObject({ cap: null, fields: { postcode: 'historic' } });
    expect(band(moved.score)).toBe('MATCH');
    expect(band(agreement({ ...input, postcode: 'TS1 3XY' }, patient(), { postcodeSearched: true }).score)).toBe('MATCH');
  });

  it('never reaches MATCH on a day/month-swapped date, whatever else agrees', () => {
    const swapped = agreement({ ...input, dateOfBirth: '2014-09-03' }, patient());
    expect(swapped.cap).toBe('uncorroborated');
    expect(band(swapped.score)).not.toBe('MATCH');
  });

  it('reads given names one by one, a placeholder as none, and compares a surname with the name history', () => {
    expect(givenNamesOf('Jack  Thomas')).toEqual(['JACK', 'THOMAS']);
    for (const placeholder of ['Baby', 'BABY BOY', 'Infant', 'Twin 1', 'Unknown']) expect(givenNamesOf(placeholder)).toEqual([]);
    expect(agreement({ ...input, givenName: 'Rose' }, patient()).fields.givenName).toBe('exact');
    expect(agreement({ ...input, givenName: 'Baby' }, patient()).fields.givenName).toBe('none');
    const before = agreement({ ...input, familyName: 'Kowalski' }, patient({ previousFamilyNames: ['Kowalski'] }));
    expect(before.fields.familyName).toBe('previous-name');
    expect(band(before.score)).toBe('MATCH');
  });

  it('takes a familiar form of the first name as weaker agreement, never as a disagreement', () => {
    const familiar = agreement({ ...input, givenName: 'Tom', familyName: 'Wright' }, patient({ givenNames: ['Thomas'], familyName: 'Wright', gender: 'male' }));
    expect(familiar.fields.givenName).toBe('familiar-form');
    expect(familiar.cap).toBeNull();
    expect(familiar.evidence).toBeLessThan(agreement({ ...input, givenName: 'Thomas', familyName: 'Wright' }, patient({ givenNames: ['Thomas'], familyName: 'Wright', gender: 'male' })).evidence);
    expect(familiarForms('Liv', 'Olivia')).toBe(true);
    expect(familiarForms('Tom', 'Olivia')).toBe(false);
    expect(formalNamesOf('Alex')).toEqual(['Alexander', 'Alexandra']);
  });

  it('weighs a missing postcode as no evidence, a different one against', () => {
    const { postcode: _postcode, ...withoutPostcode } = input;
    const none = agreement(withoutPostcode, patient());
    const different = agreement({ ...input, postcode: 'SO14 2AB' }, patient());
    expect(none.fields).not.toHaveProperty('postcode');
    expect(different.fields.postcode).toBe('disagree');
    expect(different.evidence).toBeLessThan(none.evidence);
  });
});

describe('demographics validation', () => {
  it('tidies good input', () => {
    expect(validateDemographics({ givenName: '  Mary  Ann ', familyName: 'Smith-Jones', dateOfBirth: '2015-01-31', postcode: 'ls16ae' }, '2026-01-01')).toEqual({
      givenName: 'Mary Ann',
      familyName: 'Smith-Jones',
      dateOfBirth: '2015-01-31',
      postcode: 'LS1 6AE',
    });
  });

  it.each([
    [{ givenName: ' ' }, 'givenName'],
    [{ familyName: '' }, 'familyName'],
    [{ familyName: 'Robert; DROP TABLE' }, 'familyName'],
    [{ givenName: 'x'.repeat(36) }, 'givenName'],
    [{ dateOfBirth: '2015-02-30' }, 'dateOfBirth'],
    [{ dateOfBirth: '31/01/2015' }, 'dateOfBirth'],
    [{ dateOfBirth: '2027-01-01' }, 'dateOfBirth'],
    [{ dateOfBirth: '1850-01-01' }, 'dateOfBirth'],
    [{ postcode: 'NOT A POSTCODE' }, 'postcode'],
  ])('refuses %j naming the field', (change, field) => {
    const error = (() => {
      try {
        validateDemographics({ givenName: 'Ann', familyName: 'Lee', dateOfBirth: '2015-01-31', ...change }, '2026-01-01');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(DemographicsError);
    expect((error as DemographicsError).field).toBe(field);
  });
});
