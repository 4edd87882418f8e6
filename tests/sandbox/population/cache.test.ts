// The sandbox's population: generated for its seed, size and reference date, and reused only while all
// three match; replacing it replaces the stores seeded from it.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadSandboxConfig, sandboxPaths } from '../../../sandbox/config.ts';
import { ensurePopulation, readScenario } from '../../../sandbox/population/cache.ts';

const configFor = (dataDir: string, asOf?: string) =>
  loadSandboxConfig({ MAIS_DATA_DIR: dataDir, MAIS_CHILDREN: '60', MAIS_SEED: '3', ...(asOf ? { MAIS_AS_OF: asOf } : {}) });

describe('the sandbox population', () => {
  it('is as of a fixed day by default, reused while seed, size and day match, and replaced with its stores when the day changes', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mais-test-population-'));
    const lines: string[] = [];
    const first = await ensurePopulation(configFor(dataDir), (line) => lines.push(line));
    expect(first.generated).toBe(true);
    expect(readScenario(first.dir).asOf).toBe('2026-06-30');
    const patients = readFileSync(join(first.dir, 'pds', 'patients.ndjson'), 'utf8');

    // A store seeded from it.
    const store = sandboxPaths(configFor(dataDir)).store('northshire');
    mkdirSync(store, { recursive: true });
    writeFileSync(join(store, 'marker'), 'seeded');
    expect((await ensurePopulation(configFor(dataDir), (line) => lines.push(line))).generated).toBe(false);
    expect(existsSync(join(store, 'marker'))).toBe(true);

    const moved = await ensurePopulation(configFor(dataDir, '2027-01-31'), (line) => lines.push(line));
    expect(moved.generated).toBe(true);
    expect(readScenario(moved.dir).asOf).toBe('2027-01-31');
    expect(readFileSync(join(moved.dir, 'pds', 'patients.ndjson'), 'utf8')).not.toBe(patients);
    expect(existsSync(store)).toBe(false);
    expect(lines.join('\n')).toMatch(/as of 2026-06-30: replacing it and the stores seeded from it/);

    // Back to the default day: the same bytes as the first time.
    await ensurePopulation(configFor(dataDir), () => {});
    expect(readFileSync(join(first.dir, 'pds', 'patients.ndjson'), 'utf8')).toBe(patients);
  });

  it('refuses a reference date that is not a day, in one line', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.constantFrom('2026-02-30', '2026-13-01', '26-06-30', '2026-6-30', '2026-06-30T00:00:00Z', '')),
        (asOf) => {
          fc.pre(!/^\d{4}-\d{2}-\d{2}$/.test(asOf) || Number.isNaN(Date.parse(asOf)) || new Date(`${asOf}T00:00:00Z`).toISOString().slice(0, 10) !== asOf);
          expect(() => loadSandboxConfig({ MAIS_AS_OF: asOf })).toThrow(/invalid sandbox configuration: asOf: must be a date, yyyy-mm-dd/);
        },
      ),
    );
  });
});
