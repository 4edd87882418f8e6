// `npm run -s bench:match -- [options]`: runs records through MATCH's code against the PDS sandbox (a
// real HTTP server in its own process, application-restricted as MATCH's real PDS access is) and
// scores the answers.
//
// On generated populations (the default): every social care person of --la (northshire), scored with
// the population's ground truth and its noise classes, on 20,000 and 100,000 children with seeds 42
// and 7, or on one population with --children N and/or --seed N; the figures go to
// bench/results/match.json.
//
// On a labelled set of your own: --patients <FHIR Patient NDJSON> --records <CSV: id,given_name,
// family_name,date_of_birth,gender,postcode> [--truth <CSV: id,nhs_number>]; the PDS sandbox serves
// the patients given, and with --truth the answers are scored (an empty nhs_number: not in PDS).
//
// Either way: --out <CSV> writes one row a record (id,status,nhs_number,candidate_nhs_number,score,
// strategy,pds_calls); --concurrency N (16); --rate-limit N (PDS requests a second; lifted by default);
// --explain lists the first wrong links.
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify/sync';
import { exportJWK, generateKeyPair } from 'jose';
import { freePort } from '../lib/net.ts';
import { isValidNhsNumber } from '../lib/nhs-number.ts';
import { PdsClient } from '../subgraphs/matching/pds/client.ts';
import { isIsoDay } from '../lib/dates.ts';
import { DEFAULT_AS_OF, generatePopulation, populationPaths } from '../sandbox/population/generate.ts';
import { readNdjson } from '../sandbox/population/ndjson.ts';
import { startService, stopService } from '../lib/service/supervisor.ts';
import { FHIR_BASE } from '../sandbox/pds/server.ts';
import type { Demographics } from '../subgraphs/matching/demographics.ts';
import { Matcher } from '../subgraphs/matching/matcher.ts';
import { describeScore, scoreMatches, type Label, type Outcome, type Score } from './match-score.ts';

/** Output columns, in order: public surface (README, docs/population.md). */
export const OUT_COLUMNS = ['id', 'status', 'nhs_number', 'candidate_nhs_number', 'score', 'strategy', 'pds_calls'] as const;
const RECORD_COLUMNS = ['id', 'given_name', 'family_name', 'date_of_birth', 'gender', 'postcode'] as const;

/** A problem with what the user gave: printed as one line with a stable code, exit status 2. */
class InputError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface MatchRecord {
  id: string;
  demographics: Demographics;
}

const GENDERS: Record<string, Demographics['gender'] | undefined> = { male: 'male', m: 'male', female: 'female', f: 'female', other: 'other', unknown: 'unknown', u: 'unknown', '': undefined };

async function readCsv(path: string, required: readonly string[], what: string): Promise<{ line: number; row: Record<string, string> }[]> {
  const rows: { line: number; row: Record<string, string> }[] = [];
  try {
    const input = createReadStream(path);
    const parser = input.pipe(parse({ columns: true, skip_empty_lines: true, trim: true, bom: true, info: true }));
    // pipe() does not pass a read error on: the parser is ended with it, so it reaches the catch below.
    input.on('error', (error) => parser.destroy(error));
    for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      if (rows.length === 0) {
        const missing = required.filter((c) => !(c in record));
        if (missing.length) throw new InputError('BAD_COLUMNS', `${what} ${path}: missing column(s) ${missing.join(', ')}; expected ${required.join(',')}`);
      }
      rows.push({ line: info.lines, row: record });
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'NOT_FOUND' : 'BAD_CSV', `${what} ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  return rows;
}

async function recordsFromCsv(path: string): Promise<MatchRecord[]> {
  const seen = new Set<string>();
  return (await readCsv(path, RECORD_COLUMNS, 'records')).map(({ line, row }) => {
    const where = `records ${path} line ${line}`;
    if (!row.id) throw new InputError('BAD_RECORD', `${where}: id is empty`);
    if (seen.has(row.id)) throw new InputError('BAD_RECORD', `${where}: id ${row.id} appears twice`);
    seen.add(row.id);
    if (!row.given_name || !row.family_name) throw new InputError('BAD_RECORD', `${where}: given_name and family_name are required`);
    if (!isIsoDay(row.date_of_birth ?? '')) throw new InputError('BAD_RECORD', `${where}: date_of_birth must be yyyy-mm-dd`);
    const gender = (row.gender ?? '').toLowerCase();
    if (!(gender in GENDERS)) throw new InputError('BAD_RECORD', `${where}: gender must be male, female, other, unknown (or M, F, U) or empty`);
    return {
      id: row.id,
      demographics: {
        givenName: row.given_name,
        familyName: row.family_name,
        dateOfBirth: row.date_of_birth!,
        ...(GENDERS[gender] ? { gender: GENDERS[gender] } : {}),
        ...(row.postcode ? { postcode: row.postcode } : {}),
      },
    };
  });
}

async function labelsFromCsv(path: string): Promise<Map<string, Label>> {
  const labels = new Map<string, Label>();
  for (const { line, row } of await readCsv(path, ['id', 'nhs_number'], 'truth')) {
    const nhsNumber = (row.nhs_number ?? '').replace(/\s/g, '');
    if (nhsNumber && !isValidNhsNumber(nhsNumber)) throw new InputError('BAD_TRUTH', `truth ${path} line ${line}: ${row.nhs_number} is not a valid NHS number`);
    labels.set(row.id!, { nhsNumber: nhsNumber || null });
  }
  return labels;
}

/** Every social care person of `la` in a generated population, with its ground truth. */
async function generatedSet(dir: string, la: string): Promise<{ records: MatchRecord[]; labels: Map<string, Label> }> {
  const paths = populationPaths(dir);
  const labels = new Map<string, Label>();
  for await (const row of readNdjson<{ la: string; table: string; id: string; nhsNumber: string | null; noise: string[] }>(paths.groundTruth)) {
    if (row.la === la && row.table === 'ssd_person') labels.set(row.id, { nhsNumber: row.nhsNumber, noise: row.noise });
  }
  const postcodes = new Map<string, string | null>();
  for await (const row of readNdjson<{ addr_person_id: string; addr_address_postcode: string | null }>(paths.laTable(la, 'ssd_address'))) postcodes.set(row.addr_person_id, row.addr_address_postcode);
  const records: MatchRecord[] = [];
  for await (const p of readNdjson<{ pers_person_id: string; pers_forename: string; pers_surname: string; pers_dob: string; pers_sex: string }>(paths.laTable(la, 'ssd_person'))) {
    const postcode = postcodes.get(p.pers_person_id);
    records.push({
      id: p.pers_person_id,
      demographics: {
        givenName: p.pers_forename,
        familyName: p.pers_surname,
        dateOfBirth: p.pers_dob,
        ...(p.pers_sex === 'M' ? { gender: 'male' as const } : p.pers_sex === 'F' ? { gender: 'female' as const } : {}),
        ...(postcode ? { postcode } : {}),
      },
    });
  }
  return { records, labels };
}

/** The populations the bench runs on unless told --children or --seed: the default and a large one, two seeds each. */
const DEFAULT_RUNS = [
  { children: 20_000, seed: 42 },
  { children: 20_000, seed: 7 },
  { children: 100_000, seed: 42 },
  { children: 100_000, seed: 7 },
] as const;
/** PDS's real rate limit for an application, requests a second. */
const PDS_REQUESTS_PER_SECOND = 5;

interface MatchOptions {
  work: string;
  concurrency: number;
  /** PDS requests a second; undefined: lifted. */
  rateLimit: number | undefined;
}

/** Runs every record through MATCH against a PDS sandbox serving `patientsFile`, `concurrency` at a time. */
async function matchAll(patientsFile: string, records: readonly MatchRecord[], options: MatchOptions): Promise<{ outcomes: Outcome[]; seconds: number }> {
  const { publicKey, privateKey } = await generateKeyPair('RS512');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'RS512' };
  const applications = join(options.work, 'applications.json');
  writeFileSync(applications, JSON.stringify([{ apiKey: 'bench', name: 'bench', jwks: { keys: [jwk] }, accessMode: 'application-restricted' }]));
  const port = await freePort();
  const limit = options.rateLimit ?? 1e9;
  const pdsService = await startService({
    name: 'PDS sandbox',
    main: fileURLToPath(new URL('../sandbox/pds/main.ts', import.meta.url)),
    args: ['--patients', patientsFile, '--port', String(port), '--applications', applications, '--rate-limit', String(limit)],
  });
  const matcher = new Matcher(
    new PdsClient({
      baseUrl: `http://127.0.0.1:${port}${FHIR_BASE}`,
      tokenUrl: `http://127.0.0.1:${port}/oauth2/token`,
      credentials: { apiKey: 'bench', keyId: 'bench-1', privateKey },
      rateLimit: limit,
    }),
  );
  const outcomes: Outcome[] = new Array(records.length);
  let next = 0;
  const started = process.hrtime.bigint();
  try {
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (next < records.length) {
          const i = next++;
          const record = records[i]!;
          const result = await matcher.match(record.demographics);
          outcomes[i] = {
            id: record.id,
            status: result.status,
            nhsNumber: result.status === 'MATCH' ? result.nhsNumber : null,
            candidate: result.candidates[0]?.nhsNumber ?? result.nhsNumber,
            score: Math.round(result.score * 10_000) / 10_000,
            strategy: result.strategy,
            pdsCalls: result.pdsCalls,
          };
        }
      }),
    );
  } finally {
    await stopService(pdsService);
  }
  return { outcomes, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

async function writeOutcomes(path: string, outcomes: readonly Outcome[]): Promise<void> {
  const out = createWriteStream(path);
  out.write(stringify([[...OUT_COLUMNS]]));
  for (const o of outcomes) out.write(stringify([[o.id, o.status, o.nhsNumber ?? '', o.candidate ?? '', o.score, o.strategy ?? '', o.pdsCalls]]));
  out.end();
  await once(out, 'finish');
}

function explain(score: Score, outcomes: readonly Outcome[], records: readonly MatchRecord[], labels: ReadonlyMap<string, Label>): void {
  process.stderr.write(`all errors by cause:\n${Object.entries(score.errorsByCause).map(([cause, n]) => `  ${String(n).padStart(6)}  ${cause}`).join('\n')}\n`);
  const byId = new Map(records.map((r) => [r.id, r]));
  const wrong = outcomes.filter((o) => o.status === 'MATCH' && o.nhsNumber !== labels.get(o.id)?.nhsNumber).slice(0, 10);
  for (const o of wrong) process.stderr.write(`wrong link: ${JSON.stringify({ record: byId.get(o.id)?.demographics, truth: labels.get(o.id), linked: o.nhsNumber, score: o.score, strategy: o.strategy })}\n`);
}

const round = (n: number, places: number) => Math.round(n * 10 ** places) / 10 ** places;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      la: { type: 'string', default: 'northshire' },
      children: { type: 'string' },
      seed: { type: 'string' },
      patients: { type: 'string' },
      records: { type: 'string' },
      truth: { type: 'string' },
      out: { type: 'string' },
      concurrency: { type: 'string', default: '16' },
      'rate-limit': { type: 'string', default: '0' },
      explain: { type: 'boolean', default: false },
    },
  });
  const external = values.patients !== undefined || values.records !== undefined;
  if (external && (!values.patients || !values.records)) throw new InputError('BAD_OPTIONS', '--patients and --records go together (and --truth to score)');
  if (external && !existsSync(values.patients!)) throw new InputError('NOT_FOUND', `patients ${values.patients}: no such file`);
  if (!external && values.truth) throw new InputError('BAD_OPTIONS', '--truth scores a set given with --patients and --records');
  const concurrency = Number(values.concurrency);
  const rateLimit = Number(values['rate-limit']) > 0 ? Number(values['rate-limit']) : undefined;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new InputError('BAD_OPTIONS', '--concurrency must be a whole number, 1 or more');
  const single = values.children !== undefined || values.seed !== undefined;
  const runs = single ? [{ children: Number(values.children ?? DEFAULT_RUNS[0].children), seed: Number(values.seed ?? DEFAULT_RUNS[0].seed) }] : DEFAULT_RUNS;
  if (!external && values.out && !single) throw new InputError('BAD_OPTIONS', '--out writes one run: give --children or --seed with it');
  const limitText = rateLimit === undefined ? 'lifted' : String(rateLimit);

  const work = mkdtempSync(join(tmpdir(), 'mais-bench-match-'));
  try {
    if (external) {
      const records = await recordsFromCsv(values.records!);
      const labels = values.truth ? await labelsFromCsv(values.truth) : undefined;
      const { outcomes, seconds } = await matchAll(values.patients!, records, { work, concurrency, rateLimit });
      if (values.out) await writeOutcomes(values.out, outcomes);
      process.stdout.write(`MATCH on ${outcomes.length} records from ${values.records}, PDS rate limit ${limitText}: ${Math.round(outcomes.length / seconds)} records/s\n`);
      if (!labels) {
        process.stdout.write('(no --truth: answers written, not scored)\n');
        return;
      }
      const score = scoreMatches(outcomes, labels);
      process.stdout.write(describeScore(score));
      if (values.explain) explain(score, outcomes, records, labels);
      return;
    }

    const results = [];
    for (const [i, run] of runs.entries()) {
      const dir = join(work, `population-${i}`);
      await generatePopulation({ seed: run.seed, children: run.children, outDir: dir, asOf: DEFAULT_AS_OF });
      const set = await generatedSet(dir, values.la!);
      const { outcomes, seconds } = await matchAll(populationPaths(dir).patients, set.records, { work, concurrency, rateLimit });
      rmSync(dir, { recursive: true, force: true });
      if (values.out) await writeOutcomes(values.out, outcomes);
      const score = scoreMatches(outcomes, set.labels);
      const recordsPerSecond = Math.round(outcomes.length / seconds);
      const namesakes = score.notInPdsResembling.resembles_namesake ?? 0;
      const namesakeLinks = score.falseLinksNotInPds.resembles_namesake ?? 0;
      const hours = round((10_000 * score.pdsCallsPerRecord) / PDS_REQUESTS_PER_SECOND / 3600, 2);
      process.stdout.write(`\nMATCH on ${values.la}'s social care records (${run.children} children, seed ${run.seed}, as of ${DEFAULT_AS_OF}), PDS rate limit ${limitText}: ${recordsPerSecond} records/s\n`);
      process.stdout.write(describeScore(score));
      process.stdout.write(`  namesakes not in PDS (same names, date of birth and sex as a registered child) linked to someone: ${namesakeLinks} of ${namesakes}\n`);
      process.stdout.write(`  an LA with 10,000 unmatched records at PDS's ${PDS_REQUESTS_PER_SECOND} requests/s: ${hours} hours\n`);
      if (values.explain) explain(score, outcomes, set.records, set.labels);
      results.push({ ...run, la: values.la, recordsPerSecond, seconds: round(seconds, 1), namesakeFalseLinks: { linked: namesakeLinks, of: namesakes }, hoursFor10000RecordsAtPdsLimit: hours, ...score });
    }
    if (!single) {
      process.stdout.write('\n| population | records (not in PDS) | auto precision | auto recall | with review: precision, recall | PDS calls per record | not in PDS linked (namesakes) | records/s |\n|---|---|---|---|---|---|---|---|\n');
      for (const r of results) {
        const linked = Object.values(r.falseLinksNotInPds).reduce((a, b) => a + b, 0);
        process.stdout.write(`| ${r.children.toLocaleString('en-GB')} children, seed ${r.seed} | ${r.records.toLocaleString('en-GB')} (${r.notInPds}) | ${r.auto.precision}% | ${r.auto.recall}% | ${r.withReview.precision}%, ${r.withReview.recall}% | ${r.pdsCallsPerRecord} | ${linked} (${r.namesakeFalseLinks.linked} of ${r.namesakeFalseLinks.of}) | ${r.recordsPerSecond.toLocaleString('en-GB')} |\n`);
      }
    }
    mkdirSync('bench/results', { recursive: true });
    writeFileSync(
      'bench/results/match.json',
      `${JSON.stringify(
        {
          benchmark: 'match',
          date: new Date().toISOString(),
          machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
          command: `npm run -s bench:match${single ? ` -- --children ${runs[0]!.children} --seed ${runs[0]!.seed}` : ''}${values.la === 'northshire' ? '' : ` --la ${values.la}`}${rateLimit ? ` --rate-limit ${rateLimit}` : ''}`,
          asOf: DEFAULT_AS_OF,
          pdsRateLimit: limitText,
          targets: { autoPrecision: '>= 99.9%', autoRecall: '>= 96%', pdsCallsPerRecord: '<= 1.5' },
          runs: results,
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  if (error instanceof InputError) {
    process.stderr.write(`bench:match: ${error.code}: ${error.message}\n`);
    process.exitCode = 2;
    return;
  }
  process.stderr.write(`bench:match: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
