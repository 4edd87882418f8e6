// `npm run bench:population -- --children N [--seed N]`: generates a population into a temporary
// folder and prints wall time, children per second and peak memory (also bench/results/population.json).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_AS_OF, generatePopulation } from '../sandbox/population/generate.ts';

const { values } = parseArgs({ options: { children: { type: 'string', default: '1000000' }, seed: { type: 'string', default: '42' } } });
const children = Number(values.children);
const seed = Number(values.seed);
if (!Number.isSafeInteger(children) || children < 1 || !Number.isSafeInteger(seed) || seed < 0) {
  process.stderr.write('usage: npm run bench:population -- [--children N] [--seed N]\n');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'mais-bench-population-'));
const started = process.hrtime.bigint();
const manifest = await generatePopulation({ seed, children, outDir: join(dir, 'population'), asOf: DEFAULT_AS_OF });
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const peakRssMiB = process.resourceUsage().maxRSS / 1024;
rmSync(dir, { recursive: true, force: true });

const result = {
  benchmark: 'population',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  children,
  seed,
  seconds: Math.round(seconds * 10) / 10,
  childrenPerSecond: Math.round(children / seconds),
  peakRssMiB: Math.round(peakRssMiB),
  patients: manifest.counts.patients,
  localRecords: manifest.counts.groundTruth,
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/population.json', `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(
  `children ${children}: ${result.seconds} s, ${result.childrenPerSecond} children/s, peak RSS ${result.peakRssMiB} MiB (target < 1024 MiB)\n`,
);
