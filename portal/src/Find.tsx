// Finding a child: the purpose first (with its statutory basis) and break-glass when needed; then an
// NHS number straight to the single view, or a search by name, date of birth and postcode. A local
// record without an NHS number is shown as unmatched, with "Match now": MATCH's band, score and
// candidates, and a confirmation before a potential match is linked.
import { useLazyQuery, useMutation } from '@apollo/client';
import { useState, type FormEvent } from 'react';
import { moreResultsOf, type MoreResults } from './more-results.ts';
import { BREAK_GLASS_CATEGORIES, FIND_CHILDREN, LINK_NHS_NUMBER, MATCH_CHILD, PURPOSES, SINGLE_VIEW } from './operations.ts';
import { SingleView } from './SingleView.tsx';
import { DateInput, emptyDate, ErrorSummary, isEmptyDate, isoFromParts, NHS_NUMBER_PROBLEM, nhsNumberDigits, problemsOf, refusal, TextField, type DateParts } from './ui.tsx';

/** As the router counts them (la-router/break-glass.ts): letters a person can see, of enough different ones. */
const BREAK_GLASS_MIN_LETTERS = 20;
const BREAK_GLASS_MIN_DIFFERENT = 6;
function visibleLetters(reason: string): string[] {
  return reason.normalize('NFC').replace(/[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\p{Co}\p{Cn}\p{Cs}]/gu, '').match(/\p{L}/gu) ?? [];
}

interface SearchHit {
  personId: string;
  nhsNumber: string | null;
  matched: boolean;
  givenName: string | null;
  familyName: string | null;
  dateOfBirth: string | null;
  postcode: string | null;
  score: number;
}

export function Find() {
  const [purpose, setPurpose] = useState('');
  const [breakGlass, setBreakGlass] = useState(false);
  const [reason, setReason] = useState('');
  const [category, setCategory] = useState('');
  const [problems, setProblems] = useState<string[]>([]);
  const [nhsNumber, setNhsNumber] = useState('');
  const [search, setSearch] = useState({ givenName: '', familyName: '', postcode: '' });
  const [dob, setDob] = useState<DateParts>(emptyDate);
  const [matching, setMatching] = useState<SearchHit | null>(null);
  // A retry shows that every source is being asked again.
  const [view, viewResult] = useLazyQuery(SINGLE_VIEW, { notifyOnNetworkStatusChange: true });
  const [find, findResult] = useLazyQuery(FIND_CHILDREN);
  const chosen = PURPOSES.find((p) => p.value === purpose);

  /** The purpose (and break-glass reason) every request needs; lists what is missing. */
  function purposeProblems(): string[] {
    const found: string[] = [];
    if (!purpose) found.push('Choose why you are looking');
    if (breakGlass && !category) found.push('Choose the kind of emergency you are breaking glass for');
    const letters = visibleLetters(reason);
    if (breakGlass && letters.length < BREAK_GLASS_MIN_LETTERS) found.push(`Give the reason for breaking glass in at least ${BREAK_GLASS_MIN_LETTERS} letters`);
    else if (breakGlass && new Set(letters.map((l) => l.toLocaleLowerCase('en-GB'))).size < BREAK_GLASS_MIN_DIFFERENT) found.push('Give the reason for breaking glass in words');
    return found;
  }

  function showChild(number: string) {
    const found = purposeProblems();
    const digits = nhsNumberDigits(number);
    if (!digits) found.push(NHS_NUMBER_PROBLEM);
    setProblems(found);
    if (found.length > 0 || !digits) return;
    setMatching(null);
    void view({ variables: { nhsNumber: digits, purpose, ...(breakGlass ? { breakGlassReason: reason.trim(), breakGlassCategory: category } : {}) } });
  }

  function submitNhsNumber(event: FormEvent) {
    event.preventDefault();
    showChild(nhsNumber);
  }

  function submitSearch(event: FormEvent) {
    event.preventDefault();
    const found = purposeProblems();
    const dateOfBirth = isEmptyDate(dob) ? null : isoFromParts(dob);
    if (!isEmptyDate(dob) && !dateOfBirth) found.push('Date of birth must be a real date, for example 27 3 2015');
    // The router's rule: a given or family name, and a date of birth.
    if (!(search.givenName.trim() || search.familyName.trim()) || !dateOfBirth) found.push('Give a given or family name and a date of birth');
    setProblems(found);
    if (found.length > 0) return;
    setMatching(null);
    const input = { ...Object.fromEntries(Object.entries(search).filter(([, v]) => v.trim()).map(([k, v]) => [k, v.trim()])), ...(dateOfBirth ? { dateOfBirth } : {}) };
    void find({ variables: { input, purpose } });
  }

  const viewProblems = problemsOf(viewResult.error);
  const viewRefusal = refusal(viewResult.error);
  const findRefusal = refusal(findResult.error);
  const hits = (findResult.data?.findChildren ?? []) as SearchHit[];

  return (
    <>
      <h1>Find a child</h1>
      {problems.length > 0 ? <ErrorSummary problems={problems} /> : null}
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
          {chosen ? `Statutory basis: ${chosen.basis}` : 'You only see what this purpose allows. Every search and view is recorded with it.'}
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
            <label htmlFor="break-glass-category">Kind of emergency</label>
            <select id="break-glass-category" name="break-glass-category" value={category} onChange={(e) => setCategory(e.target.value)}>
              <option value="">Choose one</option>
              {BREAK_GLASS_CATEGORIES.map((c) => (
                <option key={c.value} value={c.value}>
                  {c.label}
                </option>
              ))}
            </select>
            <label htmlFor="reason">Reason</label>
            <textarea id="reason" name="reason" rows={3} value={reason} onChange={(e) => setReason(e.target.value)} />
          </div>
        ) : null}
      </div>

      <div className="columns">
        <form onSubmit={submitNhsNumber} noValidate className="panel" aria-labelledby="by-nhs-number">
          <h2 id="by-nhs-number">By NHS number</h2>
          <TextField id="nhs-number" label="NHS number" className="input-10" numeric value={nhsNumber} onChange={setNhsNumber} />
          <button type="submit" className="button">
            Show the single view
          </button>
        </form>

        <form onSubmit={submitSearch} noValidate className="panel" aria-labelledby="by-details">
          <h2 id="by-details">By name, date of birth and postcode</h2>
          <p className="hint">Give a given or family name and a date of birth. Misspellings and familiar forms of names are found too.</p>
          <TextField id="given-name" label="Given name" value={search.givenName} onChange={(givenName) => setSearch({ ...search, givenName })} />
          <TextField id="family-name" label="Family name" value={search.familyName} onChange={(familyName) => setSearch({ ...search, familyName })} />
          <DateInput id="dob" legend="Date of birth" hint="For example, 27 3 2015" value={dob} onChange={setDob} />
          <TextField id="postcode" label="Postcode" className="input-10" value={search.postcode} onChange={(postcode) => setSearch({ ...search, postcode })} />
          <button type="submit" className="button">
            Search
          </button>
        </form>
      </div>

      {findResult.loading ? <p role="status">Searching this LA’s records…</p> : null}
      {findRefusal ? <ErrorSummary problems={[findRefusal]} /> : null}
      {findResult.called && !findResult.loading && findResult.data ? (
        <SearchResults hits={hits} more={moreResultsOf('FindChildren')} onView={showChild} onMatch={(hit) => setMatching(hit)} />
      ) : null}
      {matching ? <MatchPanel key={matching.personId} hit={matching} purpose={purpose} onView={showChild} /> : null}

      {viewResult.loading ? <p role="status">Asking every source…</p> : null}
      {viewRefusal ? <ErrorSummary problems={[viewRefusal]} /> : null}
      {viewResult.called && !viewResult.loading && viewResult.data?.child === null && !viewRefusal ? <p role="status">No source of this LA knows a child with that NHS number.</p> : null}
      {viewResult.data?.child ? <SingleView child={viewResult.data.child} problems={viewProblems} retry={() => void viewResult.refetch()} /> : null}
    </>
  );
}

function SearchResults({ hits, more, onView, onMatch }: { hits: SearchHit[]; more: MoreResults | null; onView(nhsNumber: string): void; onMatch(hit: SearchHit): void }) {
  if (hits.length === 0) return <p role="status">No record of this LA fits. Check the spelling, or search by fewer details.</p>;
  return (
    <section aria-labelledby="results-heading">
      <h2 id="results-heading">
        {more ? `The closest ${hits.length} records` : `${hits.length} ${hits.length === 1 ? 'record' : 'records'} found`}
      </h2>
      {more ? <p className="warning">More records fit than the {more.limit} shown. Add details (a given name, a postcode) to narrow the search.</p> : null}
      <table className="results">
        <caption className="visually-hidden">Records of this LA that fit the search, closest first</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Date of birth</th>
            <th scope="col">Postcode</th>
            <th scope="col">NHS number</th>
            <th scope="col">
              <span className="visually-hidden">Action</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {hits.map((hit) => {
            const name = `${hit.givenName ?? ''} ${hit.familyName ?? ''}`.trim() || 'Name not recorded';
            return (
              <tr key={hit.personId}>
                <td>{name}</td>
                <td>{hit.dateOfBirth ?? 'Not recorded'}</td>
                <td>{hit.postcode ?? 'Not recorded'}</td>
                <td>{hit.matched ? hit.nhsNumber : <strong className="tag">Not matched</strong>}</td>
                <td>
                  {hit.matched ? (
                    <button type="button" className="button secondary" onClick={() => onView(hit.nhsNumber!)} aria-label={`View ${name}`}>
                      View
                    </button>
                  ) : (
                    <button type="button" className="button secondary" onClick={() => onMatch(hit)} aria-label={`Match ${name} now`}>
                      Match now
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

const BANDS: Record<string, string> = {
  MATCH: 'Match: safe to link',
  POTENTIAL_MATCH: 'Potential match: check it is this child before linking',
  LOW_CONFIDENCE: 'Low confidence: not safe to link',
  MANY_MATCH: 'More than one child fits: add or correct details in the record',
  NO_MATCH: 'No match: PDS knows no child with these details',
  ERROR: 'MATCH could not ask PDS: try again later',
};

interface FieldLevel {
  field: string;
  level: string;
}

/** The record's details as a caseworker calls them. */
const DETAILS: Record<string, string> = { givenName: 'Given name', familyName: 'Family name', dateOfBirth: 'Date of birth', gender: 'Sex', postcode: 'Postcode' };
const detail = (field: string) => DETAILS[field] ?? field;
/** How a detail agreed, in words (agreement levels are MATCH's: exact, one-edit, historic, …). */
const AGREEMENT: Record<string, string> = {
  exact: 'the same',
  'previous-name': 'an earlier name',
  'one-edit': 'one letter different',
  prefix: 'starts the same',
  'sound-alike': 'sounds the same',
  'familiar-form': 'a familiar form',
  transposed: 'given and family name swapped',
  'day-month-swapped': 'day and month swapped',
  historic: 'an earlier address',
  'same-district': 'the same postcode district',
  agree: 'the same',
};

const partsFromIso = (iso: string | null): DateParts => {
  const [year = '', month = '', day = ''] = (iso ?? '').split('-');
  return iso ? { day: String(Number(day)), month: String(Number(month)), year } : emptyDate;
};

/**
 * MATCH for one unmatched record: the record's details, which the caseworker may correct (a misspelt
 * name, an old postcode) before asking; then the band, score and candidates, and a link only for a
 * MATCH or a POTENTIAL_MATCH the caseworker confirms.
 */
function MatchPanel({ hit, purpose, onView }: { hit: SearchHit; purpose: string; onView(nhsNumber: string): void }) {
  const [details, setDetails] = useState({ givenName: hit.givenName ?? '', familyName: hit.familyName ?? '', postcode: hit.postcode ?? '' });
  const [dob, setDob] = useState<DateParts>(partsFromIso(hit.dateOfBirth));
  const [confirmed, setConfirmed] = useState(false);
  const [problems, setProblems] = useState<string[]>([]);
  const [match, matchResult] = useLazyQuery(MATCH_CHILD);
  const [link, linkResult] = useMutation(LINK_NHS_NUMBER, { errorPolicy: 'all' });
  const name = `${hit.givenName ?? ''} ${hit.familyName ?? ''}`.trim();
  // Only a match asked with the record's own details can be linked (csc checks MATCH's receipt against the record).
  const [askedWithRecord, setAskedWithRecord] = useState(true);
  const result = matchResult.data?.matchChild as
    | {
        status: string;
        nhsNumber: string | null;
        score: number;
        strategy: string | null;
        receipt: string | null;
        explanation: string;
        agreed: FieldLevel[];
        disagreed: string[];
        candidates: { nhsNumber: string; score: number; strategy: string; fieldAgreement: FieldLevel[] }[];
      }
    | undefined;
  const linked = linkResult.data?.linkNhsNumber as { nhsNumber: string } | undefined;
  const matchRefusal = refusal(matchResult.error);
  const linkRefusal = refusal(linkResult.error);

  function ask(event: FormEvent) {
    event.preventDefault();
    const dateOfBirth = isoFromParts(dob);
    const found: string[] = [];
    if (!details.givenName.trim()) found.push('Enter the given name');
    if (!details.familyName.trim()) found.push('Enter the family name');
    if (!dateOfBirth) found.push('Date of birth must be a real date');
    setProblems(found);
    setConfirmed(false);
    if (found.length > 0) return;
    const same = (a: string | null | undefined, b: string) => (a ?? '').trim().replace(/\s+/g, ' ').toUpperCase() === b.trim().replace(/\s+/g, ' ').toUpperCase();
    setAskedWithRecord(same(hit.givenName, details.givenName) && same(hit.familyName, details.familyName) && dateOfBirth === hit.dateOfBirth && same(hit.postcode?.replace(/\s/g, ''), details.postcode.replace(/\s/g, '')));
    void match({ variables: { purpose, input: { givenName: details.givenName.trim(), familyName: details.familyName.trim(), dateOfBirth, ...(details.postcode.trim() ? { postcode: details.postcode.trim() } : {}) } } });
  }

  function submitLink(event: FormEvent) {
    event.preventDefault();
    if (!result?.nhsNumber) return;
    if (result.status === 'POTENTIAL_MATCH' && !confirmed) return setProblems(['Confirm that this is the same child before linking']);
    setProblems([]);
    // MATCH's receipt, passed on unchanged: the band and score linked are the ones it signed.
    void link({ variables: { purpose, input: { personId: hit.personId, nhsNumber: result.nhsNumber, receipt: result.receipt, confirmed } } });
  }

  return (
    <section aria-labelledby="match-heading" className="panel match">
      <h2 id="match-heading">Match {name || 'this record'} to an NHS number</h2>
      <p>
        MATCH asks NHS England’s Personal Demographics Service with this record’s details. Nothing about the child is kept by MATCH.
      </p>
      {problems.length > 0 ? <ErrorSummary problems={problems} /> : null}
      {linked ? null : (
        <form onSubmit={ask} noValidate aria-label="Details to match">
          <p className="hint">These are the record’s details. You may correct a misspelling or an old postcode to see whom MATCH finds, but only a match on the record’s own details can be linked: the record itself is not changed here.</p>
          <div className="columns">
            <TextField id="match-given-name" label="Given name" value={details.givenName} onChange={(givenName) => setDetails({ ...details, givenName })} />
            <TextField id="match-family-name" label="Family name" value={details.familyName} onChange={(familyName) => setDetails({ ...details, familyName })} />
          </div>
          <DateInput id="match-dob" legend="Date of birth" value={dob} onChange={setDob} />
          <TextField id="match-postcode" label="Postcode (optional)" className="input-10" value={details.postcode} onChange={(postcode) => setDetails({ ...details, postcode })} />
          <button type="submit" className={result ? 'button secondary' : 'button'} disabled={matchResult.loading}>
            {result ? 'Ask MATCH again' : 'Ask MATCH'}
          </button>
        </form>
      )}
      {matchResult.loading ? <p role="status">Asking MATCH…</p> : null}
      {matchRefusal ? <ErrorSummary problems={[matchRefusal]} /> : null}
      {result ? (
        <>
          <dl className="summary" aria-label="MATCH result">
            <dt>Band</dt>
            <dd>
              <strong className={`tag band-${result.status.toLowerCase()}`}>{result.status.replace('_', ' ')}</strong> {BANDS[result.status]}
            </dd>
            <dt>Why</dt>
            <dd>{result.explanation}</dd>
            <dt>Score</dt>
            <dd>{result.score.toFixed(3)}</dd>
            {result.nhsNumber ? (
              <>
                <dt>{result.status === 'MATCH' ? 'NHS number' : 'Candidate’s NHS number'}</dt>
                <dd>{result.nhsNumber}</dd>
              </>
            ) : null}
            {result.agreed.length > 0 ? (
              <>
                <dt>Agreed</dt>
                <dd>
                  <ul className="plain">
                    {result.agreed.map((a) => (
                      <li key={a.field}>
                        {detail(a.field)}: {AGREEMENT[a.level] ?? a.level}
                      </li>
                    ))}
                  </ul>
                </dd>
              </>
            ) : null}
            {result.disagreed.length > 0 ? (
              <>
                <dt>Did not agree</dt>
                <dd>{result.disagreed.map(detail).join(', ')}</dd>
              </>
            ) : null}
          </dl>
          {result.candidates.length > 0 ? (
            <table>
              <caption>Candidates PDS returned</caption>
              <thead>
                <tr>
                  <th scope="col">NHS number</th>
                  <th scope="col">Score</th>
                  <th scope="col">How the details agreed</th>
                </tr>
              </thead>
              <tbody>
                {result.candidates.map((c) => (
                  <tr key={c.nhsNumber}>
                    <td>{c.nhsNumber}</td>
                    <td>{c.score.toFixed(3)}</td>
                    <td>{c.fieldAgreement.map((f) => `${f.field}: ${f.level}`).join('; ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          {linkRefusal ? <ErrorSummary problems={[linkRefusal]} /> : null}
          {linked ? (
            <div role="status" className="confirmation">
              <p>
                <strong>Linked.</strong> This record now has NHS number {linked.nhsNumber}.
              </p>
              <button type="button" className="button" onClick={() => onView(linked.nhsNumber)}>
                View the single view
              </button>
            </div>
          ) : result.nhsNumber && result.receipt && !askedWithRecord ? (
            <p className="warning">
              MATCH was asked with details other than this record’s, so this result cannot be linked to it. Correct the record in the case management system, then ask MATCH with its details.
            </p>
          ) : result.nhsNumber && result.receipt ? (
            <form onSubmit={submitLink} noValidate>
              {result.status === 'POTENTIAL_MATCH' ? (
                <div className="field">
                  <input id="confirm-match" type="checkbox" checked={confirmed} onChange={(e) => setConfirmed(e.target.checked)} />{' '}
                  <label htmlFor="confirm-match" className="inline">
                    I have checked the details and this is the same child
                  </label>
                </div>
              ) : null}
              <button type="submit" className="button" disabled={linkResult.loading}>
                Link NHS number {result.nhsNumber} to this record
              </button>
            </form>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
