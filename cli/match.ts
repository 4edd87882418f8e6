// `mais match`: attach NHS numbers to an LA's records through DfE's MATCH, or to a CSV extract.
import { createReadStream, createWriteStream, existsSync, readFileSync } from 'node:fs';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import type { JWK } from 'jose';
import type { LocalClient } from '../lib/db/store.ts';
import { isoDate } from '../lib/dates.ts';
import { SANDBOX_LAS } from '../sandbox/population/places.ts';
import { DfeTokenError, useDfeTokenClient } from '../lib/dfe-token.ts';
import { MATCHING_AUDIENCE } from '../schema/audiences.ts';
import { dfeUrls, loadSandboxConfig, sandboxPaths } from '../sandbox/config.ts';
import { CommandError, log, printResult } from './output.ts';
import { MatchService, RefusedInput, type MatchAnswer, type MatchDemographics } from './match-service.ts';
import { openStore, sandboxTargets } from './stores.ts';

const PURPOSES = ['CHILD_PROTECTION_ENQUIRY', 'CHILD_IN_NEED_ASSESSMENT', 'LOOKED_AFTER_CHILD_REVIEW', 'EARLY_HELP'];
type Status = MatchAnswer['status'] | 'REFUSED';

interface Subject {
  table: 'ssd_person' | 'edu_pupil';
  id: string;
  demographics: MatchDemographics;
}

const gender = (sex: string | null): MatchDemographics['gender'] | undefined => (sex === 'M' ? 'MALE' : sex === 'F' ? 'FEMALE' : undefined);

/** A progress bar on stderr with rate and ETA (lines every few seconds when stderr is not a terminal). */
function progressBar(total: number) {
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: 'matching {bar} {value}/{total} | {rate}/s | ETA {eta_formatted}', etaBuffer: 100, noTTYOutput: true, notTTYSchedule: 5000 },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  bar.start(total, 0, { rate: 0 });
  return {
    tick: (done: number) => bar.update(done, { rate: (done / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(1) }),
    stop: () => bar.stop(),
  };
}

/** Runs `work` over items with at most `concurrency` at once, until done or `stopped()`. */
async function pool<T>(items: AsyncIterable<T>, concurrency: number, stopped: () => boolean, work: (item: T) => Promise<void>): Promise<void> {
  const iterator = items[Symbol.asyncIterator]();
  let exhausted = false;
  const next = async (): Promise<T | undefined> => {
    if (exhausted || stopped()) return undefined;
    const item = await iterator.next();
    if (item.done) exhausted = true;
    return item.done ? undefined : item.value;
  };
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let item = await next(); item !== undefined; item = await next()) await work(item);
    }),
  );
}

/** Local records with no NHS number and no finished match, a page at a time (so a stopped run resumes). */
async function* unmatched(prisma: LocalClient, pupils: boolean): AsyncGenerator<Subject> {
  const done = async (table: string, ids: string[]) =>
    new Set((await prisma.la_match_result.findMany({ where: { subject_table: table, subject_id: { in: ids }, status: { not: 'ERROR' } }, select: { subject_id: true } })).map((r) => r.subject_id));
  let cursor: string | undefined;
  for (;;) {
    const persons = await prisma.ssd_person.findMany({
      where: { pers_common_child_id: null, ...(cursor ? { pers_person_id: { gt: cursor } } : {}) },
      orderBy: { pers_person_id: 'asc' },
      take: 500,
      include: { addresses: { where: { addr_address_end_date: null }, take: 1 } },
    });
    if (persons.length === 0) break;
    cursor = persons.at(-1)!.pers_person_id;
    const finished = await done('ssd_person', persons.map((p) => p.pers_person_id));
    for (const p of persons) {
      if (finished.has(p.pers_person_id)) continue;
      const postcode = p.addresses[0]?.addr_address_postcode;
      const sex = gender(p.pers_sex);
      yield {
        table: 'ssd_person',
        id: p.pers_person_id,
        demographics: { givenName: p.pers_forename ?? '', familyName: p.pers_surname ?? '', dateOfBirth: isoDate(p.pers_dob) ?? '', ...(sex ? { gender: sex } : {}), ...(postcode ? { postcode } : {}) },
      };
    }
  }
  if (!pupils) return;
  cursor = undefined;
  for (;;) {
    const rows: { pupil_id: string; forename: string | null; surname: string | null; sex: string | null; dob: Date | null; postcode: string | null }[] = await prisma.edu_pupil.findMany({ where: { nhs_number: null, ...(cursor ? { pupil_id: { gt: cursor } } : {}) }, orderBy: { pupil_id: 'asc' }, take: 500 });
    if (rows.length === 0) break;
    cursor = rows.at(-1)!.pupil_id;
    const finished = await done('edu_pupil', rows.map((r) => r.pupil_id));
    for (const r of rows) {
      if (finished.has(r.pupil_id)) continue;
      const sex = gender(r.sex);
      yield {
        table: 'edu_pupil',
        id: r.pupil_id,
        demographics: { givenName: r.forename ?? '', familyName: r.surname ?? '', dateOfBirth: isoDate(r.dob) ?? '', ...(sex ? { gender: sex } : {}), ...(r.postcode ? { postcode: r.postcode } : {}) },
      };
    }
  }
}

async function countUnmatched(prisma: LocalClient, pupils: boolean): Promise<number> {
  const persons = await prisma.ssd_person.count({ where: { pers_common_child_id: null } });
  const pupilCount = pupils ? await prisma.edu_pupil.count({ where: { nhs_number: null } }) : 0;
  const finished = await prisma.la_match_result.count({ where: { status: { not: 'ERROR' }, subject_table: pupils ? undefined : 'ssd_person' } });
  return Math.max(0, persons + pupilCount - finished);
}

const INPUT_COLUMNS = ['id', 'given_name', 'family_name', 'date_of_birth', 'gender', 'postcode'];
const RESULT_COLUMNS = ['nhs_number', 'status', 'score', 'strategy', 'candidate_nhs_number', 'reason', 'explanation', 'agreed', 'disagreed'] as const;

/** `givenName=exact;postcode=historic`: the details that agreed, and how. */
const agreedText = (agreed: readonly { field: string; level: string }[]) => agreed.map((a) => `${a.field}=${a.level}`).join(';');

/**
 * A result row: the NHS number only for a MATCH (the one answer safe to link without a person); a
 * POTENTIAL_MATCH's candidate in its own column, for a person to check, never where a link is read from.
 */
function resultColumns(status: Status, answer: MatchAnswer | undefined): Record<(typeof RESULT_COLUMNS)[number], string | number> {
  return {
    nhs_number: status === 'MATCH' ? (answer?.nhsNumber ?? '') : '',
    status,
    score: answer?.score ?? '',
    strategy: answer?.strategy ?? '',
    candidate_nhs_number: status === 'POTENTIAL_MATCH' ? (answer?.nhsNumber ?? '') : '',
    reason: answer?.reason ?? '',
    explanation: answer?.explanation ?? '',
    agreed: agreedText(answer?.agreed ?? []),
    disagreed: (answer?.disagreed ?? []).join(';'),
  };
}

/** Records the outcome; a MATCH also sets the record's NHS number, in the same transaction. */
async function record(prisma: LocalClient, subject: Subject, status: Status, answer: MatchAnswer | undefined): Promise<void> {
  const accepted = status === 'MATCH' && answer?.nhsNumber;
  const result = {
    nhs_number: answer?.nhsNumber ?? null,
    status,
    score: answer?.score ?? null,
    strategy: answer?.strategy ?? null,
    reason: answer?.reason ?? null,
    explanation: answer?.explanation ?? null,
    agreed: answer?.agreed ?? [],
    disagreed: answer?.disagreed ?? [],
    matched_at: new Date(),
    review_state: accepted ? 'ACCEPTED' : status === 'ERROR' ? 'NONE' : 'PENDING',
  };
  await prisma.$transaction(async (tx) => {
    await tx.la_match_result.upsert({
      where: { subject_table_subject_id: { subject_table: subject.table, subject_id: subject.id } },
      create: { subject_table: subject.table, subject_id: subject.id, ...result },
      update: result,
    });
    if (!accepted) return;
    if (subject.table === 'ssd_person') {
      await tx.ssd_person.update({ where: { pers_person_id: subject.id }, data: { pers_common_child_id: answer!.nhsNumber } });
      await tx.ssd_linked_identifiers.create({
        data: { link_table_id: `MATCH-${subject.id}`, link_person_id: subject.id, link_identifier_type: 'NHS Number', link_identifier_value: answer!.nhsNumber, link_valid_from_date: new Date() },
      });
    } else {
      await tx.edu_pupil.update({ where: { pupil_id: subject.id }, data: { nhs_number: answer!.nhsNumber } });
    }
  });
}

/** MATCH as an organisation reaches it: through DfE's gateway (the sandbox's unless given). */
function matchUrl(option: string | undefined): string {
  return option ?? dfeUrls(loadSandboxConfig()).service('matching');
}

/** The asking organisation's DfE access token for MATCH, checked before any record is sent. */
async function matchToken(options: { as: string; key?: string; tokenUrl?: string }): Promise<() => Promise<string>> {
  const config = loadSandboxConfig();
  const keyFile = options.key ?? sandboxPaths(config).credentialKey(options.as);
  let privateKey;
  try {
    privateKey = JSON.parse(readFileSync(keyFile, 'utf8')) as JWK;
  } catch (error) {
    throw new CommandError(`cannot read ${options.as}'s DfE credential key ${keyFile}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
  const client = useDfeTokenClient({ tokenUrl: options.tokenUrl ?? dfeUrls(config).token, organisation: options.as, privateKey, resource: MATCHING_AUDIENCE });
  try {
    await client.token();
  } catch (error) {
    if (error instanceof DfeTokenError) throw new CommandError(error.message);
    throw error;
  }
  return () => client.token();
}

export function matchCommand(): Command {
  const match = new Command('match')
    .enablePositionalOptions()
    .description("attach NHS numbers to an LA's records through MATCH (only MATCH is accepted; other bands wait for review), or to a CSV extract")
    .option('--la <code>', `the LA whose records to match (${SANDBOX_LAS.map((la) => la.code).join(', ')})`)
    .option('--pupils', 'also match pupils in the education records')
    .option('--csv <file>', 'match a CSV extract instead; columns: id, given_name, family_name, date_of_birth (yyyy-mm-dd), gender (male/female/other/unknown, optional), postcode (optional)')
    .option('--out <file>', `with --csv: where to write the input columns plus ${RESULT_COLUMNS.join(', ')}`)
    .option('--match-url <url>', "MATCH's GraphQL endpoint (default: the sandbox's, through DfE's gateway)")
    .option('--as <org>', 'the organisation asking MATCH (default: the --la, or northshire)')
    .option('--key <file>', "that organisation's DfE credential private key, a JWK (default: the sandbox's)")
    .option('--token-url <url>', "DfE's token endpoint (default: the sandbox's)")
    .addOption(new Option('--purpose <purpose>', 'the purpose declared to MATCH').choices(PURPOSES).default('CHILD_IN_NEED_ASSESSMENT'))
    .addOption(new Option('--concurrency <n>', 'requests in flight at once').default(4).argParser((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 64) throw new CommandError('--concurrency must be 1 to 64');
      return n;
    }))
    .option('--json', 'print the summary as JSON')
    .action(async (options: { la?: string; pupils?: boolean; csv?: string; out?: string; matchUrl?: string; as?: string; key?: string; tokenUrl?: string; purpose: string; concurrency: number; json?: boolean }) => {
      const token = await matchToken({ as: options.as ?? options.la ?? 'northshire', ...(options.key ? { key: options.key } : {}), ...(options.tokenUrl ? { tokenUrl: options.tokenUrl } : {}) });
      const service = new MatchService(matchUrl(options.matchUrl), options.purpose, token);
      const counts: Record<string, number> = {};
      let interrupted = false;
      const onSignal = () => {
        interrupted = true;
        log('stopping after the requests in flight; run the same command again to resume');
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const matchOne = async (demographics: MatchDemographics): Promise<{ status: Status; answer?: MatchAnswer }> => {
        try {
          const answer = await service.match(demographics);
          return { status: answer.status, answer };
        } catch (error) {
          if (error instanceof RefusedInput) return { status: 'REFUSED' };
          return { status: 'ERROR' };
        }
      };

      if (options.csv) {
        if (options.la) throw new CommandError('use --la or --csv, not both');
        if (!options.out) throw new CommandError('--csv needs --out <file>');
        if (!existsSync(options.csv)) throw new CommandError(`no such file: ${options.csv}`);
        const output = stringify({ header: true, columns: [...INPUT_COLUMNS, ...RESULT_COLUMNS] });
        output.pipe(createWriteStream(options.out));
        const rows = createReadStream(options.csv).pipe(parse({ columns: true, skip_empty_lines: true, trim: true }));
        let done = 0;
        const bar = progressBar(0);
        await pool(rows as AsyncIterable<Record<string, string>>, options.concurrency, () => interrupted, async (row) => {
          const g = row.gender?.toUpperCase();
          const { status, answer } = await matchOne({
            givenName: row.given_name ?? '',
            familyName: row.family_name ?? '',
            dateOfBirth: row.date_of_birth ?? '',
            ...(g && ['MALE', 'FEMALE', 'OTHER', 'UNKNOWN'].includes(g) ? { gender: g as MatchDemographics['gender'] } : {}),
            ...(row.postcode ? { postcode: row.postcode } : {}),
          });
          counts[status] = (counts[status] ?? 0) + 1;
          output.write({ ...row, ...resultColumns(status, answer) });
          bar.tick(++done);
        });
        bar.stop();
        await new Promise<void>((resolve) => output.end(resolve));
      } else {
        if (!options.la) throw new CommandError('give --la <code> or --csv <file>');
        const [target] = sandboxTargets(options.la);
        if (!target || target.kind !== 'local') throw new CommandError(`${options.la} is not an LA`);
        const store = await openStore({ ...target, kind: 'local' });
        try {
          const prisma = store.prisma;
          const bar = progressBar(await countUnmatched(prisma, options.pupils ?? false));
          let done = 0;
          await pool(unmatched(prisma, options.pupils ?? false), options.concurrency, () => interrupted, async (subject) => {
            const { status, answer } = await matchOne(subject.demographics);
            await record(prisma, subject, status, answer);
            counts[status] = (counts[status] ?? 0) + 1;
            bar.tick(++done);
          });
          bar.stop();
        } finally {
          await store.close();
        }
      }
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      printResult({ total, interrupted, counts }, options.json ?? false, () =>
        [`matched ${total} records${interrupted ? ' (stopped early: run again to resume)' : ''}`, ...Object.entries(counts).map(([s, n]) => `  ${s.padEnd(16)} ${n}`)].join('\n'),
      );
      if (interrupted) process.exitCode = 130;
    });

  match
    .command('review')
    .description('list match results waiting for a person to confirm (every band but MATCH), each with its candidate, the reason for its band and which details agreed and disagreed')
    .requiredOption('--la <code>', 'the LA')
    .option('--json', 'print as JSON')
    .action(async (options: { la: string; json?: boolean }) => {
      const [target] = sandboxTargets(options.la);
      if (!target || target.kind !== 'local') throw new CommandError(`${options.la} is not an LA`);
      const store = await openStore({ ...target, kind: 'local' });
      try {
        const pending = await store.prisma.la_match_result.findMany({ where: { review_state: 'PENDING' }, orderBy: [{ score: 'desc' }, { subject_id: 'asc' }] });
        const rows = pending.map((r) => ({
          table: r.subject_table,
          id: r.subject_id,
          status: r.status,
          candidateNhsNumber: r.nhs_number,
          score: r.score,
          strategy: r.strategy,
          reason: r.reason,
          explanation: r.explanation,
          agreed: (r.agreed ?? []) as { field: string; level: string }[],
          disagreed: r.disagreed,
          matchedAt: r.matched_at.toISOString(),
        }));
        printResult(rows, options.json ?? false, () =>
          rows.length === 0
            ? 'nothing waiting for review'
            : rows
                .map((r) =>
                  [
                    `${r.table}/${r.id}  ${r.status.padEnd(16)} candidate ${r.candidateNhsNumber ?? '-'.padEnd(10)}  ${r.score?.toFixed(4) ?? '-'}  ${r.strategy ?? ''}`,
                    ...(r.reason ? [`  ${r.reason}: ${r.explanation ?? ''}`] : []),
                    ...(r.agreed.length > 0 || r.disagreed.length > 0 ? [`  agreed ${agreedText(r.agreed) || '-'}  disagreed ${r.disagreed.join(';') || '-'}`] : []),
                  ].join('\n'),
                )
                .join('\n'),
        );
      } finally {
        await store.close();
      }
    });
  return match;
}
