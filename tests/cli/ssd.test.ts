// `mais ssd import`: a real SSD extract in, every bad row reported by file and line, all or nothing.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { openStore, type LocalClient } from '../../lib/db/store.ts';
import { populationPaths } from '../../sandbox/population/generate.ts';
import { SSD_TABLES } from '../../subgraphs/csc/ssd-import.ts';
import { testPopulation } from '../helpers/population.ts';
import { run } from '../helpers/processes.ts';

let dataDir: string;
let good: string;
let populationDir: string;
const expected: Record<string, number> = {};

/** The population's SSD tables for Northshire as CSV files with SSD column names, dates as dd/mm/yyyy. */
function writeExtract(populationDir: string, folder: string): void {
  mkdirSync(folder, { recursive: true });
  for (const table of SSD_TABLES) {
    const rows = readFileSync(populationPaths(populationDir).laTable('northshire', table), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expected[table] = rows.length;
    if (rows.length === 0) continue;
    const ukDates = rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v.slice(8)}/${v.slice(5, 7)}/${v.slice(0, 4)}` : v])));
    writeFileSync(join(folder, `${table}.csv`), stringify(ukDates, { header: true, columns: Object.keys(rows[0]!) }));
  }
}

async function counts(): Promise<Record<string, number>> {
  const store = await openStore({ kind: 'local', dataDir: join(dataDir, 'stores', 'northshire') });
  try {
    return Object.fromEntries(await Promise.all(SSD_TABLES.map(async (t) => [t, await (store.prisma as unknown as Record<string, { count(): Promise<number> }>)[t]!.count()] as const)));
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  const population = await testPopulation(600, 23);
  populationDir = population.dir;
  dataDir = mkdtempSync(join(tmpdir(), 'mais-test-ssd-'));
  good = join(dataDir, 'extract');
  writeExtract(population.dir, good);
}, 120_000);

describe('mais ssd import', () => {
  it('loads a whole SSD extract', async () => {
    const result = run(['ssd', 'import', good, '--la', 'northshire', '--json'], { MAIS_DATA_DIR: dataDir });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const loaded = await counts();
    for (const table of SSD_TABLES) expect(loaded[table], table).toBe(expected[table]);
  });

  it('refuses an extract with bad rows, naming file and line, and loads none of it', async () => {
    const bad = join(dataDir, 'bad');
    mkdirSync(bad);
    for (const table of SSD_TABLES) {
      try {
        writeFileSync(join(bad, `${table}.csv`), readFileSync(join(good, `${table}.csv`)));
      } catch {
        // tables with no rows have no file
      }
    }
    const persons = readFileSync(join(bad, 'ssd_person.csv'), 'utf8').split('\n');
    persons[2] = persons[2]!.replace(/\d{2}\/\d{2}\/\d{4}/, '31/02/2015');
    writeFileSync(join(bad, 'ssd_person.csv'), persons.join('\n'));
    const episodes = readFileSync(join(bad, 'ssd_cin_episodes.csv'), 'utf8').split('\n');
    episodes[1] = episodes[1]!.replace(/^([^,]*),([^,]*),/, '$1,NOBODY,');
    writeFileSync(join(bad, 'ssd_cin_episodes.csv'), episodes.join('\n'));
    const before = await counts();

    const result = run(['ssd', 'import', bad, '--la', 'northshire', '--replace'], { MAIS_DATA_DIR: dataDir });
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^nothing loaded: 2 problems/);
    expect(result.stdout).toContain("ssd_cin_episodes.csv:2: cine_person_id 'NOBODY' is not a person in this extract or the store");
    expect(result.stdout).toMatch(/ssd_person\.csv:3: pers_dob: '31\/02\/2015' is not a date/);
    expect(await counts()).toEqual(before);
  });

  it('refuses rows that are already in the store unless asked to replace them, and replaces them when asked', async () => {
    const again = run(['ssd', 'import', good, '--la', 'northshire'], { MAIS_DATA_DIR: dataDir });
    expect(again.status).toBe(1);
    expect(again.stdout).toMatch(/same id as one already in the store: nothing was loaded/);
    expect(again.stderr).not.toMatch(/\n\s+at /);
    const replaced = run(['ssd', 'import', good, '--la', 'northshire', '--replace'], { MAIS_DATA_DIR: dataDir });
    expect(replaced.status).toBe(0);
    expect((await counts()).ssd_person).toBe(expected.ssd_person);
  });

  it('names each problem with a stable code in --json, an NHS number that fails its check digit among them', async () => {
    const bad = join(dataDir, 'bad-nhs');
    mkdirSync(bad);
    const persons = readFileSync(join(good, 'ssd_person.csv'), 'utf8').split('\n');
    const header = persons[0]!.split(',');
    const at = header.indexOf('pers_common_child_id');
    const row = persons.findIndex((line, i) => i > 0 && /^\d{10}$/.test(line.split(',')[at] ?? ''));
    const cells = persons[row]!.split(',');
    cells[at] = `${cells[at]!.slice(0, 9)}${(Number(cells[at]![9]) + 1) % 10}`;
    persons[row] = cells.join(',');
    writeFileSync(join(bad, 'ssd_person.csv'), persons.join('\n'));
    const before = await counts();
    const result = run(['ssd', 'import', bad, '--la', 'northshire', '--json'], { MAIS_DATA_DIR: dataDir });
    expect(result.status).toBe(1);
    expect(JSON.parse(result.stdout).problems).toEqual([{ file: 'ssd_person.csv', line: row + 1, code: 'INVALID_NHS_NUMBER', message: expect.stringMatching(/pers_common_child_id: '\d{10}' is not a valid NHS number/) }]);
    expect(await counts()).toEqual(before);
  });

  it('refuses spoilt extracts (bad values, headers, quoting, bytes, references, repeats) by code, all or nothing, without throwing', async () => {
    const { fuzzSsdImport, writeSsdExtract } = await import('../../bench/fuzz.ts');
    const small = join(dataDir, 'small');
    writeSsdExtract(populationDir, 'northshire', small, 15);
    const store = await openStore({ kind: 'local', dataDir: join(dataDir, 'fuzz-store') });
    try {
      const report = await fuzzSsdImport(store.prisma as LocalClient, small, { seed: 3, count: 30 });
      expect(report.problems).toEqual([]);
      expect(report.tried).toBe(30);
      expect(Object.keys(report.codes).length).toBeGreaterThanOrEqual(4);
    } finally {
      await store.close();
    }
  }, 120_000);
});
