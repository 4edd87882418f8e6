// Generates a synthetic population: the national demographic records PDS would hold (FHIR NDJSON),
// each sandbox LA's local records, and a separate ground truth linking every local record to the
// child it really is. Streams child by child, so memory stays flat however many children.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { base, en, en_GB, Faker } from '@faker-js/faker';
import { dayOf, isIsoDay } from '../../lib/dates.ts';
import { patientResource, supersededResource } from './fhir.ts';
import { type LaTable } from '../../lib/db/la-tables.ts';
import { HOLDING_RATES, LaHoldings, type Holding, type Professional } from './la.ts';
import { NdjsonWriter } from './ndjson.ts';
import { NOISE_RATES, swappedDay, typo } from './noise.ts';
import { DEMOGRAPHIC_RATES, generateChild, namesakeOf, NhsNumberSequence, RESIDENCE, twinOf, UNREGISTERED_RATES, type Child, type PersonContext, type Resemblance } from './person.ts';
import { SANDBOX_LAS } from './places.ts';
import { Random } from './random.ts';

export const GENERATOR_VERSION = 'mais-population/2';
export const DEFAULT_CHILDREN = 20_000;
export const MAX_CHILDREN = 5_000_000;

export interface GenerateOptions {
  seed: number;
  children: number;
  outDir: string;
  /** The day the population is as of (yyyy-mm-dd); ages, open cases and attendance are relative to it. */
  asOf: string;
  onProgress?: (done: number, total: number) => void;
}

export interface Caseworker {
  username: string;
  displayName: string;
  roles: string[];
  team: string | null;
  /** NHS numbers, as the LA records them, of children allocated to this caseworker: the first ten, and any example child. */
  allocatedChildren: string[];
  caseload: number;
}

export interface ExampleChild {
  nhsNumber: string;
  label: string;
  description: string;
  heldBy: string[];
  allocatedTo: string[];
}

export interface Scenario {
  seed: number;
  children: number;
  asOf: string;
  las: { code: string; name: string; caseworkers: Caseworker[] }[];
  exampleChildren: ExampleChild[];
}

export interface Manifest {
  generator: string;
  seed: number;
  children: number;
  asOf: string;
  nhsNumberPrefixes: number[];
  counts: { patients: number; groundTruth: number; unregistered: number; las: Record<string, Record<LaTable, number>> };
  rates: {
    residence: typeof RESIDENCE;
    demographics: typeof DEMOGRAPHIC_RATES;
    unregistered: typeof UNREGISTERED_RATES;
    holdings: typeof HOLDING_RATES;
    noise: typeof NOISE_RATES;
  };
}

export const populationPaths = (dir: string) => ({
  manifest: join(dir, 'manifest.json'),
  scenario: join(dir, 'scenario.json'),
  patients: join(dir, 'pds', 'patients.ndjson'),
  groundTruth: join(dir, 'ground-truth.ndjson'),
  laDir: (code: string) => join(dir, 'la', code),
  laTable: (code: string, table: LaTable) => join(dir, 'la', code, `${table}.ndjson`),
});

export function validateGenerateOptions(options: { seed: number; children: number; asOf: string }): string | undefined {
  if (!Number.isSafeInteger(options.seed) || options.seed < 0) return '--seed must be a whole number, 0 or more';
  if (!Number.isSafeInteger(options.children) || options.children < 1 || options.children > MAX_CHILDREN) {
    return `--children must be a whole number from 1 to ${MAX_CHILDREN}`;
  }
  if (!isIsoDay(options.asOf)) return '--as-of must be a date, yyyy-mm-dd';
  return undefined;
}

/**
 * The day a population is as of unless told otherwise. Fixed, so that the same seed gives the same
 * bytes on every day the generator runs (the sandbox, the demo and the tests rely on it).
 */
export const DEFAULT_AS_OF = '2026-06-30';

type ExampleRule = { label: string; description: string; test: (child: Child, holdings: Holding[]) => string[] | undefined };

const recordedTruly = (child: Child, h: Holding | undefined) => child.nhsNumber !== null && h?.csc?.nhsNumber === child.nhsNumber;

/** Each rule returns the LAs holding the child when the child is a fitting example. */
const EXAMPLE_RULES: ExampleRule[] = [
  {
    label: 'child_protection_plan',
    description: 'An open case with a child protection plan in force, allocated to a social worker.',
    test: (c, [h]) => (h?.csc?.cpPlanActive && h.csc.allocatedTo && recordedTruly(c, h) ? [h.la] : undefined),
  },
  {
    label: 'looked_after',
    description: 'A looked-after child in a current placement.',
    test: (c, [h]) => (h?.csc?.lookedAfter && recordedTruly(c, h) ? [h.la] : undefined),
  },
  {
    label: 'held_by_both_las',
    description: 'A child who moved between the two sandbox LAs and is known to social care in both, with a worker allocated in the first.',
    // The demo's story needs a caseworker of the first LA (northshire) allocated to the child.
    test: (c, hs) =>
      hs.length === 2 && hs.every((h) => recordedTruly(c, h)) && hs.some((h) => h.la === SANDBOX_LAS[0]!.code && h.csc?.allocatedTo) ? hs.map((h) => h.la) : undefined,
  },
  {
    label: 'persistent_absence',
    description: 'Known to social care and persistently absent from school (attendance below 90%).',
    test: (c, [h]) => (h?.pupil?.persistentAbsence && recordedTruly(c, h) ? [h.la] : undefined),
  },
  {
    label: 'ehcp',
    description: 'Known to social care with an education, health and care plan.',
    test: (c, [h]) => (h?.csc?.ehcp && recordedTruly(c, h) ? [h.la] : undefined),
  },
  {
    label: 'restricted_record',
    description: 'A child whose national record is restricted: no address or GP may be disclosed.',
    test: (c, [h]) => (c.restricted && recordedTruly(c, h) ? [h!.la] : undefined),
  },
  {
    label: 'superseded_nhs_number',
    description: 'Recorded locally under an NHS number that has since been superseded.',
    test: (c, [h]) => (c.supersededNhsNumber && h?.csc?.nhsNumber === c.supersededNhsNumber ? [h.la] : undefined),
  },
  {
    label: 'education_only',
    description: 'On roll at a school but not known to social care.',
    test: (c, [h]) => (h && !h.csc && h.pupil?.nhsNumber === c.nhsNumber ? [h.la] : undefined),
  },
];

export async function generatePopulation(options: GenerateOptions): Promise<Manifest> {
  const problem = validateGenerateOptions(options);
  if (problem) throw new RangeError(problem);
  const outDir = resolve(options.outDir);
  const workDir = `${outDir}.partial-${process.pid}`;
  rmSync(workDir, { recursive: true, force: true });
  const paths = populationPaths(workDir);
  mkdirSync(join(workDir, 'pds'), { recursive: true });
  for (const la of SANDBOX_LAS) mkdirSync(paths.laDir(la.code), { recursive: true });

  const asOfDay = dayOf(options.asOf);
  const random = new Random(options.seed);
  const faker = new Faker({ locale: [en_GB, en, base], seed: options.seed });
  const nhsNumbers = new NhsNumberSequence(options.seed);
  const context = { random, faker, nhsNumbers, asOfDay };

  const patients = new NdjsonWriter(paths.patients);
  const groundTruth = new NdjsonWriter(paths.groundTruth);
  const expectedCsc = Math.ceil(options.children * (RESIDENCE.northshire / 100) * (HOLDING_RATES.knownToCsc + 0.02));
  const holdings = new Map(
    SANDBOX_LAS.map((la) => [la.code, new LaHoldings(la, paths.laDir(la.code), groundTruth, new Random(options.seed, la.urnBase), asOfDay, expectedCsc)]),
  );
  const examples: ExampleChild[] = [];
  const pendingRules = new Set(EXAMPLE_RULES);
  /** `la/username` of a worker → NHS numbers (as their LA records them) of the example children allocated to them. Two LAs may each have a worker of the same name. */
  const exampleAllocations = new Map<string, string[]>();

  /** The last registered children generated: whom a namesake, twin or unregistered look-alike copies. */
  const recent: Child[] = [];
  let unregistered = 0;
  let twinsToCome = 0;
  for (let i = 0; i < options.children; i++) {
    let child: Child;
    const previous = recent.at(-1);
    if (twinsToCome > 0 && previous) {
      child = twinOf(context, previous, i);
      twinsToCome--;
    } else if (recent.length > 0 && random.chance(DEMOGRAPHIC_RATES.namesake)) {
      const other = random.pick(recent);
      const elsewhere = (Object.keys(RESIDENCE) as (keyof typeof RESIDENCE)[]).filter((r) => r !== (other.address.la ?? 'elsewhere'));
      child = generateChild(context, i, { ...namesakeOf(other), residence: random.pick(elsewhere) });
    } else {
      child = generateChild(context, i);
      if (random.chance(DEMOGRAPHIC_RATES.multipleBirth)) twinsToCome = random.chance(DEMOGRAPHIC_RATES.tripletsOfMultiple) ? 2 : 1;
    }
    const nhsNumber = child.nhsNumber!;
    patients.write(patientResource({ ...child, nhsNumber }));
    if (child.supersededNhsNumber) patients.write(supersededResource(child.supersededNhsNumber, nhsNumber));
    recent.push(child);
    if (recent.length > 256) recent.shift();

    const here = child.address.la ? holdings.get(child.address.la) : undefined;
    if (here) {
      const previous = child.previousAddresses[0];
      const before = previous?.la ? holdings.get(previous.la) : undefined;
      const childHoldings: Holding[] = [];
      let knownHere = random.chance(HOLDING_RATES.knownToCsc);
      if (before && previous) {
        const knownBefore = random.chance(HOLDING_RATES.movedKnownToPreviousCsc);
        knownHere = random.chance(HOLDING_RATES.movedKnownToCsc);
        childHoldings.push(before.addChild(child, previous, { csc: knownBefore, current: false }));
      }
      childHoldings.unshift(here.addChild(child, child.address, { csc: knownHere, current: true, ...(previous ? { earlierAddress: previous } : {}) }));
      if (knownHere && random.chance(UNREGISTERED_RATES.perCscChild)) {
        const lookAlike = unregisteredChild(context, options.children + unregistered, here.la.code as keyof typeof RESIDENCE, recent);
        here.addChild(lookAlike, lookAlike.address, { csc: true, current: true, ...(lookAlike.previousAddresses[0] ? { earlierAddress: lookAlike.previousAddresses[0] } : {}) });
        unregistered++;
      }
      for (const rule of pendingRules) {
        const relevant = rule.label === 'held_by_both_las' ? childHoldings.filter((h) => h.csc) : childHoldings;
        const heldBy = rule.test(child, relevant);
        if (!heldBy) continue;
        const allocatedTo = childHoldings.flatMap((h) => (h.csc?.allocatedTo ? [h.csc.allocatedTo] : []));
        for (const h of childHoldings) {
          const worker = `${h.la}/${h.csc?.allocatedTo}`;
          if (h.csc?.allocatedTo && h.csc.nhsNumber) exampleAllocations.set(worker, [...(exampleAllocations.get(worker) ?? []), h.csc.nhsNumber]);
        }
        examples.push({ nhsNumber, label: rule.label, description: rule.description, heldBy, allocatedTo });
        pendingRules.delete(rule);
        break;
      }
    }
    if (options.onProgress && (i + 1) % 1000 === 0) options.onProgress(i + 1, options.children);
  }
  options.onProgress?.(options.children, options.children);

  patients.close();
  const staff = new Map<string, Professional[]>();
  for (const [code, la] of holdings) staff.set(code, la.finish());
  groundTruth.close();

  // Every example child is listed among its allocated workers' children, whether or not it was one of their first few.
  for (const [la, professionals] of staff) {
    for (const professional of professionals) {
      for (const nhsNumber of exampleAllocations.get(`${la}/${professional.username}`) ?? []) if (!professional.allocated.includes(nhsNumber)) professional.allocated.push(nhsNumber);
    }
  }

  const scenario: Scenario = {
    seed: options.seed,
    children: options.children,
    asOf: options.asOf,
    las: SANDBOX_LAS.map((la) => ({
      code: la.code,
      name: la.name,
      caseworkers: (staff.get(la.code) ?? []).map((p) => ({
        username: p.username,
        displayName: p.name,
        roles: p.roles,
        team: p.team || null,
        allocatedChildren: p.allocated,
        caseload: p.caseload,
      })),
    })),
    exampleChildren: examples.sort((a, b) => EXAMPLE_RULES.findIndex((r) => r.label === a.label) - EXAMPLE_RULES.findIndex((r) => r.label === b.label)),
  };
  const manifest: Manifest = {
    generator: GENERATOR_VERSION,
    seed: options.seed,
    children: options.children,
    asOf: options.asOf,
    nhsNumberPrefixes: nhsNumbers.prefixesUsed,
    counts: {
      patients: patients.count,
      groundTruth: groundTruth.count,
      unregistered,
      las: Object.fromEntries([...holdings].map(([code, la]) => [code, la.counts()])),
    },
    rates: { residence: RESIDENCE, demographics: DEMOGRAPHIC_RATES, unregistered: UNREGISTERED_RATES, holdings: HOLDING_RATES, noise: NOISE_RATES },
  };
  writeFileSync(paths.scenario, `${JSON.stringify(scenario, null, 2)}\n`);
  // The manifest is written last: a folder with a manifest is a complete population.
  writeFileSync(paths.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
  if (existsSync(outDir)) rmSync(outDir, { recursive: true, force: true });
  renameSync(workDir, outDir);
  return manifest;
}

/**
 * A child living in `la`, known to its social care, with no national record: sometimes made to
 * resemble one of the `recent` registered children (UNREGISTERED_RATES.resembles).
 */
function unregisteredChild(context: PersonContext, index: number, la: keyof typeof RESIDENCE, recent: Child[]): Child {
  const { random, asOfDay } = context;
  const how = random.weighted(UNREGISTERED_RATES.resembles);
  if (how === 'none') return generateChild(context, index, { residence: la, unregistered: true });
  const other = random.pick(recent);
  const resembles = { how: how as Resemblance, nhsNumber: other.nhsNumber! };
  const same = { ...namesakeOf(other), residence: la, unregistered: true };
  let child: Child;
  if (how === 'namesake') {
    child = generateChild(context, index, same);
  } else if (how === 'near_name') {
    const [given, family] = random.chance(0.5) ? [[typo(other.given[0]!, random)], other.family] : [other.given, typo(other.family, random)];
    child = generateChild(context, index, { ...same, given, family });
  } else if (how === 'near_date') {
    const candidates = [swappedDay(other.birthDay), other.birthDay - 1, other.birthDay + 1].filter((d): d is number => d !== undefined && d <= asOfDay && d !== other.birthDay);
    child = generateChild(context, index, { ...same, birthDay: random.pick(candidates) });
  } else {
    // A brother or sister not yet registered (a baby) or never traced: the same family name and home.
    const { given: _given, birthDay: _birthDay, gender: _gender, ...family } = same;
    // Never born within nine months of the registered child: a baby if that leaves room, else older.
    let birthDay = asOfDay - random.int(0, 300);
    if (Math.abs(birthDay - other.birthDay) < 280) birthDay = Math.max(asOfDay - 18 * 365, other.birthDay - random.int(300, 3000));
    child = generateChild(context, index, { ...family, birthDay });
    if (other.address.la === la) child.address = { ...other.address, from: Math.max(other.address.from, child.birthDay) };
  }
  return { ...child, resembles };
}
