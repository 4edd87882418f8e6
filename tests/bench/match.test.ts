// `npm run bench:match` on a labelled set a user supplies, and its scorer on a set scored by hand.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scoreMatches, type Label, type Outcome } from '../../bench/match-score.ts';
import { dayOf } from '../../lib/dates.ts';
import { patientResource } from '../../sandbox/population/fhir.ts';
import { NhsNumberSequence, type Child } from '../../sandbox/population/person.ts';

describe('the scorer', () => {
  it('agrees with a set scored by hand', () => {
    const o = (id: string, status: Outcome['status'], nhs: string | null, pdsCalls: number, candidate = nhs): Outcome => ({ id, status, nhsNumber: status === 'MATCH' ? nhs : null, candidate, score: 0.9, strategy: 's', pdsCalls });
    const outcomes = [
      o('a', 'MATCH', '111', 1), // right
      o('b', 'MATCH', '222', 2), // wrong: the child is 333
      o('c', 'MATCH', '444', 1), // wrong: the child is not in PDS (a namesake)
      o('d', 'POTENTIAL_MATCH', null, 3, '555'), // a person confirms it
      o('e', 'POTENTIAL_MATCH', null, 2, '666'), // a person rejects it: the child is 777
      o('f', 'NO_MATCH', null, 4), // missed: the child is 888
      o('g', 'NO_MATCH', null, 2), // right: not in PDS
      o('h', 'MATCH', '999', 1), // no label
    ];
    const labels = new Map<string, Label>([
      ['a', { nhsNumber: '111', noise: [] }],
      ['b', { nhsNumber: '333', noise: ['surname_typo', 'no_nhs_number'] }],
      ['c', { nhsNumber: null, noise: ['not_in_pds', 'resembles_namesake'] }],
      ['d', { nhsNumber: '555', noise: ['nickname'] }],
      ['e', { nhsNumber: '777', noise: [] }],
      ['f', { nhsNumber: '888', noise: ['middle_names'] }],
      ['g', { nhsNumber: null, noise: ['not_in_pds'] }],
    ]);
    const score = scoreMatches(outcomes, labels);
    expect(score).toMatchObject({ records: 8, unlabelled: 1, inPds: 5, notInPds: 2, pdsCallsPerRecord: 2 });
    // MATCH alone: a, b and c linked (h is not scored), a right; 1 of the 5 children in PDS found.
    expect(score.auto).toEqual({ links: 3, correct: 1, precision: 33.333, recall: 20 });
    // With review: d is confirmed too, e rejected.
    expect(score.withReview).toEqual({ links: 4, correct: 2, precision: 50, recall: 40 });
    expect(score.pdsCallsByStatus).toEqual({ MATCH: { records: 4, callsPerRecord: 1.25 }, NO_MATCH: { records: 2, callsPerRecord: 3 }, POTENTIAL_MATCH: { records: 2, callsPerRecord: 2.5 } });
    expect(score.falseLinksNotInPds).toEqual({ resembles_namesake: 1 });
    expect(score.errorsByClass).toEqual({
      not_in_pds: { wrongLinks: 1, missed: 0 }, resembles_namesake: { wrongLinks: 1, missed: 0 }, surname_typo: { wrongLinks: 1, missed: 0 }, middle_names: { wrongLinks: 0, missed: 1 },
    });
    // Calibration: of the best candidates each band offered, how many were the child (all at score 0.9 here).
    expect(score.calibration).toEqual({ MATCH: { records: 3, candidateIsChild: 1, rate: 33.333 }, 'POTENTIAL_MATCH 0.90-0.95': { records: 2, candidateIsChild: 1, rate: 50 } });
    expect(score.errorsByCause).toEqual({ 'missed (NO_MATCH): middle_names': 1, 'missed (POTENTIAL_MATCH): none': 1, 'wrong link: not_in_pds': 1, 'wrong link: surname_typo': 1 });
  });
});

describe('npm run bench:match on files a user supplies', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mais-bench-match-test-'));
  const numbers = new NhsNumberSequence(3);
  const child = (given: string[], family: string, birth: string, gender: 'male' | 'female', postcode: string): Child & { nhsNumber: string } => ({
    index: 0, nhsNumber: numbers.next(), given, family, background: 'britishIrish', gender, birthDay: dayOf(birth),
    address: { lines: ['1 High Street', 'Darrowby'], postcode, from: dayOf(birth) }, previousAddresses: [], restricted: false, gpOdsCode: 'A81001',
  });
  const registered = [
    child(['Oliver', 'James'], 'Smith', '2015-03-04', 'male', 'DL1 1AA'),
    child(['Amelia'], 'Jones', '2016-07-08', 'female', 'DL3 2BB'),
    child(['Isla'], 'Taylor', '2018-11-12', 'female', 'PO1 5EE'),
  ];
  const bench = (...args: string[]) => spawnSync('npm', ['run', '-s', 'bench:match', '--', ...args], { encoding: 'utf8', timeout: 120_000 });

  it('answers every record, writes the documented columns, and scores it with --truth', () => {
    writeFileSync(join(dir, 'patients.ndjson'), registered.map((c) => JSON.stringify(patientResource(c))).join('\n') + '\n');
    writeFileSync(join(dir, 'records.csv'), [
      'id,given_name,family_name,date_of_birth,gender,postcode',
      'r1,Oliver,Smith,2015-03-04,M,DL1 1AA',
      'r2,Amelia,Jones,2016-07-08,female,DL3 2BB',
      'r3,Zephyrine,Quixley,2012-02-29,F,',
      'r4,Isla,Taylor,2018-11-12,,PO1 5EE',
    ].join('\n'));
    writeFileSync(join(dir, 'truth.csv'), `id,nhs_number\nr1,${registered[0]!.nhsNumber}\nr2,${registered[1]!.nhsNumber}\nr3,\nr4,${registered[2]!.nhsNumber}\n`);
    const out = join(dir, 'results.csv');
    const run = bench('--patients', join(dir, 'patients.ndjson'), '--records', join(dir, 'records.csv'), '--truth', join(dir, 'truth.csv'), '--out', out, '--concurrency', '2');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const [header, ...rows] = readFileSync(out, 'utf8').trim().split('\n').map((line) => line.split(','));
    expect(header).toEqual(['id', 'status', 'nhs_number', 'candidate_nhs_number', 'score', 'strategy', 'pds_calls']);
    const byId = Object.fromEntries(rows.map((r) => [r[0], r]));
    expect(Object.keys(byId).sort()).toEqual(['r1', 'r2', 'r3', 'r4']);
    // Records that copy a national record exactly are linked to it; one nobody resembles is linked to nobody.
    for (const [id, c] of [['r1', registered[0]!], ['r2', registered[1]!], ['r4', registered[2]!]] as const) expect(byId[id]!.slice(1, 3)).toEqual(['MATCH', c.nhsNumber]);
    expect(byId.r3![1]).toBe('NO_MATCH');
    expect(byId.r3![2]).toBe('');
    for (const r of rows) expect(Number(r[6])).toBeGreaterThanOrEqual(1);
    // What it prints is the scorer's reading of those rows.
    expect(run.stdout).toMatch(/4 records: 3 of children in PDS, 1 of children not in PDS/);
    expect(run.stdout).toMatch(/auto-accepted \(MATCH\): +precision 100% \(3\/3\), recall 100%/);
  }, 150_000);

  it('refuses files it cannot read with a stable code and no stack trace, and answers without scoring when there is no truth', () => {
    writeFileSync(join(dir, 'bad-columns.csv'), 'id,first,last\n1,A,B\n');
    writeFileSync(join(dir, 'bad-date.csv'), 'id,given_name,family_name,date_of_birth,gender,postcode\n1,Ann,Lee,04/03/2015,F,\n');
    writeFileSync(join(dir, 'bad-truth.csv'), 'id,nhs_number\nr1,1234567890\n');
    for (const [args, code] of [
      [['--patients', join(dir, 'patients.ndjson'), '--records', join(dir, 'bad-columns.csv')], 'BAD_COLUMNS'],
      [['--patients', join(dir, 'patients.ndjson'), '--records', join(dir, 'bad-date.csv')], 'BAD_RECORD'],
      [['--patients', join(dir, 'patients.ndjson'), '--records', join(dir, 'records.csv'), '--truth', join(dir, 'bad-truth.csv')], 'BAD_TRUTH'],
      [['--patients', join(dir, 'patients.ndjson'), '--records', join(dir, 'missing.csv')], 'NOT_FOUND'],
      [['--patients', join(dir, 'missing.ndjson'), '--records', join(dir, 'records.csv')], 'NOT_FOUND'],
      [['--records', join(dir, 'records.csv')], 'BAD_OPTIONS'],
    ] as const) {
      const run = bench(...args);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(new RegExp(`^bench:match: ${code}: `));
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
    const unscored = bench('--patients', join(dir, 'patients.ndjson'), '--records', join(dir, 'records.csv'));
    expect(unscored.status).toBe(0);
    expect(unscored.stdout).toMatch(/no --truth: answers written, not scored/);
  }, 150_000);
});
