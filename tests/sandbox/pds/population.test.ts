// The PDS sandbox over a generated population: every child can be found by its own demographics.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { populationPaths } from '../../../sandbox/population/generate.ts';
import { startPds, type TestPds } from '../../helpers/pds.ts';
import { testPopulation } from '../../helpers/population.ts';

interface Patient {
  id: string;
  active?: boolean;
  meta: { security?: { code: string }[] };
  name: { use: string; given: string[]; family: string }[];
  birthDate: string;
  gender: string;
  address: { use: string; postalCode: string }[];
}

let pds: TestPds;
let patients: Patient[];

beforeAll(async () => {
  const { dir } = await testPopulation(3000, 21);
  const file = populationPaths(dir).patients;
  patients = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Patient);
  pds = await startPds(file);
}, 120_000);
afterAll(() => pds.close());

async function search(params: Record<string, string>) {
  const response = await fetch(`${pds.fhirUrl}/Patient?${new URLSearchParams(params)}`, { headers: { 'X-Request-ID': crypto.randomUUID() } });
  expect(response.status).toBe(200);
  return (await response.json()) as { resourceType: string; total?: number; entry?: { search: { score: number }; resource: Patient }[] };
}

describe('searching a generated population', () => {
  it('finds each sampled child by given name, family name and date of birth, with score 1', async () => {
    const live = patients.filter((p) => p.active !== false);
    for (const patient of live.filter((_, i) => i % 30 === 0)) {
      const usual = patient.name.find((n) => n.use === 'usual')!;
      const found = await search({ family: usual.family, given: usual.given[0]!, birthdate: `eq${patient.birthDate}` });
      const entry = found.entry?.find((e) => e.resource.id === patient.id);
      expect(entry, patient.id).toBeDefined();
      expect(entry!.search.score).toBe(1);
    }
  });

  it('finds a child by a previous address only with history, and never a restricted child by postcode', async () => {
    const moved = patients.find((p) => p.active !== false && p.address.some((a) => a.use === 'old') && p.meta.security?.[0]?.code === 'U')!;
    const usual = moved.name.find((n) => n.use === 'usual')!;
    const old = moved.address.find((a) => a.use === 'old')!.postalCode;
    const base = { family: usual.family, birthdate: `eq${moved.birthDate}`, 'address-postalcode': old };
    expect((await search(base)).entry?.map((e) => e.resource.id) ?? []).not.toContain(moved.id);
    expect((await search({ ...base, _history: 'true' })).entry?.map((e) => e.resource.id)).toContain(moved.id);

    const restricted = patients.find((p) => p.meta.security?.[0]?.code === 'R')!;
    const name = restricted.name.find((n) => n.use === 'usual')!;
    const current = restricted.address.find((a) => a.use === 'home')!.postalCode;
    expect((await search({ family: name.family, birthdate: `eq${restricted.birthDate}` })).entry?.map((e) => e.resource.id)).toContain(restricted.id);
    expect((await search({ family: name.family, birthdate: `eq${restricted.birthDate}`, 'address-postalcode': current })).entry ?? []).toEqual([]);
  });
});
