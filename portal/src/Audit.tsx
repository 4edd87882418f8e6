// The information-governance officer's views of the LA's audit: caseworkers whose searches reached the
// router's threshold (shown on opening), who looked at a child's records, when, why and what they saw (a
// subject access request's answer; reading it is itself audited), and every break-glass in a period.
import { useLazyQuery, type ApolloError } from '@apollo/client';
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { AUDIT_TRAIL, BREAK_GLASS_REPORT, breakGlassCategoryLabel, IG_ALERTS, purposeLabel } from './operations.ts';
import { DateInput, ErrorSummary, isoFromParts, NHS_NUMBER_PROBLEM, nhsNumberDigits, refusal, TextField, type DateParts } from './ui.tsx';

interface AuditRecord {
  at: string;
  caseworker: string;
  roles?: string[];
  purpose: string | null;
  action?: string;
  searchedOn?: string[];
  decision: string | null;
  breakGlassReason: string | null;
  breakGlassCategory?: string | null;
  nhsNumber?: string | null;
  sources?: string[];
  withheld?: string[];
  outcome: string;
  receipt?: { band: string | null; score: number | null } | null;
}

interface IgAlert {
  at: string;
  kind: string;
  caseworker: string;
  roles: string[];
  count: number;
  threshold: number;
  windowStart: string;
  windowEnd: string;
}

const when = (at: string) => new Date(at).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
const partsOf = (date: Date): DateParts => ({ day: String(date.getDate()), month: String(date.getMonth() + 1), year: String(date.getFullYear()) });
const ACTIONS: Record<string, string> = { VIEW: 'Viewed', LINK: 'Linked a record', AUDIT_TRAIL: 'Read the audit trail', SEARCH: 'Found in a search', MATCH: 'Among MATCH’s candidates' };
const DETAILS: Record<string, string> = { givenName: 'given name', familyName: 'family name', dateOfBirth: 'date of birth', postcode: 'postcode', gender: 'gender' };
const DECISIONS: Record<string, string> = { FULL: 'Full view (allocated)', SUMMARY: 'Summary', NONE: 'Nothing' };

export function Audit() {
  return (
    <>
      <h1>Audit</h1>
      <p>Every look at a child’s records is recorded here with who, when, the purpose given and what was withheld. Reading a child’s audit trail is recorded too.</p>
      <SearchAlerts />
      <AuditTrail />
      <BreakGlassReport />
    </>
  );
}

function AuditTrail() {
  const [nhsNumber, setNhsNumber] = useState('');
  const [problems, setProblems] = useState<string[]>([]);
  const [run, { data, error, loading, called }] = useLazyQuery(AUDIT_TRAIL);

  function submit(event: FormEvent) {
    event.preventDefault();
    const digits = nhsNumberDigits(nhsNumber);
    setProblems(digits ? [] : [NHS_NUMBER_PROBLEM]);
    if (digits) void run({ variables: { nhsNumber: digits } });
  }

  const records = called && !loading && data ? (data.auditTrail as AuditRecord[]) : undefined;
  return (
    <section aria-labelledby="trail-heading">
      <h2 id="trail-heading">A child’s audit trail</h2>
      {problems.length > 0 ? <ErrorSummary problems={problems} /> : null}
      <form onSubmit={submit} noValidate>
        <TextField id="trail-nhs-number" label="NHS number" className="input-10" numeric value={nhsNumber} onChange={setNhsNumber} />
        <button type="submit" className="button">
          Show the audit trail
        </button>
      </form>
      <AuditTable
        loading={loading}
        error={error}
        records={records}
        empty="Nobody has looked at this child’s records through MAIS."
        caption="Who looked at this child’s records, oldest first"
        columns={[
          ['When', (r) => when(r.at)],
          ['Who', (r) => <Who caseworker={r.caseworker} roles={r.roles} />],
          ['What', (r) => ACTIONS[r.action ?? 'VIEW'] ?? r.action],
          ['Purpose', (r) => purposeLabel(r.purpose) || '—'],
          ['Access', (r) => (
            <>
              {r.decision === 'BREAK_GLASS' || r.breakGlassReason ? <strong className="tag band-break-glass">Break glass</strong> : r.action === 'SEARCH' || r.action === 'MATCH' ? `Searched on ${(r.searchedOn ?? []).map((d) => DETAILS[d] ?? d).join(', ') || 'nothing'}` : r.action === 'AUDIT_TRAIL' ? '—' : r.action === 'LINK' ? `On MATCH’s ${(r.receipt?.band ?? 'unknown band').replace('_', ' ')}${typeof r.receipt?.score === 'number' ? ` (${r.receipt.score.toFixed(3)})` : ''}` : (DECISIONS[r.decision ?? ''] ?? r.decision)}
              {r.breakGlassCategory ? <span> ({breakGlassCategoryLabel(r.breakGlassCategory)})</span> : null}
              {r.breakGlassReason ? <span> “{r.breakGlassReason}”</span> : null}
              {(r.withheld ?? []).length > 0 ? <span className="hint"> Withheld: {(r.withheld ?? []).join(', ')}</span> : null}
            </>
          )],
          ['Outcome', (r) => r.outcome],
        ]}
      />
    </section>
  );
}

const lastMonth = () => {
  const today = new Date();
  return { from: partsOf(new Date(today.getTime() - 30 * 86_400_000)), to: partsOf(today) };
};

/** A period, dates inclusive, checked before it is asked for (the last 30 days to start with). */
function PeriodForm({ id, action, onPeriod }: { id: string; action: string; onPeriod(from: string, to: string): void }) {
  const [from, setFrom] = useState<DateParts>(lastMonth().from);
  const [to, setTo] = useState<DateParts>(lastMonth().to);
  const [problems, setProblems] = useState<string[]>([]);

  function submit(event: FormEvent) {
    event.preventDefault();
    const [start, end] = [isoFromParts(from), isoFromParts(to)];
    const found: string[] = [];
    if (!start) found.push('From must be a real date');
    if (!end) found.push('To must be a real date');
    if (start && end && start > end) found.push('From must be on or before To');
    setProblems(found);
    if (found.length === 0) onPeriod(start!, end!);
  }

  return (
    <>
      {problems.length > 0 ? <ErrorSummary problems={problems} /> : null}
      <form onSubmit={submit} noValidate>
        <div className="columns">
          <DateInput id={`${id}-from`} legend="From" value={from} onChange={setFrom} />
          <DateInput id={`${id}-to`} legend="To" value={to} onChange={setTo} />
        </div>
        <button type="submit" className="button">
          {action}
        </button>
      </form>
    </>
  );
}

/** Caseworkers whose searches and matches reached the threshold within the router's window: who, how many, when; never what they searched for. */
function SearchAlerts() {
  const [run, { data, error, loading, called }] = useLazyQuery(IG_ALERTS, { fetchPolicy: 'network-only' });
  useEffect(() => {
    const { from, to } = lastMonth();
    void run({ variables: { from: isoFromParts(from), to: isoFromParts(to) } });
  }, [run]);
  const alerts = called && !loading && data ? (data.igAlerts as IgAlert[]) : undefined;
  return (
    <section aria-labelledby="alerts-heading">
      <h2 id="alerts-heading">Search alerts</h2>
      <p className="hint">A caseworker is listed when their searches and matches reach the LA’s threshold within its window. What they searched for is not kept.</p>
      <PeriodForm id="alerts" action="Show search alerts" onPeriod={(from, to) => void run({ variables: { from, to } })} />
      <AuditTable
        loading={loading}
        error={error}
        records={alerts}
        empty="No caseworker reached the search threshold in this period."
        caption="Caseworkers who searched more than the threshold, newest first"
        columns={[
          ['Raised', (a) => when(a.at)],
          ['Who', (a) => <Who caseworker={a.caseworker} roles={a.roles} />],
          ['Searches and matches', (a) => `${a.count} (threshold ${a.threshold})`],
          ['Window', (a) => `${when(a.windowStart)} to ${when(a.windowEnd)}`],
        ]}
      />
    </section>
  );
}

function BreakGlassReport() {
  const [run, { data, error, loading, called }] = useLazyQuery(BREAK_GLASS_REPORT);
  const groups = called && !loading && data ? (data.breakGlassReport as { category: string | null; count: number; accesses: AuditRecord[] }[]) : undefined;
  const columns: [string, (r: AuditRecord) => ReactNode][] = [
    ['When', (r) => when(r.at)],
    ['Who', (r) => r.caseworker],
    ['Child', (r) => r.nhsNumber],
    ['Purpose', (r) => purposeLabel(r.purpose) || '—'],
    ['Reason given', (r) => r.breakGlassReason],
    ['Outcome', (r) => r.outcome],
  ];
  return (
    <section aria-labelledby="report-heading">
      <h2 id="report-heading">Break-glass report</h2>
      <PeriodForm id="report" action="Show break-glass accesses" onPeriod={(from, to) => void run({ variables: { from, to } })} />
      {groups && groups.length > 0 ? (
        groups.map((group) => (
          <AuditTable
            key={group.category ?? 'none'}
            loading={false}
            error={undefined}
            records={group.accesses}
            empty=""
            caption={`${breakGlassCategoryLabel(group.category)}: ${group.count} ${group.count === 1 ? 'access' : 'accesses'}, oldest first`}
            columns={columns}
          />
        ))
      ) : (
        <AuditTable loading={loading} error={error} records={groups ? [] : undefined} empty="No break-glass access in this period." caption="Break-glass accesses by kind of emergency" columns={columns} />
      )}
    </section>
  );
}

/** A caseworker with their roles. */
function Who({ caseworker, roles }: { caseworker: string; roles: readonly string[] | undefined }) {
  return (
    <>
      {caseworker}
      <span className="hint"> ({(roles ?? []).join(', ') || 'no role'})</span>
    </>
  );
}

/** An audit query's answer: reading, refused, nothing found, or a table of its rows. */
function AuditTable<T>({ loading, error, records, empty, caption, columns }: { loading: boolean; error: ApolloError | undefined; records: T[] | undefined; empty: string; caption: string; columns: [string, (record: T) => ReactNode][] }) {
  const refused = refusal(error);
  if (loading) return <p role="status">Reading the audit…</p>;
  if (refused) return <ErrorSummary problems={[refused]} />;
  if (!records) return null;
  if (records.length === 0) return <p role="status">{empty}</p>;
  return (
    <table className="audit">
      <caption>{caption}</caption>
      <thead>
        <tr>
          {columns.map(([heading]) => (
            <th key={heading} scope="col">
              {heading}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {records.map((record, i) => (
          <tr key={i}>
            {columns.map(([heading, cell]) => (
              <td key={heading}>{cell(record)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
