import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isValidNhsNumber } from '../../../lib/nhs-number.ts';
import { populationPaths, type Manifest, type Scenario } from '../../../lib/population/generate.ts';
import { LA_TABLES } from '../../../lib/population/la.ts';
import { NICKNAMES } from '../../../lib/population/names.ts';
import { canSwapDayMonth, NOISE_RATES, type Noise } from '../../../lib/population/noise.ts';
import { dayOf } from '../../../lib/population/dates.ts';
import { SANDBOX_LAS } from '../../../lib/population/places.ts';
import { testPopulation } from '../../helpers/population.ts';

const CHILDREN = 8000;

interface Patient {
  id: string;
  active?: boolean;
  link?: { type: string; other: { reference: string } }[];
  identifier: { system: string; value: string }[];
  meta: { security?: { code: string }[] };
  name: { use: string; given: string[]; family: string }[];
  birthDate: string;
  address: { postalCode: string; period: { end?: string } }[];
  deceasedDateTime?: string;
}
interface Truth {
  la: string;
  table: 'ssd_person' | 'edu_pupil';
  id: string;
  nhsNumber: string;
  noise: Noise[];
}
interface LocalRecord {
  id: string;
  forename: string;
  surname: string;
  dob: string;
  postcode: string | null;
  nhs: string | null;
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
      });
    }
    for (const p of lines<Record<string, string | null>>(paths.laTable(la.code, 'edu_pupil'))) {
      local.set(`${la.code}/edu_pupil/${p.pupil_id}`, { id: p.pupil_id!, forename: p.forename!, surname: p.surname!, dob: p.dob!, postcode: p.postcode ?? null, nhs: p.nhs_number ?? null });
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
});

describe('the LA records and the ground truth', () => {
  it('has a ground-truth row for every local person and pupil, naming a real national record', () => {
    const liveIds = new Set(patients.filter((p) => p.active !== false).map((p) => p.id));
    expect(truth.length).toBe(local.size);
    for (const row of truth) {
      expect(local.has(`${row.la}/${row.table}/${row.id}`)).toBe(true);
      expect(liveIds.has(row.nhsNumber)).toBe(true);
    }
    const perLa = Object.fromEntries(SANDBOX_LAS.map((la) => [la.code, manifest.counts.las[la.code]!.ssd_person + manifest.counts.las[la.code]!.edu_pupil]));
    for (const la of SANDBOX_LAS) expect(truth.filter((t) => t.la === la.code).length).toBe(perLa[la.code]);
  });

  it('includes children known to social care in both LAs', () => {
    const cscByChild = new Map<string, Set<string>>();
    for (const row of truth.filter((t) => t.table === 'ssd_person')) {
      cscByChild.set(row.nhsNumber, (cscByChild.get(row.nhsNumber) ?? new Set()).add(row.la));
    }
    const both = [...cscByChild.values()].filter((las) => las.size === 2).length;
    expect(both).toBeGreaterThan(5);
  });

  it('records the noise it says it applied, and none it does not', () => {
    const byId = new Map(patients.map((p) => [p.id, p]));
    for (const row of truth) {
      const record = local.get(`${row.la}/${row.table}/${row.id}`)!;
      const national = byId.get(row.nhsNumber)!;
      const usual = national.name.find((n) => n.use === 'usual')!;
      const noisy = (n: Noise) => row.noise.includes(n);
      if (!noisy('names_swapped') && !noisy('nickname') && !noisy('forename_typo')) expect(record.forename).toBe(usual.given[0]);
      if (!noisy('names_swapped') && !noisy('surname_typo')) expect(record.surname).toBe(usual.family);
      if (noisy('forename_typo') && !noisy('names_swapped')) expect(record.forename).not.toBe(usual.given[0]);
      if (noisy('nickname') && !noisy('names_swapped')) expect(record.forename).not.toBe(usual.given[0]);
      if (!noisy('day_month_swap')) expect(record.dob).toBe(national.birthDate);
      else expect(record.dob.slice(5)).toBe(`${national.birthDate.slice(8)}-${national.birthDate.slice(5, 7)}`);
      if (noisy('missing_postcode')) expect(record.postcode).toBeNull();
      else expect(national.address.map((a) => a.postalCode)).toContain(record.postcode);
      if (noisy('no_nhs_number')) expect(record.nhs).toBeNull();
      else if (noisy('superseded_nhs_number')) expect(record.nhs).not.toBe(row.nhsNumber);
      else expect(record.nhs).toBe(row.nhsNumber);
    }
  });

  it('applies each kind of noise at about its intended rate', () => {
    const byId = new Map(patients.map((p) => [p.id, p]));
    const rate = (rows: Truth[], noise: Noise) => rows.filter((r) => r.noise.includes(noise)).length / rows.length;
    const csc = truth.filter((t) => t.table === 'ssd_person');
    const pupils = truth.filter((t) => t.table === 'edu_pupil');
    const near = (observed: number, intended: number, tolerance = 0.35) => {
      expect(observed).toBeGreaterThan(intended * (1 - tolerance));
      expect(observed).toBeLessThan(intended * (1 + tolerance));
    };
    near(rate(csc, 'no_nhs_number'), NOISE_RATES.cscNoNhsNumber, 0.12);
    near(rate(pupils, 'no_nhs_number'), NOISE_RATES.pupilNoNhsNumber, 0.08);
    near(rate(truth, 'surname_typo'), NOISE_RATES.surnameTypo);
    near(rate(truth, 'forename_typo'), NOISE_RATES.forenameTypo);
    near(rate(truth, 'missing_postcode'), NOISE_RATES.missingPostcode);
    near(rate(truth, 'names_swapped'), NOISE_RATES.namesSwapped, 0.6);
    const withNickname = truth.filter((t) => NICKNAMES[byId.get(t.nhsNumber)!.name[0]!.given[0]!]);
    near(rate(withNickname, 'nickname'), NOISE_RATES.nickname);
    const swappable = truth.filter((t) => canSwapDayMonth(dayOf(byId.get(t.nhsNumber)!.birthDate)));
    near(rate(swappable, 'day_month_swap'), NOISE_RATES.dayMonthSwap, 0.5);
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
