import { ApolloClient, ApolloProvider, HttpLink, InMemoryCache, useLazyQuery } from '@apollo/client';
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { completeSignIn, signIn, type PortalConfig, type Session } from './auth.ts';
import { PURPOSES, SINGLE_VIEW } from './operations.ts';

type State = { kind: 'loading' } | { kind: 'signed-out'; config: PortalConfig; problem?: string } | { kind: 'signed-in'; config: PortalConfig; session: Session } | { kind: 'broken'; problem: string };

export function App() {
  const [state, setState] = useState<State>({ kind: 'loading' });
  useEffect(() => {
    void (async () => {
      let config: PortalConfig;
      try {
        config = (await (await fetch('/portal/config.json')).json()) as PortalConfig;
      } catch {
        return setState({ kind: 'broken', problem: 'The portal cannot reach its router. Try again later.' });
      }
      try {
        const session = await completeSignIn(config);
        setState(session ? { kind: 'signed-in', config, session } : { kind: 'signed-out', config });
      } catch (error) {
        setState({ kind: 'signed-out', config, problem: error instanceof Error ? error.message : String(error) });
      }
    })();
  }, []);

  return (
    <>
      <a className="skip-link" href="#main">Skip to main content</a>
      <header className="header">
        <span className="service">MAIS single view{state.kind !== 'loading' && state.kind !== 'broken' ? ` – ${state.config.la}` : ''}</span>
        {state.kind === 'signed-in' ? (
          <span className="account">
            {state.session.name}{' '}
            <button type="button" className="link-button" onClick={() => setState({ kind: 'signed-out', config: state.config })}>
              Sign out
            </button>
          </span>
        ) : null}
      </header>
      <main id="main" className="main" tabIndex={-1}>
        {state.kind === 'loading' ? <p>Loading…</p> : null}
        {state.kind === 'broken' ? <ErrorSummary problems={[state.problem]} /> : null}
        {state.kind === 'signed-out' ? (
          <>
            {state.problem ? <ErrorSummary problems={[state.problem]} /> : null}
            <h1>Sign in</h1>
            <p>Sign in with your {state.config.la} account to see what agencies hold about a child. Every look is recorded with the purpose you give.</p>
            <button type="button" className="button" onClick={() => void signIn(state.config)}>
              Sign in
            </button>
          </>
        ) : null}
        {state.kind === 'signed-in' ? <SignedIn session={state.session} /> : null}
      </main>
    </>
  );
}

function ErrorSummary({ problems }: { problems: string[] }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => ref.current?.focus(), [problems]);
  return (
    <div className="error-summary" role="alert" tabIndex={-1} ref={ref}>
      <h2>There is a problem</h2>
      <ul>
        {problems.map((p) => (
          <li key={p}>{p}</li>
        ))}
      </ul>
    </div>
  );
}

function SignedIn({ session }: { session: Session }) {
  const client = useMemo(
    () =>
      new ApolloClient({
        link: new HttpLink({ uri: '/graphql', headers: { authorization: `Bearer ${session.accessToken}` } }),
        // Nothing about a child is kept after it is shown.
        cache: new InMemoryCache({ addTypename: false }),
        defaultOptions: { query: { fetchPolicy: 'no-cache', errorPolicy: 'all' }, watchQuery: { fetchPolicy: 'no-cache', errorPolicy: 'all' } },
      }),
    [session.accessToken],
  );
  return (
    <ApolloProvider client={client}>
      <Lookup />
    </ApolloProvider>
  );
}

interface GraphQLProblem {
  message: string;
  path?: readonly (string | number)[];
  extensions?: { code?: string; source?: string; field?: string };
}

function Lookup() {
  const [nhsNumber, setNhsNumber] = useState('');
  const [purpose, setPurpose] = useState('');
  const [breakGlass, setBreakGlass] = useState(false);
  const [reason, setReason] = useState('');
  const [problems, setProblems] = useState<string[]>([]);
  const [run, { data, error, loading, refetch, called }] = useLazyQuery(SINGLE_VIEW);

  function submit(event: FormEvent) {
    event.preventDefault();
    const found: string[] = [];
    const digits = nhsNumber.replace(/[\s-]/g, '');
    if (!/^\d{10}$/.test(digits)) found.push('Enter an NHS number of 10 digits');
    if (!purpose) found.push('Choose why you are looking');
    if (breakGlass && reason.trim().length < 20) found.push('Give the reason for breaking glass in at least 20 characters');
    setProblems(found);
    if (found.length === 0) void run({ variables: { nhsNumber: digits, purpose, ...(breakGlass ? { breakGlassReason: reason.trim() } : {}) } });
  }

  const graphQLErrors = (error?.graphQLErrors ?? []) as readonly GraphQLProblem[];
  const refused = graphQLErrors.find((e) => ['UNAUTHENTICATED', 'BAD_USER_INPUT', 'INVALID_NHS_NUMBER', 'RATE_LIMITED'].includes(e.extensions?.code ?? '') || (e.extensions?.code === 'FORBIDDEN' && (e.path?.length ?? 0) <= 1));
  const chosen = PURPOSES.find((p) => p.value === purpose);
  return (
    <>
      <h1>Find a child</h1>
      {problems.length > 0 ? <ErrorSummary problems={problems} /> : null}
      <form onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor="nhs-number">NHS number</label>
          <input id="nhs-number" name="nhsNumber" inputMode="numeric" autoComplete="off" className="input-10" value={nhsNumber} onChange={(e) => setNhsNumber(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="purpose">Why are you looking?</label>
          <select id="purpose" name="purpose" value={purpose} onChange={(e) => setPurpose(e.target.value)} aria-describedby="purpose-basis">
            <option value="">Choose a purpose</option>
            {PURPOSES.map((p) => (
              <option key={p.value} value={p.value}>
                {p.label}
              </option>
            ))}
          </select>
          <p id="purpose-basis" className="hint">
            {chosen ? `Statutory basis: ${chosen.basis}` : 'You only see what this purpose allows.'}
          </p>
        </div>
        <div className="field">
          <input id="break-glass" type="checkbox" checked={breakGlass} onChange={(e) => setBreakGlass(e.target.checked)} />{' '}
          <label htmlFor="break-glass" className="inline">
            Break glass: I need the full record of a child I am not allocated to
          </label>
          {breakGlass ? (
            <div className="warning">
              <p>
                <strong>Breaking glass is recorded and reviewed by your information governance officer.</strong>
              </p>
              <label htmlFor="reason">Reason</label>
              <textarea id="reason" name="reason" rows={3} value={reason} onChange={(e) => setReason(e.target.value)} />
            </div>
          ) : null}
        </div>
        <button type="submit" className="button">
          Show the single view
        </button>
      </form>
      {loading ? <p role="status">Asking every source…</p> : null}
      {refused ? <ErrorSummary problems={[refused.message]} /> : null}
      {called && !loading && data?.child === null && !refused ? <p role="status">No child with that NHS number is known to {`this LA's`} sources.</p> : null}
      {data?.child ? <SingleView child={data.child} problems={graphQLErrors} retry={() => void refetch()} /> : null}
    </>
  );
}

/* eslint-disable @typescript-eslint/no-explicit-any */
function SingleView({ child, problems, retry }: { child: any; problems: readonly GraphQLProblem[]; retry(): void }) {
  const withheld = (field: string) => problems.some((p) => p.extensions?.code === 'FORBIDDEN' && p.path?.join('.').startsWith(`child.${field}`));
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
              <strong>{source}</strong> is unavailable: what it holds is not shown.
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
        <dd>{withheld('demographics') ? <Withheld /> : (child.demographics?.dateOfBirth ?? 'Not known')}</dd>
      </dl>
      <ul className="badges" aria-label="Summary">
        {badges.map(([label, on]) => (
          <li key={label} className={on ? 'badge on' : 'badge'}>
            {label}: {on === undefined ? 'not shown' : on ? 'yes' : 'no'}
          </li>
        ))}
      </ul>

      <h3>Timeline</h3>
      {withheld('socialCare') && events.length === 0 ? <Withheld /> : events.length === 0 ? <p>No events.</p> : (
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
      {withheld('locations') ? <Withheld /> : (child.locations ?? []).length === 0 ? <p>None known.</p> : (
        <ul>
          {(child.locations ?? []).map((l: any, i: number) => (
            <li key={i}>{l.custodian.name}: {l.recordType} (last confirmed {l.lastSeen}{l.stale ? ', out of date' : ''})</li>
          ))}
        </ul>
      )}

      <h3>Shared by other local authorities</h3>
      {withheld('sharedRecords') ? <Withheld /> : (child.sharedRecords ?? []).length === 0 ? <p>None shared.</p> : (
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

function Withheld() {
  return <p className="withheld">Withheld for this purpose</p>;
}
