// `npm run -s bench:match -- [options]`: runs records through MATCH's code against the PDS sandbox (a
// real HTTP server in its own process, application-restricted as MATCH's real PDS access is) and
// scores the answers.
//
// On a generated population (the default): --la northshire --children 20000 --seed 42; every social
// care person of that LA, scored with the population's ground truth and its noise classes; the figures
// go to bench/results/match.json.
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
import { PdsClient } from '../lib/pds/client.ts';
import { isIsoDay } from '../lib/population/dates.ts';
import { DEFAULT_AS_OF, generatePopulation, populationPaths } from '../lib/population/generate.ts';
import { readNdjson } from '../lib/population/ndjson.ts';
import { startService, stopService } from '../lib/service/supervisor.ts';
import { FHIR_BASE } from '../sandbox/pds/server.ts';
import type { Demographics } from '../subgraphs/matching/demographics.ts';
import { Matcher } from '../subgraphs/matching/matcher.ts';
import { describeScore, scoreMatches, type Label, type Outcome } from './match-score.ts';

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

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      la: { type: 'string', default: 'northshire' },
      children: { type: 'string', default: '20000' },
      seed: { type: 'string', default: '42' },
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
  const rateLimit = Number(values['rate-limit']);
  const unlimited = !(rateLimit > 0);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new InputError('BAD_OPTIONS', '--concurrency must be a whole number, 1 or more');

  const work = mkdtempSync(join(tmpdir(), 'mais-bench-match-'));
  try {
    let patientsFile: string;
    let set: { records: MatchRecord[]; labels: Map<string, Label> | undefined };
    const children = Number(values.children);
    if (external) {
      patientsFile = values.patients!;
      set = { records: await recordsFromCsv(values.records!), labels: values.truth ? await labelsFromCsv(values.truth) : undefined };
    } else {
      const dir = join(work, 'population');
      await generatePopulation({ seed: Number(values.seed), children, outDir: dir, asOf: DEFAULT_AS_OF });
      patientsFile = populationPaths(dir).patients;
      set = await generatedSet(dir, values.la!);
    }

    const { publicKey, privateKey } = await generateKeyPair('RS512');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'RS512' };
    const applications = join(work, 'applications.json');
    writeFileSync(applications, JSON.stringify([{ apiKey: 'bench', name: 'bench', jwks: { keys: [jwk] }, accessMode: 'application-restricted' }]));
    const port = await freePort();
    const pdsService = await startService({
      name: 'PDS sandbox',
      main: fileURLToPath(new URL('../sandbox/pds/main.ts', import.meta.url)),
      args: ['--patients', patientsFile, '--port', String(port), '--applications', applications, '--rate-limit', String(unlimited ? 1e9 : rateLimit)],
    });
    const matcher = new Matcher(
      new PdsClient({
        baseUrl: `http://127.0.0.1:${port}${FHIR_BASE}`,
        tokenUrl: `http://127.0.0.1:${port}/oauth2/token`,
        credentials: { apiKey: 'bench', keyId: 'bench-1', privateKey },
        rateLimit: unlimited ? 1e9 : rateLimit,
      }),
    );

    const outcomes: Outcome[] = new Array(set.records.length);
    let next = 0;
    const started = process.hrtime.bigint();
    try {
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < set.records.length) {
            const i = next++;
            const record = set.records[i]!;
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
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;

    if (values.out) {
      const out = createWriteStream(values.out);
      out.write(stringify([[...OUT_COLUMNS]]));
      for (const o of outcomes) out.write(stringify([[o.id, o.status, o.nhsNumber ?? '', o.candidate ?? '', o.score, o.strategy ?? '', o.pdsCalls]]));
      out.end();
      await once(out, 'finish');
    }
    const recordsPerSecond = Math.round(outcomes.length / seconds);
    process.stdout.write(`MATCH on ${outcomes.length} records${external ? ` from ${values.records}` : ` (${values.la}, ${children} children, seed ${values.seed})`}, PDS rate limit ${unlimited ? 'lifted' : rateLimit}: ${recordsPerSecond} records/s\n`);
    if (!set.labels) {
      process.stdout.write('(no --truth: answers written, not scored)\n');
      return;
    }
    const score = scoreMatches(outcomes, set.labels);
    process.stdout.write(describeScore(score));
    if (values.explain) {
      process.stderr.write(`all errors by cause:\n${Object.entries(score.errorsByCause).map(([cause, n]) => `  ${String(n).padStart(6)}  ${cause}`).join('\n')}\n`);
      const wrong = outcomes.filter((o) => o.status === 'MATCH' && o.nhsNumber !== set.labels!.get(o.id)?.nhsNumber).slice(0, 10);
      const byId = new Map(set.records.map((r) => [r.id, r]));
      for (const o of wrong) process.stderr.write(`wrong link: ${JSON.stringify({ record: byId.get(o.id)?.demographics, truth: set.labels.get(o.id), linked: o.nhsNumber, score: o.score, strategy: o.strategy })}\n`);
    }
    if (!external) {
      const result = {
        benchmark: 'match',
        date: new Date().toISOString(),
        machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
        command: `npm run -s bench:match -- --la ${values.la} --children ${children} --seed ${values.seed} --concurrency ${concurrency}${unlimited ? '' : ` --rate-limit ${rateLimit}`}`,
        asOf: DEFAULT_AS_OF,
        pdsRateLimit: unlimited ? 'lifted' : rateLimit,
        seconds: Math.round(seconds * 10) / 10,
        recordsPerSecond,
        ...score,
        targets: { autoPrecision: '>= 99.9%', autoRecall: '>= 96%', pdsCallsPerRecord: '<= 1.5' },
      };
      mkdirSync('bench/results', { recursive: true });
      writeFileSync('bench/results/match.json', `${JSON.stringify(result, null, 2)}\n`);
    }
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
