// The portal's shell: sign-in and sign-out at the LA's identity provider, the caseworker's pages (find a
// child, the single view) and the information-governance officer's (audit), chosen by role. Every
// operation is sent by its trusted document id, never as text.
import { ApolloClient, ApolloProvider, HttpLink, InMemoryCache } from '@apollo/client';
import { createPersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { generatePersistedQueryIdsAtRuntime } from '@apollo/persisted-query-lists';
import { useEffect, useMemo, useState } from 'react';
import { Audit } from './Audit.tsx';
import { completeSignIn, sha256Hex, signIn, signOut, type PortalConfig, type Session } from './auth.ts';
import { Find } from './Find.tsx';
import { moreResultsLink } from './more-results.ts';
import { ErrorSummary } from './ui.tsx';

type State = { kind: 'loading' } | { kind: 'signed-out'; config: PortalConfig; problem?: string } | { kind: 'signed-in'; config: PortalConfig; session: Session } | { kind: 'broken'; problem: string };
type Page = 'find' | 'audit';

const IG_OFFICER = 'ig.officer';
const CHILD_ROLES = ['csc.practitioner', 'csc.manager', 'education.officer'];

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
      <a className="skip-link" href="#main">
        Skip to main content
      </a>
      <header className="header">
        <span className="service">MAIS single view{state.kind !== 'loading' && state.kind !== 'broken' ? ` – ${state.config.la}` : ''}</span>
        {state.kind === 'signed-in' ? (
          <span className="account">
            {state.session.name}{' '}
            <button type="button" className="link-button" onClick={() => signOut(state.config, state.session)}>
              Sign out
            </button>
          </span>
        ) : null}
      </header>
      {state.kind === 'signed-in' ? <SignedIn session={state.session} /> : (
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
        </main>
      )}
    </>
  );
}

function SignedIn({ session }: { session: Session }) {
  const client = useMemo(
    () =>
      new ApolloClient({
        // Operations go by id (SHA-256 of the text the build extracted); the router holds the text.
        link: moreResultsLink.concat(createPersistedQueryLink(generatePersistedQueryIdsAtRuntime({ sha256: sha256Hex }))).concat(new HttpLink({ uri: '/graphql', headers: { authorization: `Bearer ${session.accessToken}` } })),
        // Nothing about a child is kept after it is shown.
        cache: new InMemoryCache(),
        defaultOptions: { query: { fetchPolicy: 'no-cache', errorPolicy: 'all' }, watchQuery: { fetchPolicy: 'no-cache', errorPolicy: 'all' } },
      }),
    [session.accessToken],
  );
  const pages: Page[] = [...(session.roles.some((r) => CHILD_ROLES.includes(r)) ? (['find'] as const) : []), ...(session.roles.includes(IG_OFFICER) ? (['audit'] as const) : [])];
  const [page, setPage] = useState<Page | undefined>(pages[0]);
  const titles: Record<Page, string> = { find: 'Find a child', audit: 'Audit' };
  useEffect(() => {
    document.title = `${page ? titles[page] : 'No access'} – MAIS single view`;
  });
  return (
    <ApolloProvider client={client}>
      {pages.length > 1 ? (
        <nav className="nav" aria-label="Portal">
          <ul>
            {pages.map((p) => (
              <li key={p}>
                <button type="button" className="link-button" aria-current={p === page ? 'page' : undefined} onClick={() => setPage(p)}>
                  {titles[p]}
                </button>
              </li>
            ))}
          </ul>
        </nav>
      ) : null}
      <main id="main" className="main" tabIndex={-1}>
        {page === 'find' ? <Find /> : page === 'audit' ? <Audit /> : <p>Your account has no role that may use this portal. Ask your information governance officer.</p>}
      </main>
    </ApolloProvider>
  );
}
