// The information-governance officer's views of the LA's audit: who looked at a child's records, when,
// why and what they saw (a subject access request's answer; reading it is itself audited), and every
// break-glass in a period, for review.
import { useLazyQuery, type ApolloError } from '@apollo/client';
import { useState, type FormEvent, type ReactNode } from 'react';
import { AUDIT_TRAIL, BREAK_GLASS_REPORT, purposeLabel } from './operations.ts';
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
  nhsNumber?: string | null;
  sources?: string[];
  withheld?: string[];
  outcome: string;
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
          ['Who', (r) => (
            <>
              {r.caseworker}
              <span className="hint"> ({(r.roles ?? []).join(', ') || 'no role'})</span>
            </>
          )],
          ['What', (r) => ACTIONS[r.action ?? 'VIEW'] ?? r.action],
          ['Purpose', (r) => purposeLabel(r.purpose) || '—'],
          ['Access', (r) => (
            <>
              {r.decision === 'BREAK_GLASS' || r.breakGlassReason ? <strong className="tag band-break-glass">Break glass</strong> : r.action === 'SEARCH' || r.action === 'MATCH' ? `Searched on ${(r.searchedOn ?? []).map((d) => DETAILS[d] ?? d).join(', ') || 'nothing'}` : r.action === 'AUDIT_TRAIL' ? '—' : (DECISIONS[r.decision ?? ''] ?? r.decision)}
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

function BreakGlassReport() {
  const today = new Date();
  const [from, setFrom] = useState<DateParts>(partsOf(new Date(today.getTime() - 30 * 86_400_000)));
  const [to, setTo] = useState<DateParts>(partsOf(today));
  const [problems, setProblems] = useState<string[]>([]);
  const [run, { data, error, loading, called }] = useLazyQuery(BREAK_GLASS_REPORT);

  function submit(event: FormEvent) {
    event.preventDefault();
    const [start, end] = [isoFromParts(from), isoFromParts(to)];
    const found: string[] = [];
    if (!start) found.push('From must be a real date');
    if (!end) found.push('To must be a real date');
    if (start && end && start > end) found.push('From must be on or before To');
    setProblems(found);
    if (found.length === 0) void run({ variables: { from: start, to: end } });
  }

  const records = called && !loading && data ? (data.breakGlassReport as AuditRecord[]) : undefined;
  return (
    <section aria-labelledby="report-heading">
      <h2 id="report-heading">Break-glass report</h2>
      {problems.length > 0 ? <ErrorSummary problems={problems} /> : null}
      <form onSubmit={submit} noValidate>
        <div className="columns">
          <DateInput id="report-from" legend="From" value={from} onChange={setFrom} />
          <DateInput id="report-to" legend="To" value={to} onChange={setTo} />
        </div>
        <button type="submit" className="button">
          Show break-glass accesses
        </button>
      </form>
      <AuditTable
        loading={loading}
        error={error}
        records={records}
        empty="No break-glass access in this period."
        caption="Break-glass accesses, oldest first"
        columns={[
          ['When', (r) => when(r.at)],
          ['Who', (r) => r.caseworker],
          ['Child', (r) => r.nhsNumber],
          ['Purpose', (r) => purposeLabel(r.purpose) || '—'],
          ['Reason given', (r) => r.breakGlassReason],
          ['Outcome', (r) => r.outcome],
        ]}
      />
    </section>
  );
}

/** An audit query's answer: reading, refused, nothing found, or a table of its records. */
function AuditTable({ loading, error, records, empty, caption, columns }: { loading: boolean; error: ApolloError | undefined; records: AuditRecord[] | undefined; empty: string; caption: string; columns: [string, (record: AuditRecord) => ReactNode][] }) {
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
