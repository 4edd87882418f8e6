// `npm run bench:match [-- --la northshire --children 20000 --seed 42 --concurrency 16 --rate-limit N]`:
// matches every social care person of one LA through MATCH against the PDS sandbox (a real HTTP
// server over the same population) and scores the results with the population's ground truth.
// Prints records/s, PDS calls per record, precision and recall of auto-accepted matches, and per
// band; writes the figures to bench/results/match.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from '../lib/net.ts';
import { exportJWK, generateKeyPair } from 'jose';
import { PdsClient } from '../lib/pds/client.ts';
import { DEFAULT_AS_OF, generatePopulation, populationPaths } from '../lib/population/generate.ts';
import { readNdjson } from '../lib/population/ndjson.ts';
import { startService, stopService } from '../lib/service/supervisor.ts';
import { FHIR_BASE } from '../sandbox/pds/server.ts';
import type { Demographics } from '../subgraphs/matching/demographics.ts';
import { Matcher, type MatchStatus } from '../subgraphs/matching/matcher.ts';

const { values } = parseArgs({
  options: {
    la: { type: 'string', default: 'northshire' },
    children: { type: 'string', default: '20000' },
    seed: { type: 'string', default: '42' },
    concurrency: { type: 'string', default: '16' },
    'rate-limit': { type: 'string', default: '0' },
    explain: { type: 'boolean', default: false },
  },
});
const children = Number(values.children);
const concurrency = Number(values.concurrency);
const rateLimit = Number(values['rate-limit']);
const unlimited = !(rateLimit > 0);

const work = mkdtempSync(join(tmpdir(), 'mais-bench-match-'));
const dir = join(work, 'population');
await generatePopulation({ seed: Number(values.seed), children, outDir: dir, asOf: DEFAULT_AS_OF });
const paths = populationPaths(dir);

// The PDS sandbox as its own process, as in the sandbox, application-restricted as MATCH's real
// PDS access is.
const { publicKey, privateKey } = await generateKeyPair('RS512');
const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'RS512' };
const applications = join(work, 'applications.json');
writeFileSync(applications, JSON.stringify([{ apiKey: 'bench', name: 'bench', jwks: { keys: [jwk] }, accessMode: 'application-restricted' }]));
const port = await freePort();
const pdsService = await startService({
  name: 'PDS sandbox',
  main: fileURLToPath(new URL('../sandbox/pds/main.ts', import.meta.url)),
  args: ['--patients', paths.patients, '--port', String(port), '--applications', applications, '--rate-limit', String(unlimited ? 1e9 : rateLimit)],
});
const pds = new PdsClient({
  baseUrl: `http://127.0.0.1:${port}${FHIR_BASE}`,
  tokenUrl: `http://127.0.0.1:${port}/oauth2/token`,
  credentials: { apiKey: 'bench', keyId: 'bench-1', privateKey },
  rateLimit: unlimited ? 1e9 : rateLimit,
});
const matcher = new Matcher(pds);

interface Person { pers_person_id: string; pers_forename: string; pers_surname: string; pers_dob: string; pers_sex: string }
/** Each record's child's NHS number, or null for a child with no national record. */
const truth = new Map<string, string | null>();
const noise = new Map<string, string[]>();
for await (const row of readNdjson<{ la: string; table: string; id: string; nhsNumber: string | null; noise: string[] }>(paths.groundTruth)) {
  if (row.la === values.la && row.table === 'ssd_person') {
    truth.set(row.id, row.nhsNumber);
    noise.set(row.id, row.noise);
  }
}
/** With --explain: how often each kind of noise stands behind a record that was not auto-matched. */
const missedNoise = new Map<string, number>();
const postcodes = new Map<string, string | null>();
for await (const row of readNdjson<{ addr_person_id: string; addr_address_postcode: string | null }>(paths.laTable(values.la!, 'ssd_address'))) {
  postcodes.set(row.addr_person_id, row.addr_address_postcode);
}
const people: Person[] = [];
for await (const person of readNdjson<Person>(paths.laTable(values.la!, 'ssd_person'))) people.push(person);

const demographicsOf = (p: Person): Demographics => ({
  givenName: p.pers_forename,
  familyName: p.pers_surname,
  dateOfBirth: p.pers_dob,
  ...(p.pers_sex === 'M' ? { gender: 'male' as const } : p.pers_sex === 'F' ? { gender: 'female' as const } : {}),
  ...(postcodes.get(p.pers_person_id) ? { postcode: postcodes.get(p.pers_person_id)! } : {}),
});

const bands: Record<MatchStatus, { count: number; correct: number }> = {
  MATCH: { count: 0, correct: 0 }, POTENTIAL_MATCH: { count: 0, correct: 0 }, LOW_CONFIDENCE: { count: 0, correct: 0 },
  MANY_MATCH: { count: 0, correct: 0 }, NO_MATCH: { count: 0, correct: 0 }, ERROR: { count: 0, correct: 0 },
};
const wrongMatches: unknown[] = [];
let calls = 0;
let next = 0;
/** Records of children with no national record that MATCH linked to someone, by what they resemble. */
const falseLinksNotInPds = new Map<string, number>();
const started = process.hrtime.bigint();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < people.length) {
      const person = people[next++]!;
      const result = await matcher.match(demographicsOf(person));
      calls += result.pdsCalls;
      const correct = result.nhsNumber !== null && result.nhsNumber === truth.get(person.pers_person_id);
      bands[result.status].count++;
      if (correct) bands[result.status].correct++;
      if (values.explain && !(result.status === 'MATCH' && correct)) {
        const key = `${result.status}: ${(noise.get(person.pers_person_id) ?? []).filter((n) => n !== 'no_nhs_number').join('+') || 'none'}`;
        missedNoise.set(key, (missedNoise.get(key) ?? 0) + 1);
      }
      if (result.status === 'MATCH' && truth.get(person.pers_person_id) === null) {
        const how = (noise.get(person.pers_person_id) ?? []).find((n) => n.startsWith('resembles_')) ?? 'resembles_none';
        falseLinksNotInPds.set(how, (falseLinksNotInPds.get(how) ?? 0) + 1);
      }
      if (result.status === 'MATCH' && !correct && wrongMatches.length < 10) {
        wrongMatches.push({ input: demographicsOf(person), truth: truth.get(person.pers_person_id), got: result.candidates[0] && { ...result.candidates[0], patient: result.candidates[0].patient } });
      }
    }
  }),
);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
await stopService(pdsService);
rmSync(work, { recursive: true, force: true });

const total = people.length;
const inPds = people.filter((p) => truth.get(p.pers_person_id) !== null).length;
const precision = bands.MATCH.count === 0 ? 0 : bands.MATCH.correct / bands.MATCH.count;
// Recall is of the records whose child has a national record: the others have nothing to be found.
const recall = bands.MATCH.correct / inPds;
const result = {
  benchmark: 'match',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  command: `npm run bench:match -- --la ${values.la} --children ${children} --seed ${values.seed} --concurrency ${concurrency}${unlimited ? '' : ` --rate-limit ${rateLimit}`}`,
  la: values.la,
  records: total,
  recordsNotInPds: total - inPds,
  falseLinksNotInPds: Object.fromEntries([...falseLinksNotInPds].sort()),
  pdsRateLimit: unlimited ? 'lifted' : rateLimit,
  seconds: Math.round(seconds * 10) / 10,
  recordsPerSecond: Math.round(total / seconds),
  pdsCallsPerRecord: Math.round((calls / total) * 100) / 100,
  autoAccepted: { precision: Math.round(precision * 100_000) / 1000, recall: Math.round(recall * 100_000) / 1000 },
  bands: Object.fromEntries(Object.entries(bands).map(([b, v]) => [b, { count: v.count, share: Math.round((v.count / total) * 1000) / 10, correct: v.count ? Math.round((v.correct / v.count) * 1000) / 10 : null }])),
  targets: { precision: '>= 99.9%', recall: '>= 95%', pdsCallsPerRecord: '<= 1.6', recordsPerSecondRateLimitLifted: '>= 500' },
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/match.json', `${JSON.stringify(result, null, 2)}\n`);
const lines = [
  `MATCH on ${total} ${values.la} social care records (PDS rate limit ${result.pdsRateLimit}):`,
  `  ${result.recordsPerSecond} records/s, ${result.pdsCallsPerRecord} PDS calls per record`,
  `  auto-accepted (MATCH): precision ${result.autoAccepted.precision}%, recall ${result.autoAccepted.recall}% (of the ${inPds} in PDS)`,
  `  children not in PDS: ${total - inPds}, linked to someone else: ${[...falseLinksNotInPds.values()].reduce((a, b) => a + b, 0)} ${JSON.stringify(result.falseLinksNotInPds)}`,
  ...Object.entries(result.bands).map(([b, v]) => `  ${b.padEnd(16)} ${String(v.count).padStart(6)} (${v.share}%)  correct ${v.correct ?? '-'}%`),
];
process.stdout.write(`${lines.join('\n')}\n`);
if (values.explain) {
  process.stderr.write(`not auto-matched, by noise:\n${[...missedNoise].sort((a, b) => b[1] - a[1]).map(([k, n]) => `  ${n}\t${k}`).join('\n')}\n`);
}
if (wrongMatches.length) process.stderr.write(`wrong auto-matches (first ${wrongMatches.length}):\n${wrongMatches.map((w) => JSON.stringify(w)).join('\n')}\n`);
