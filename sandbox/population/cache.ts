// The sandbox's population: generated once into the data folder and reused while its seed and size
// match the configuration.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { GENERATOR_VERSION, generatePopulation, populationPaths, type Manifest, type Scenario } from './generate.ts';
import { sandboxPaths, type SandboxConfig } from '../config.ts';

export function readManifest(dir: string): Manifest | undefined {
  const path = populationPaths(dir).manifest;
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Manifest) : undefined;
}

export function readScenario(dir: string): Scenario {
  return JSON.parse(readFileSync(populationPaths(dir).scenario, 'utf8')) as Scenario;
}

export async function ensurePopulation(config: SandboxConfig, log: (line: string) => void): Promise<{ dir: string; generated: boolean }> {
  const dir = sandboxPaths(config).population;
  const manifest = readManifest(dir);
  if (manifest && manifest.generator === GENERATOR_VERSION && manifest.seed === config.seed && manifest.children === config.children && manifest.asOf === config.asOf) return { dir, generated: false };
  if (manifest) {
    // The stores were seeded from the population being replaced: they go too, and are seeded afresh.
    log(`the population was ${manifest.generator}, seed ${manifest.seed}, ${manifest.children} children, as of ${manifest.asOf}: replacing it and the stores seeded from it`);
    rmSync(sandboxPaths(config).stores, { recursive: true, force: true });
  }
  log(`generating a synthetic population of ${config.children} children (seed ${config.seed}, as of ${config.asOf})`);
  await generatePopulation({ seed: config.seed, children: config.children, outDir: dir, asOf: config.asOf });
  return { dir, generated: true };
}

export interface UnmatchedRecord {
  personId: string;
  givenName: string | null;
  familyName: string | null;
  dateOfBirth: string | null;
  postcode: string | null;
}

/** The first `limit` of an LA's generated social care records without an NHS number: the demo's "match now" examples. */
export function unmatchedRecords(dir: string, la: string, limit = 5): UnmatchedRecord[] {
  const lines = (table: 'ssd_person' | 'ssd_address') => readFileSync(populationPaths(dir).laTable(la, table), 'utf8').split('\n').filter(Boolean);
  const persons = lines('ssd_person')
    .map((line) => JSON.parse(line) as { pers_person_id: string; pers_forename: string | null; pers_surname: string | null; pers_dob: string | null; pers_common_child_id: string | null; pers_is_mother: string | null })
    .filter((p) => p.pers_common_child_id === null && p.pers_is_mother !== 'Y')
    .slice(0, limit);
  const wanted = new Set(persons.map((p) => p.pers_person_id));
  const postcodes = new Map<string, string>();
  for (const line of lines('ssd_address')) {
    const address = JSON.parse(line) as { addr_person_id: string; addr_address_end_date: string | null; addr_address_postcode: string | null };
    if (wanted.has(address.addr_person_id) && address.addr_address_end_date === null && address.addr_address_postcode) postcodes.set(address.addr_person_id, address.addr_address_postcode);
  }
  return persons.map((p) => ({ personId: p.pers_person_id, givenName: p.pers_forename, familyName: p.pers_surname, dateOfBirth: p.pers_dob, postcode: postcodes.get(p.pers_person_id) ?? null }));
}
