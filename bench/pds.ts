// `npm run bench:pds [-- --children 1000000]`: loads a population into the PDS sandbox's index and
// times searches of the kinds MATCH makes (exact, fuzzy, wildcard, year range, fuzzy by postcode),
// in process, so the figures are the index's own. Writes bench/results/pds.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isoDay } from '../lib/dates.ts';
import { DEFAULT_AS_OF, generatePopulation, populationPaths } from '../sandbox/population/generate.ts';
import { PatientIndex } from '../sandbox/pds/patient-index.ts';
import { parseSearch, searchPatients } from '../sandbox/pds/search.ts';

const { values } = parseArgs({ options: { children: { type: 'string', default: '1000000' }, seed: { type: 'string', default: '42' } } });
const children = Number(values.children);
const work = mkdtempSync(join(tmpdir(), 'mais-bench-pds-'));
const dir = join(work, 'population');
await generatePopulation({ seed: Number(values.seed), children, outDir: dir, asOf: DEFAULT_AS_OF });

const loadStarted = process.hrtime.bigint();
const index = await PatientIndex.load(populationPaths(dir).patients);
const loadSeconds = Number(process.hrtime.bigint() - loadStarted) / 1e9;
const rssMiB = Math.round(process.memoryUsage().rss / 2 ** 20);

const kinds: Record<string, string[]> = { exact: [], fuzzy: [], wildcard: [], yearRange: [], fuzzyByPostcode: [] };
const step = Math.max(1, Math.floor(index.patients.length / 400));
for (let i = 0; i < index.patients.length; i += step) {
  const p = index.patients[i]!;
  if (!p.active || p.birthDay === undefined || !p.names[0]) continue;
  const n = p.names[0];
  const dob = isoDay(p.birthDay);
  const q = (s: string) => s.replace(/ /g, '%20');
  kinds.exact!.push(`family=${q(n.family)}&given=${q(n.given[0] ?? '')}&birthdate=eq${dob}`);
  kinds.fuzzy!.push(`family=${q(n.family)}&given=${q(n.given[0] ?? '')}&birthdate=eq${dob}&_fuzzy-match=true`);
  if (n.family.length > 2) kinds.wildcard!.push(`family=${q(n.family.slice(0, 2))}*&birthdate=eq${dob}`);
  kinds.yearRange!.push(`family=${q(n.family)}&birthdate=ge${dob.slice(0, 4)}-01-01&birthdate=le${dob.slice(0, 4)}-12-31`);
  if (p.postcodes[0] && p.gender) kinds.fuzzyByPostcode!.push(`given=${q(n.given[0] ?? '')}&gender=${p.gender}&birthdate=eq${dob}&address-postalcode=${p.postcodes[0].value}&_fuzzy-match=true`);
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
const results: Record<string, { searches: number; p50ms: number; p99ms: number; maxMs: number }> = {};
const all: number[] = [];
for (const [kind, queries] of Object.entries(kinds)) {
  const times = queries.map((query) => {
    const started = process.hrtime.bigint();
    searchPatients(index, parseSearch(new URLSearchParams(query)));
    return Number(process.hrtime.bigint() - started) / 1e6;
  });
  all.push(...times);
  times.sort((a, b) => a - b);
  results[kind] = { searches: times.length, p50ms: +percentile(times, 0.5).toFixed(2), p99ms: +percentile(times, 0.99).toFixed(2), maxMs: +times.at(-1)!.toFixed(2) };
}
all.sort((a, b) => a - b);
index.close();
rmSync(work, { recursive: true, force: true });

const result = {
  benchmark: 'pds',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  command: `npm run bench:pds -- --children ${children}`,
  patients: index.size,
  loadSeconds: +loadSeconds.toFixed(1),
  rssAfterLoadMiB: rssMiB,
  all: { searches: all.length, p50ms: +percentile(all, 0.5).toFixed(2), p99ms: +percentile(all, 0.99).toFixed(2) },
  byKind: results,
  target: 'a search over 1,000,000 patients well under 50 ms',
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/pds.json', `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(
  [
    `PDS sandbox index: ${result.patients} patients loaded in ${result.loadSeconds} s, RSS ${rssMiB} MiB`,
    `  all searches: ${result.all.searches}, p50 ${result.all.p50ms} ms, p99 ${result.all.p99ms} ms`,
    ...Object.entries(results).map(([k, v]) => `  ${k.padEnd(16)} p50 ${v.p50ms} ms  p99 ${v.p99ms} ms  max ${v.maxMs} ms`),
  ].join('\n') + '\n',
);
