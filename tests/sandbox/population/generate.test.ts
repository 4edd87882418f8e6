import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isValidNhsNumber } from '../../../lib/nhs-number.ts';
import { populationPaths, type Manifest, type Scenario } from '../../../sandbox/population/generate.ts';
import { LA_TABLES } from '../../../lib/db/la-tables.ts';
import { NICKNAMES, PLACEHOLDER_GIVEN_NAMES, SPELLINGS } from '../../../sandbox/population/names.ts';
import { canSwapDayMonth, NOISE_RATES, type Noise } from '../../../sandbox/population/noise.ts';
import { DEMOGRAPHIC_RATES, UNREGISTERED_RATES } from '../../../sandbox/population/person.ts';
import { dayOf } from '../../../lib/dates.ts';
import { SANDBOX_LAS } from '../../../sandbox/population/places.ts';
import { testPopulation } from '../../helpers/population.ts';

const CHILDREN = 8000;

interface Patient {
  id: string;
  active?: boolean;
  link?: { type: string; other: { reference: string } }[];
  identifier: { system: string; value: string }[];
  meta: { security?: { code: string }[] };
  name: { use: string; given: string[]; family: string; period: { start: string; end?: string } }[];
  gender: string;
  birthDate: string;
  address: { postalCode: string; period: { start: string; end?: string } }[];
  deceasedDateTime?: string;
}
interface Truth {
  la: string;
  table: 'ssd_person' | 'edu_pupil';
  id: string;
  nhsNumber: string | null;
  noise: Noise[];
  resembles?: string;
}
interface LocalRecord {
  id: string;
  forename: string;
  surname: string;
  dob: string;
  postcode: string | null;
  nhs: string | null;
  sex: string;
}

const lines = <T>(path: string): T[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);

const digest = (dir: string): string => {
  const hash = createHash('sha256');
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.isDirectory()) walk(join(d, entry.name));
      else hash.update(entry.name).update(readFileSync(join(d, entry.name)));
    }
  };
  walk(dir);
  return hash.digest('hex');
};

/** The postcodes a national record holds, and the current one. */
const national = (p: Patient) => ({ postcodes: p.address.map((a) => a.postalCode), current: p.address.find((a) => !a.period.end)?.postalCode });

let dir: string;
let manifest: Manifest;
let patients: Patient[];
let truth: Truth[];
const local = new Map<string, LocalRecord>();

beforeAll(async () => {
  ({ dir, manifest } = await testPopulation(CHILDREN, 11));
  const paths = populationPaths(dir);
  patients = lines<Patient>(paths.patients);
  truth = lines<Truth>(paths.groundTruth);
  for (const la of SANDBOX_LAS) {
    const postcodes = new Map(lines<Record<string, string | null>>(paths.laTable(la.code, 'ssd_address')).map((a) => [a.addr_person_id, a.addr_address_postcode ?? null]));
    for (const p of lines<Record<string, string | null>>(paths.laTable(la.code, 'ssd_person'))) {
      local.set(`${la.code}/ssd_person/${p.pers_person_id}`, {
        id: p.pers_person_id!,
        forename: p.pers_forename!,
        surname: p.pers_surname!,
        dob: p.pers_dob!,
        postcode: postcodes.get(p.pers_person_id) ?? null,
        nhs: p.pers_common_child_id ?? null,
        sex: p.pers_sex!,
      });
    }
    for (const p of lines<Record<string, string | null>>(paths.laTable(la.code, 'edu_pupil'))) {
      local.set(`${la.code}/edu_pupil/${p.pupil_id}`, { id: p.pupil_id!, forename: p.forename!, surname: p.surname!, dob: p.dob!, postcode: p.postcode ?? null, nhs: p.nhs_number ?? null, sex: p.sex! });
    }
  }
}, 180_000);

describe('the national records (what PDS serves)', () => {
  it('are FHIR Patients with valid, unique NHS numbers from the never-issued 999 range', () => {
    const ids = new Set<string>();
    for (const patient of patients) {
      expect(isValidNhsNumber(patient.id)).toBe(true);
      expect(patient.id.startsWith('999')).toBe(true);
      expect(patient.identifier[0]).toMatchObject({ system: 'https://fhir.nhs.uk/Id/nhs-number', value: patient.id });
      ids.add(patient.id);
    }
    expect(ids.size).toBe(patients.length);
    expect(patients.length).toBe(manifest.counts.patients);
  });

  it('include restricted, deceased and superseded records, and previous names and addresses', () => {
    const live = patients.filter((p) => p.active !== false);
    expect(live.length).toBe(CHILDREN);
    expect(live.filter((p) => p.meta.security?.[0]?.code === 'R').length).toBeGreaterThan(0);
    expect(live.filter((p) => p.deceasedDateTime).length).toBeGreaterThan(0);
    expect(live.filter((p) => p.name.some((n) => n.use === 'old')).length).toBeGreaterThan(CHILDREN * 0.01);
    expect(live.filter((p) => p.address.some((a) => a.period.end)).length).toBeGreaterThan(CHILDREN * 0.1);
    const superseded = patients.filter((p) => p.active === false);
    expect(superseded.length).toBeGreaterThan(0);
    const liveIds = new Set(live.map((p) => p.id));
    for (const old of superseded) {
      expect(old.link?.[0]?.type).toBe('replaced-by');
      expect(liveIds.has(old.link![0]!.other.reference.replace('Patient/', ''))).toBe(true);
    }
  });

  it('cover ages 0 to 18 and names from many backgrounds', () => {
    const asOf = dayOf(manifest.asOf);
    const ages = patients.filter((p) => p.active !== false).map((p) => (asOf - dayOf(p.birthDate)) / 365.25);
    expect(Math.min(...ages)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...ages)).toBeLessThan(18.01);
    const families = patients.filter((p) => p.active !== false).map((p) => p.name[0]!.family);
    expect(families.some((f) => f.includes('-'))).toBe(true);
    expect(families.some((f) => f.includes("'"))).toBe(true);
    expect(families.some((f) => /^Ma?c[A-Z]/.test(f))).toBe(true);
    expect(patients.some((p) => (p.name[0]?.given.length ?? 0) > 1)).toBe(true);
    expect(new Set(families).size).toBeGreaterThan(300);
  });

  it('carry name history with periods: an old name ends the day before the usual one starts', () => {
    const changed = patients.filter((p) => p.active !== false && p.name.some((n) => n.use === 'old'));
    expect(changed.length).toBeGreaterThan(CHILDREN * DEMOGRAPHIC_RATES.previousFamilyName * 0.5);
    for (const p of changed) {
      const usual = p.name.find((n) => n.use === 'usual')!;
      const old = p.name.find((n) => n.use === 'old')!;
      expect(old.period.start).toBe(p.birthDate);
      expect(dayOf(old.period.end!) + 1).toBe(dayOf(usual.period.start));
      expect(old.family).not.toBe(usual.family);
    }
  });

  it('include twins and triplets, and namesakes living elsewhere, at about their rates', () => {
    const live = patients.filter((p) => p.active !== false);
    const usual = (p: Patient) => p.name.find((n) => n.use === 'usual')!;
    const home = (p: Patient) => p.address.find((a) => !a.period.end)!.postalCode;
    const groups = (key: (p: Patient) => string) => {
      const map = new Map<string, Patient[]>();
      for (const p of live) map.set(key(p), [...(map.get(key(p)) ?? []), p]);
      return [...map.values()].filter((g) => g.length > 1);
    };
    // A multiple birth: the same family name, date of birth and home, different given names and NHS numbers.
    const births = groups((p) => `${usual(p).family}|${p.birthDate}|${home(p)}`);
    const inBirths = births.flat();
    for (const group of births) expect(new Set(group.map((p) => usual(p).given[0])).size).toBeGreaterThan(1);
    const expectedMultiples = CHILDREN * 2 * DEMOGRAPHIC_RATES.multipleBirth;
    expect(inBirths.length).toBeGreaterThan(expectedMultiples * 0.6);
    expect(inBirths.length).toBeLessThan(expectedMultiples * 1.5);
    expect(births.some((g) => g.length === 3)).toBe(true);
    // A namesake: the same first given name, family name, date of birth and sex, living somewhere else.
    const namesakes = groups((p) => `${usual(p).given[0]}|${usual(p).family}|${p.birthDate}|${p.gender}`).filter((g) => new Set(g.map(home)).size === g.length);
    expect(namesakes.length).toBeGreaterThan(CHILDREN * DEMOGRAPHIC_RATES.namesake * 0.5);
    expect(namesakes.length).toBeLessThan(CHILDREN * DEMOGRAPHIC_RATES.namesake * 1.6);
  });
});

describe('the LA records and the ground truth', () => {
  it('has a ground-truth row for every local person and pupil, naming a real national record or none', () => {
    const liveIds = new Set(patients.filter((p) => p.active !== false).map((p) => p.id));
    expect(truth.length).toBe(local.size);
    for (const row of truth) {
      expect(local.has(`${row.la}/${row.table}/${row.id}`)).toBe(true);
      if (row.nhsNumber === null) {
        expect(row.noise).toContain('not_in_pds');
        if (row.resembles !== undefined) expect(liveIds.has(row.resembles)).toBe(true);
      } else {
        expect(row.noise).not.toContain('not_in_pds');
        expect(liveIds.has(row.nhsNumber)).toBe(true);
      }
    }
    const perLa = Object.fromEntries(SANDBOX_LAS.map((la) => [la.code, manifest.counts.las[la.code]!.ssd_person + manifest.counts.las[la.code]!.edu_pupil]));
    for (const la of SANDBOX_LAS) expect(truth.filter((t) => t.la === la.code).length).toBe(perLa[la.code]);
  });

  it('includes children known to social care in both LAs', () => {
    const cscByChild = new Map<string, Set<string>>();
    for (const row of truth.filter((t) => t.table === 'ssd_person' && t.nhsNumber)) {
      cscByChild.set(row.nhsNumber!, (cscByChild.get(row.nhsNumber!) ?? new Set()).add(row.la));
    }
    const both = [...cscByChild.values()].filter((las) => las.size === 2).length;
    expect(both).toBeGreaterThan(5);
  });

  it('records the noise it says it applied, and none it does not', () => {
    const byId = new Map(patients.map((p) => [p.id, p]));
    const shiftedBy = (a: string, b: string) => ({ days: Math.abs(dayOf(a) - dayOf(b)), year: a.slice(0, 4) !== b.slice(0, 4), month: a.slice(5, 7) !== b.slice(5, 7), day: a.slice(8) !== b.slice(8) });
    const oneCharApart = (a: string, b: string) => a.length === b.length && [...a].filter((c, i) => c !== b[i]).length === 1;
    for (const row of truth) {
      const record = local.get(`${row.la}/${row.table}/${row.id}`)!;
      const noisy = (n: Noise) => row.noise.includes(n);
      if (row.nhsNumber === null) {
        expect(record.nhs).toBeNull();
        // A look-alike with nothing else changed carries the registered child's very name and date of birth.
        const resembled = row.resembles ? byId.get(row.resembles)! : undefined;
        const plain = row.noise.every((n) => ['not_in_pds', 'missing_postcode', 'old_postcode', 'postcode_typo', 'unknown_gender', 'middle_names'].includes(n) || n.startsWith('resembles_'));
        if (resembled && plain && noisy('resembles_namesake')) {
          const usual = resembled.name.find((n) => n.use === 'usual')!;
          expect([record.forename.split(' ')[0], record.surname, record.dob]).toEqual([usual.given[0], usual.family, resembled.birthDate]);
          expect(national(resembled).postcodes).not.toContain(record.postcode);
        }
        if (resembled && plain && noisy('resembles_near_date')) expect(shiftedBy(record.dob, resembled.birthDate).days === 1 || record.dob.slice(5) === `${resembled.birthDate.slice(8)}-${resembled.birthDate.slice(5, 7)}`).toBe(true);
        continue;
      }
      const patient = byId.get(row.nhsNumber)!;
      const usual = patient.name.find((n) => n.use === 'usual')!;
      const old = patient.name.find((n) => n.use === 'old');
      const [forename, surname] = noisy('names_swapped') ? [record.surname, record.forename] : [record.forename, record.surname];
      if (noisy('placeholder_given_name')) {
        expect(PLACEHOLDER_GIVEN_NAMES).toContain(forename);
      } else {
        const [first, ...middle] = forename.split(' ');
        const base = noisy('known_by_middle_name') ? usual.given[1] : usual.given[0];
        // A spelling variant is of the given name, the family name or both, where each has one; a typo
        // may come on top of a nickname or a spelling, so only the changes made alone are checked exactly.
        const respelt = noisy('spelling_variant') && SPELLINGS[base!] !== undefined;
        if (noisy('nickname') && !noisy('forename_typo')) expect(NICKNAMES[base!]).toContain(first);
        else if (noisy('forename_typo') && !noisy('nickname') && !respelt) expect(first).not.toBe(base);
        else if (respelt && !noisy('forename_typo')) expect([base, ...SPELLINGS[base!]!]).toContain(first);
        else if (!noisy('nickname') && !noisy('forename_typo')) expect(first).toBe(base);
        if (noisy('middle_names')) expect(middle).toEqual(usual.given.slice(1));
        else expect(middle).toEqual([]);
      }
      const family = noisy('previous_surname') ? old!.family : usual.family;
      if (noisy('previous_surname')) expect(old).toBeDefined();
      const surnameNoise = [noisy('punctuation_variant'), noisy('surname_typo'), noisy('spelling_variant') && SPELLINGS[family] !== undefined].filter(Boolean).length;
      if (surnameNoise === 0) expect(surname).toBe(family);
      else if (surnameNoise === 1 && !(noisy('spelling_variant') && SPELLINGS[family])) expect(surname).not.toBe(family);
      else if (surnameNoise === 1) expect([family, ...SPELLINGS[family]!]).toContain(surname);
      if (noisy('spelling_variant') && !noisy('forename_typo') && !noisy('surname_typo') && !noisy('placeholder_given_name')) {
        expect(forename.split(' ')[0] !== (noisy('known_by_middle_name') ? usual.given[1] : usual.given[0]) || surname !== family).toBe(true);
      }
      const shift = shiftedBy(record.dob, patient.birthDate);
      if (noisy('day_month_swap')) expect(record.dob.slice(5)).toBe(`${patient.birthDate.slice(8)}-${patient.birthDate.slice(5, 7)}`);
      else if (noisy('date_slip_day')) expect(shift.days).toBe(1);
      else if (noisy('date_slip_month')) expect([shift.month, shift.day]).toEqual([true, false]);
      else if (noisy('date_slip_year')) expect([shift.year, shift.month, shift.day]).toEqual([true, false, false]);
      else expect(record.dob).toBe(patient.birthDate);
      const sex = patient.gender === 'female' ? 'F' : patient.gender === 'male' ? 'M' : 'U';
      expect(record.sex).toBe(noisy('unknown_gender') ? 'U' : sex);
      const { postcodes, current } = national(patient);
      if (noisy('missing_postcode')) expect(record.postcode).toBeNull();
      else if (noisy('postcode_typo')) expect(postcodes.some((p) => oneCharApart(p, record.postcode!))).toBe(true);
      else if (noisy('old_postcode')) expect(postcodes.filter((p) => p !== current)).toContain(record.postcode);
      else expect(postcodes).toContain(record.postcode);
      if (noisy('no_nhs_number')) expect(record.nhs).toBeNull();
      else if (noisy('superseded_nhs_number')) expect(record.nhs).not.toBe(row.nhsNumber);
      else expect(record.nhs).toBe(row.nhsNumber);
    }
  });

  it('shows every kind of noise, each at about its documented rate', () => {
    const byId = new Map(patients.map((p) => [p.id, p]));
    const registered = truth.filter((t) => t.nhsNumber !== null);
    const patientOf = (t: Truth) => byId.get(t.nhsNumber!)!;
    const usual = (t: Truth) => patientOf(t).name.find((n) => n.use === 'usual')!;
    const has = (t: Truth, n: Noise) => t.noise.includes(n);
    // Within four standard deviations of the binomial count the rate gives, and at least one.
    const near = (rows: Truth[], noise: Noise, rate: number) => {
      const count = rows.filter((t) => has(t, noise)).length;
      const expected = rows.length * rate;
      const spread = 4 * Math.sqrt(expected * (1 - rate)) + 1;
      expect(count, `${noise}: ${count} of ${rows.length}, expected about ${expected.toFixed(1)}`).toBeGreaterThan(Math.max(0, expected - spread));
      expect(count, `${noise}: ${count} of ${rows.length}, expected about ${expected.toFixed(1)}`).toBeLessThan(expected + spread);
    };
    const csc = registered.filter((t) => t.table === 'ssd_person');
    const named = registered.filter((t) => !has(t, 'placeholder_given_name'));
    near(csc, 'no_nhs_number', NOISE_RATES.cscNoNhsNumber);
    near(registered.filter((t) => t.table === 'edu_pupil'), 'no_nhs_number', NOISE_RATES.pupilNoNhsNumber);
    const severalGiven = named.filter((t) => usual(t).given.length > 1);
    near(severalGiven, 'known_by_middle_name', NOISE_RATES.knownByMiddleName);
    near(severalGiven.filter((t) => !has(t, 'known_by_middle_name')), 'middle_names', NOISE_RATES.middleNames);
    near(registered.filter((t) => patientOf(t).name.some((n) => n.use === 'old')), 'previous_surname', NOISE_RATES.previousSurname);
    const firstOnly = named.filter((t) => !has(t, 'known_by_middle_name'));
    near(firstOnly.filter((t) => NICKNAMES[usual(t).given[0]!]), 'nickname', NOISE_RATES.nickname);
    near(firstOnly.filter((t) => SPELLINGS[usual(t).given[0]!] && !NICKNAMES[usual(t).given[0]!] && !SPELLINGS[usual(t).family]), 'spelling_variant', NOISE_RATES.spellingVariant);
    near(registered.filter((t) => !has(t, 'previous_surname') && /['\- ]/.test(usual(t).family)), 'punctuation_variant', NOISE_RATES.punctuationVariant);
    near(named, 'forename_typo', NOISE_RATES.forenameTypo);
    near(registered, 'surname_typo', NOISE_RATES.surnameTypo);
    near(registered, 'names_swapped', NOISE_RATES.namesSwapped);
    const asOf = dayOf(manifest.asOf);
    near(csc.filter((t) => asOf - dayOf(patientOf(t).birthDate) < 365), 'placeholder_given_name', NOISE_RATES.placeholderGivenName);
    near(registered.filter((t) => ['male', 'female'].includes(patientOf(t).gender)), 'unknown_gender', NOISE_RATES.unknownGender);
    near(registered, 'missing_postcode', NOISE_RATES.missingPostcode);
    near(registered.filter((t) => !has(t, 'missing_postcode')), 'postcode_typo', NOISE_RATES.postcodeTypo);
    // An earlier postcode is there to be kept only in the LA the child lives in now, having moved.
    const laOf = (postcode: string) => SANDBOX_LAS.find((la) => la.districts.includes(postcode.split(' ')[0]!))?.code;
    const movedHere = (t: Truth) => patientOf(t).address.length > 1 && laOf(national(patientOf(t)).current!) === t.la;
    near(registered.filter((t) => !has(t, 'missing_postcode') && movedHere(t)), 'old_postcode', NOISE_RATES.oldPostcode);
    const swappable = registered.filter((t) => canSwapDayMonth(dayOf(patientOf(t).birthDate)));
    near(swappable, 'day_month_swap', NOISE_RATES.dayMonthSwap);
    const notSwapped = registered.filter((t) => !has(t, 'day_month_swap'));
    near(notSwapped, 'date_slip_day', NOISE_RATES.dateSlipDay);
    near(notSwapped, 'date_slip_month', NOISE_RATES.dateSlipMonth);
    near(notSwapped, 'date_slip_year', NOISE_RATES.dateSlipYear);
    const replacing = new Set(patients.flatMap((p) => (p.link ? [p.link[0]!.other.reference.replace('Patient/', '')] : [])));
    near(registered.filter((t) => replacing.has(t.nhsNumber!) && !has(t, 'no_nhs_number')), 'superseded_nhs_number', NOISE_RATES.supersededNumberKept);
    // Children with no national record, against the registered children social care knows, and what they resemble.
    const cscAll = truth.filter((t) => t.table === 'ssd_person');
    const unregistered = cscAll.filter((t) => t.nhsNumber === null);
    near(cscAll, 'not_in_pds', UNREGISTERED_RATES.perCscChild / (1 + UNREGISTERED_RATES.perCscChild));
    const weights = UNREGISTERED_RATES.resembles;
    const total = Object.values(weights).reduce((a, b) => a + b, 0);
    for (const how of ['namesake', 'near_name', 'near_date', 'sibling'] as const) near(unregistered, `resembles_${how}`, weights[how] / total);
  });

  it('writes every LA table, and a demo scenario drawn from the data', () => {
    const paths = populationPaths(dir);
    for (const la of SANDBOX_LAS) {
      for (const table of LA_TABLES) expect(lines(paths.laTable(la.code, table)).length).toBe(manifest.counts.las[la.code]![table]);
    }
    const scenario = JSON.parse(readFileSync(paths.scenario, 'utf8')) as Scenario;
    const labels = scenario.exampleChildren.map((c) => c.label);
    expect(labels).toEqual(expect.arrayContaining(['child_protection_plan', 'looked_after', 'held_by_both_las']));
    for (const example of scenario.exampleChildren) {
      expect(isValidNhsNumber(example.nhsNumber)).toBe(true);
      for (const la of example.heldBy) {
        expect(truth.some((t) => t.la === la && t.nhsNumber === example.nhsNumber)).toBe(true);
      }
    }
    const roles = new Set(scenario.las.flatMap((la) => la.caseworkers.flatMap((c) => c.roles)));
    expect([...roles].sort()).toEqual(['csc.manager', 'csc.practitioner', 'education.officer', 'ig.officer', 'la.developer']);
    const allocated = scenario.las.flatMap((la) => la.caseworkers.flatMap((c) => c.allocatedChildren));
    expect(allocated.length).toBeGreaterThan(20);
    // Each child a caseworker is said to be allocated is, in their own LA's records, open to them now
    // (two LAs may each employ a worker of the same name).
    for (const la of scenario.las) {
      const idOf = new Map(lines<{ username: string; prof_professional_id: string }>(paths.laTable(la.code, 'la_user')).map((u) => [u.username, u.prof_professional_id]));
      const nhsOf = new Map(lines<{ pers_person_id: string; pers_common_child_id: string | null }>(paths.laTable(la.code, 'ssd_person')).map((p) => [p.pers_person_id, p.pers_common_child_id]));
      const open = new Set(
        lines<{ invo_professional_id: string; invo_person_id: string; invo_involvement_end_date: string | null }>(paths.laTable(la.code, 'ssd_involvements'))
          .filter((i) => i.invo_involvement_end_date === null)
          .map((i) => `${i.invo_professional_id}/${nhsOf.get(i.invo_person_id)}`),
      );
      for (const worker of la.caseworkers) for (const child of worker.allocatedChildren) expect(open.has(`${idOf.get(worker.username)}/${child}`), `${la.code} ${worker.username} ${child}`).toBe(true);
    }
  });
});

describe('determinism', () => {
  it('gives the same files for the same seed, and different ones for another seed', async () => {
    const again = await testPopulation(CHILDREN, 11);
    expect(digest(again.dir)).toBe(digest(dir));
    const other = await testPopulation(CHILDREN, 12);
    expect(digest(other.dir)).not.toBe(digest(dir));
  });
});
