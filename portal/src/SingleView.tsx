// The single view of a child: the summary band, a timeline across sources, who else holds records
// (FIND) and what other LAs share (the relay), each marked with its source and freshness. Withheld
// sections say why; an unavailable source is named, with a retry.
import { Withheld, type GraphQLProblem } from './ui.tsx';

/** The sources a router names in SOURCE_UNAVAILABLE, as a caseworker knows them. */
const SOURCE_NAMES: Record<string, string> = {
  csc: 'Social care (this LA)',
  education: 'Education (this LA)',
  pds: 'NHS demographics (PDS)',
  matching: 'MATCH (DfE)',
  locator: 'FIND, the record locator (DfE)',
  relay: 'Records shared by other LAs (DfE relay)',
};
export const sourceName = (source: string) => SOURCE_NAMES[source] ?? source;

/* eslint-disable @typescript-eslint/no-explicit-any */
export function SingleView({ child, problems, retry }: { child: any; problems: readonly GraphQLProblem[]; retry(): void }) {
  // Why a section was withheld ('purpose' or 'relationship'), or undefined when it was not.
  const withheldFor = (field: string) => {
    const refusal = problems.find((p) => p.extensions?.code === 'FORBIDDEN' && p.path?.join('.').startsWith(`child.${field}`));
    return refusal ? (refusal.extensions?.reason ?? 'purpose') : undefined;
  };
  const withheld = (field: string) => withheldFor(field) !== undefined;
  const unavailable = [...new Set(problems.filter((p) => p.extensions?.code === 'SOURCE_UNAVAILABLE').map((p) => p.extensions?.source ?? 'a source'))];
  const status = child.socialCare?.status;
  const current = (plans: any[] | undefined) => (plans ?? []).find((p) => !p.endDate);
  const cp = current(child.socialCare?.cpPlans);
  const badges: [string, boolean | undefined][] = [
    ['Open case', status?.openCase],
    [`Child protection plan${cp?.latestCategory ? ` (${cp.latestCategory})` : ''}`, status?.childProtectionPlan],
    ['Looked after', status?.lookedAfter],
    ['EHCP', child.socialCare?.send?.ehcpInForce || child.education?.senStatus === 'EHCP'],
    ['Persistent absence', child.education?.attendance?.persistentAbsence],
  ];
  const events = [
    ...(child.socialCare?.referrals ?? []).map((r: any) => ({ date: r.referralDate, what: `Referral${r.primaryNeed ? `: ${r.primaryNeed}` : ''}`, source: 'Social care' })),
    ...(child.socialCare?.assessments ?? []).map((a: any) => ({ date: a.startDate, what: `Assessment${a.outcome ? `: ${a.outcome}` : ''}`, source: 'Social care' })),
    ...(child.socialCare?.section47Enquiries ?? []).map((s: any) => ({ date: s.startDate, what: 'Section 47 enquiry', source: 'Social care' })),
    ...(child.socialCare?.cpPlans ?? []).map((p: any) => ({ date: p.startDate, what: `Child protection plan${p.latestCategory ? ` (${p.latestCategory})` : ''}${p.endDate ? `, ended ${p.endDate}` : ''}`, source: 'Social care' })),
    ...(child.socialCare?.lookedAfterEpisodes ?? []).map((e: any) => ({ date: e.startDate, what: `Looked after${e.endDate ? ` until ${e.endDate}` : ''}`, source: 'Social care' })),
    ...(child.education?.exclusions ?? []).map((x: any) => ({ date: x.startDate, what: `Exclusion: ${x.category}`, source: 'Education' })),
  ]
    .filter((e) => e.date)
    .sort((a, b) => String(b.date).localeCompare(String(a.date)));
  const name = child.demographics ? `${(child.demographics.givenNames ?? []).join(' ')} ${child.demographics.familyName ?? ''}`.trim() : null;

  return (
    <section aria-labelledby="child-heading" className="single-view">
      <h2 id="child-heading">{name || `NHS number ${child.nhsNumber}`}</h2>
      {unavailable.length > 0 ? (
        <div className="warning" role="status">
          {unavailable.map((source) => (
            <p key={source}>
              <strong>{sourceName(source)}</strong> is unavailable: what it holds is not shown.
            </p>
          ))}
          <button type="button" className="button secondary" onClick={retry}>
            Try again
          </button>
        </div>
      ) : null}
      <dl className="summary">
        <dt>NHS number</dt>
        <dd>{child.nhsNumber}</dd>
        <dt>Date of birth</dt>
        <dd>{withheld('demographics') ? <Withheld reason={withheldFor('demographics')} /> : (child.demographics?.dateOfBirth ?? 'Not known')}</dd>
      </dl>
      <ul className="badges" aria-label="Summary">
        {badges.map(([label, on]) => (
          <li key={label} className={on ? 'badge on' : 'badge'}>
            {label}: {on === undefined ? 'not shown' : on ? 'yes' : 'no'}
          </li>
        ))}
      </ul>

      <h3>Timeline</h3>
      {withheld('socialCare') && events.length === 0 ? <Withheld reason={withheldFor('socialCare')} /> : events.length === 0 ? <p>No events.</p> : (
        <table>
          <caption className="visually-hidden">Events across sources, newest first</caption>
          <thead>
            <tr><th scope="col">Date</th><th scope="col">Event</th><th scope="col">Source</th></tr>
          </thead>
          <tbody>
            {events.map((e, i) => (
              <tr key={i}><td>{e.date}</td><td>{e.what}</td><td>{e.source}</td></tr>
            ))}
          </tbody>
        </table>
      )}

      <h3>Other organisations that hold records</h3>
      {withheld('locations') ? <Withheld reason={withheldFor('locations')} /> : unavailable.includes('locator') ? <p className="withheld">Not known now: {sourceName('locator')} did not answer.</p> : (child.locations ?? []).length === 0 ? <p>None known.</p> : (
        <ul>
          {(child.locations ?? []).map((l: any, i: number) => (
            <li key={i}>{l.custodian.name}: {l.recordType} (last confirmed {l.lastSeen}{l.stale ? ', out of date' : ''})</li>
          ))}
        </ul>
      )}

      <h3>Shared by other local authorities</h3>
      {withheld('sharedRecords') ? <Withheld reason={withheldFor('sharedRecords')} /> : unavailable.includes('relay') ? <p className="withheld">Not known now: {sourceName('relay')} did not answer.</p> : (child.sharedRecords ?? []).length === 0 ? <p>None shared.</p> : (
        <ul className="shared">
          {(child.sharedRecords ?? []).map((r: any) => (
            <li key={r.custodian}>
              <strong>{r.custodianName}</strong>
              {r.socialCare ? (
                <span>
                  {' '}– open case: {r.socialCare.openCase ? 'yes' : 'no'}; child protection plan: {r.socialCare.childProtectionPlan ? `yes${r.socialCare.cpCategory ? ` (${r.socialCare.cpCategory})` : ''}` : 'no'}; looked after: {r.socialCare.lookedAfter ? 'yes' : 'no'}
                  {r.socialCare.allocatedTeam ? `; contact: ${r.socialCare.allocatedTeam}` : ''} <span className="hint">(as of {new Date(r.socialCare.asOf).toLocaleString('en-GB')})</span>
                </span>
              ) : (
                <span> – not available now</span>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

