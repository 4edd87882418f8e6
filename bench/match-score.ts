// Scores MATCH's answers against a labelled set: precision and recall of what it links by itself and
// of what it links once a person has confirmed its potential matches, PDS calls, and each error by
// its cause. Used by `npm run bench:match`; kept apart so that a test can check it on a hand-scored set.
import { UNCORROBORATED_CAP } from '../subgraphs/matching/agreement.ts';
import type { MatchStatus } from '../subgraphs/matching/matcher.ts';

/** What MATCH answered for one record, as `bench:match --out` writes it. */
export interface Outcome {
  id: string;
  status: MatchStatus;
  /** The NHS number MATCH linked by itself: set only for MATCH. */
  nhsNumber: string | null;
  /** The best candidate, whatever the band (a person reviews it for POTENTIAL_MATCH). */
  candidate: string | null;
  score: number;
  strategy: string | null;
  pdsCalls: number;
}

/** Who a record really is: an NHS number, or null for a child with no national record. */
export interface Label {
  nhsNumber: string | null;
  /** Noise classes applied to the record, when the set was generated (docs/population.md). */
  noise?: readonly string[];
}

export interface Rates {
  links: number;
  correct: number;
  /** Correct links among links, in per cent (100 when there are none). */
  precision: number;
  /** Correct links among records whose child has a national record, in per cent. */
  recall: number;
}

export interface Score {
  records: number;
  /** Records with no label: answered but not scored. */
  unlabelled: number;
  inPds: number;
  notInPds: number;
  /** Linked by MATCH alone (status MATCH). */
  auto: Rates;
  /** MATCH, plus each POTENTIAL_MATCH a person confirms: a reviewer confirms the candidate when it is the child, and only then. */
  withReview: Rates;
  pdsCallsPerRecord: number;
  pdsCallsByStatus: Partial<Record<MatchStatus, { records: number; callsPerRecord: number }>>;
  /** Records of children with no national record, by what they were made to resemble (generated sets). */
  notInPdsResembling: Record<string, number>;
  /** Children with no national record linked by MATCH to someone, by what they were made to resemble (generated sets). */
  falseLinksNotInPds: Record<string, number>;
  /** Each error, `wrong link` or `missed (STATUS)`, by the noise classes of its record (or `unknown` for a set without them). */
  errorsByCause: Record<string, number>;
  /** Wrong links and misses in whose record each noise class appears (a record with two classes counts under both). */
  errorsByClass: Record<string, { wrongLinks: number; missed: number }>;
  /**
   * How the bands are calibrated: for each band and score range, the records whose best candidate was
   * offered, and how often that candidate is the child (per cent).
   */
  calibration: Record<string, { records: number; candidateIsChild: number; rate: number }>;
}

/** The band and score range a best candidate falls in, for calibration. */
export function calibrationBin(status: MatchStatus, score: number): string | null {
  if (status === 'MATCH') return 'MATCH';
  if (status === 'POTENTIAL_MATCH') return score === UNCORROBORATED_CAP ? `POTENTIAL_MATCH held at ${UNCORROBORATED_CAP} (uncorroborated)` : score >= 0.9 ? 'POTENTIAL_MATCH 0.90-0.95' : 'POTENTIAL_MATCH 0.85-0.90';
  if (status === 'LOW_CONFIDENCE') return score >= 0.5 ? 'LOW_CONFIDENCE 0.50-0.85' : 'LOW_CONFIDENCE below 0.50';
  return null;
}

const percent = (part: number, whole: number, empty: number) => (whole === 0 ? empty : Math.round((part / whole) * 100_000) / 1000);

function rates(links: number, correct: number, inPds: number): Rates {
  return { links, correct, precision: percent(correct, links, 100), recall: percent(correct, inPds, 0) };
}

export function scoreMatches(outcomes: readonly Outcome[], labels: ReadonlyMap<string, Label>): Score {
  let inPds = 0;
  let notInPds = 0;
  let unlabelled = 0;
  let autoLinks = 0;
  let autoCorrect = 0;
  let confirmed = 0;
  let calls = 0;
  const byStatus = new Map<MatchStatus, { records: number; calls: number }>();
  const falseLinksNotInPds: Record<string, number> = {};
  const notInPdsResembling: Record<string, number> = {};
  const errorsByCause: Record<string, number> = {};
  const errorsByClass: Record<string, { wrongLinks: number; missed: number }> = {};
  const byClass = (label: Label, kind: 'wrongLinks' | 'missed') => {
    for (const n of label.noise?.filter((c) => c !== 'no_nhs_number') ?? []) {
      const entry = (errorsByClass[n] ??= { wrongLinks: 0, missed: 0 });
      entry[kind]++;
    }
  };
  const add = (table: Record<string, number>, key: string) => (table[key] = (table[key] ?? 0) + 1);
  const calibration: Record<string, { records: number; candidateIsChild: number }> = {};
  for (const outcome of outcomes) {
    calls += outcome.pdsCalls;
    const status = byStatus.get(outcome.status) ?? { records: 0, calls: 0 };
    byStatus.set(outcome.status, { records: status.records + 1, calls: status.calls + outcome.pdsCalls });
    const label = labels.get(outcome.id);
    if (!label) {
      unlabelled++;
      continue;
    }
    if (label.nhsNumber === null) {
      notInPds++;
      if (label.noise) add(notInPdsResembling, label.noise.find((n) => n.startsWith('resembles_')) ?? 'resembles_none');
    } else inPds++;
    const bin = outcome.candidate === null ? null : calibrationBin(outcome.status, outcome.score);
    if (bin) {
      const entry = (calibration[bin] ??= { records: 0, candidateIsChild: 0 });
      entry.records++;
      if (outcome.candidate === label.nhsNumber) entry.candidateIsChild++;
    }
    const cause = label.noise ? label.noise.filter((n) => n !== 'no_nhs_number' && !n.startsWith('resembles_')).join('+') || 'none' : 'unknown';
    if (outcome.status === 'MATCH') {
      autoLinks++;
      if (outcome.nhsNumber !== null && outcome.nhsNumber === label.nhsNumber) autoCorrect++;
      else {
        add(errorsByCause, `wrong link: ${cause}`);
        byClass(label, 'wrongLinks');
        if (label.nhsNumber === null) add(falseLinksNotInPds, label.noise?.find((n) => n.startsWith('resembles_')) ?? (label.noise ? 'resembles_none' : 'unknown'));
      }
      continue;
    }
    if (outcome.status === 'POTENTIAL_MATCH' && label.nhsNumber !== null && outcome.candidate === label.nhsNumber) confirmed++;
    else if (label.nhsNumber !== null) {
      add(errorsByCause, `missed (${outcome.status}): ${cause}`);
      byClass(label, 'missed');
    }
  }
  const scored = outcomes.length;
  return {
    records: scored,
    unlabelled,
    inPds,
    notInPds,
    auto: rates(autoLinks, autoCorrect, inPds),
    withReview: rates(autoLinks + confirmed, autoCorrect + confirmed, inPds),
    pdsCallsPerRecord: scored === 0 ? 0 : Math.round((calls / scored) * 100) / 100,
    pdsCallsByStatus: Object.fromEntries([...byStatus].sort().map(([s, v]) => [s, { records: v.records, callsPerRecord: Math.round((v.calls / v.records) * 100) / 100 }])),
    notInPdsResembling: Object.fromEntries(Object.entries(notInPdsResembling).sort()),
    falseLinksNotInPds,
    errorsByCause: Object.fromEntries(Object.entries(errorsByCause).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
    errorsByClass: Object.fromEntries(Object.entries(errorsByClass).sort((a, b) => b[1].wrongLinks + b[1].missed - (a[1].wrongLinks + a[1].missed) || a[0].localeCompare(b[0]))),
    calibration: Object.fromEntries(Object.entries(calibration).sort().map(([bin, v]) => [bin, { ...v, rate: percent(v.candidateIsChild, v.records, 0) }])),
  };
}

const TOP_CAUSES = 15;

/** The figures as a person reads them. */
export function describeScore(score: Score): string {
  const lines = [
    `${score.records} records: ${score.inPds} of children in PDS, ${score.notInPds} of children not in PDS${score.unlabelled ? `, ${score.unlabelled} unlabelled (not scored)` : ''}`,
    `  auto-accepted (MATCH):           precision ${score.auto.precision}% (${score.auto.correct}/${score.auto.links}), recall ${score.auto.recall}%`,
    `  auto + confirmed POTENTIAL_MATCH: precision ${score.withReview.precision}% (${score.withReview.correct}/${score.withReview.links}), recall ${score.withReview.recall}%`,
    `  PDS calls per record: ${score.pdsCallsPerRecord} (${Object.entries(score.pdsCallsByStatus).map(([s, v]) => `${s} ${v.callsPerRecord} over ${v.records}`).join(', ')})`,
    `  children not in PDS linked to someone else: ${Object.values(score.falseLinksNotInPds).reduce((a, b) => a + b, 0)}${Object.keys(score.falseLinksNotInPds).length ? ` ${JSON.stringify(score.falseLinksNotInPds)}` : ''}`,
  ];
  const bins = Object.entries(score.calibration);
  if (bins.length) {
    lines.push('  the best candidate is the child (calibration of the bands):');
    for (const [bin, v] of bins) lines.push(`    ${`${v.rate}%`.padStart(8)}  of ${String(v.records).padStart(5)}  ${bin}`);
  }
  const classes = Object.entries(score.errorsByClass);
  if (classes.length) {
    lines.push('  errors by noise class (a record with several counts under each):', `    ${'wrong links'.padStart(11)}  ${'missed'.padStart(6)}  class`);
    for (const [name, n] of classes) lines.push(`    ${String(n.wrongLinks).padStart(11)}  ${String(n.missed).padStart(6)}  ${name}`);
  }
  const causes = Object.entries(score.errorsByCause);
  lines.push(`  errors by cause (the ${Math.min(TOP_CAUSES, causes.length)} commonest of ${causes.length}; all with --explain):`);
  for (const [cause, n] of causes.slice(0, TOP_CAUSES)) lines.push(`    ${String(n).padStart(6)}  ${cause}`);
  return `${lines.join('\n')}\n`;
}
