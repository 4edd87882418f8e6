// Starts an LA data subgraph on a free port over a freshly seeded LA store, with a router key pair
// to sign internal tokens as the LA router does (and a stranger's key, to sign tokens that must fail).
import { once } from 'node:events';
import { exportJWK, generateKeyPair } from 'jose';
import { openStore, type LocalClient, type Store } from '../../lib/db/store.ts';
import { useInternalTokenSigner, useInternalTokenVerifier, type AccessDecision } from '../../lib/internal-token.ts';
import type { Subgraph } from '../../lib/graphql/subgraph.ts';
import type { LaSubgraphParts } from '../../subgraphs/la-common/la-subgraph.ts';
import { seedLocalStore } from '../../sandbox/seed.ts';
import { freshDatabase } from './database.ts';
import { freePort } from './ports.ts';
import { TEST_AS_OF, testPopulation } from './population.ts';

export const ROUTER_ISSUER = 'mais-router:northshire';

export interface TestLaSubgraph {
  url: string;
  store: Store<LocalClient>;
  /** The LA store's PostgreSQL URL, when the tests run against PostgreSQL (TEST_DATABASE_URL). */
  databaseUrl: string | undefined;
  populationDir: string;
  /** A token as the router signs one: for one call, bound to `child` when given (a request about no child names none). */
  token(decision?: AccessDecision, audience?: string, child?: string): Promise<string>;
  /** Each child's entity as the router asks for it: one request each, with a token bound to that child. */
  entities(query: string, nhsNumbers: readonly string[], decision?: AccessDecision): Promise<{ data?: any; errors?: any[] }[]>;
  strangerToken(): Promise<string>;
  /** The router key's signer, as the LA router holds it. */
  signer: ReturnType<typeof useInternalTokenSigner>;
  graphql(query: string, variables: Record<string, unknown>, token?: string): Promise<{ status: number; body: { data?: any; errors?: any[] } }>;
  close(): Promise<void>;
}

async function signer() {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  return {
    sign: useInternalTokenSigner({ issuer: ROUTER_ISSUER, privateKey: { ...(await exportJWK(privateKey)), kid: 'router-1' } }),
    publicJwk: { ...(await exportJWK(publicKey)), kid: 'router-1' },
  };
}

export async function startLaSubgraph(
  kind: 'csc' | 'education',
  create: (parts: LaSubgraphParts) => Promise<Subgraph>,
  options: { children: number; seed: number; onQuery?: (sql: string) => void },
): Promise<TestLaSubgraph> {
  const population = await testPopulation(options.children, options.seed);
  const database = await freshDatabase();
  const store = await openStore({ kind: 'local', dataDir: database.dataDir, ...(database.databaseUrl ? { databaseUrl: database.databaseUrl } : {}), ...(options.onQuery ? { onQuery: options.onQuery } : {}) });
  await seedLocalStore(store.prisma, population.dir, 'northshire');
  const router = await signer();
  const stranger = await signer();
  const verifier = useInternalTokenVerifier({ issuer: ROUTER_ISSUER, audience: `northshire/${kind}`, jwks: { keys: [router.publicJwk] } });
  // Relative dates count from the test population's reference date, not the clock: the same answers on any day.
  const { server, stop } = await create({ prisma: store.prisma, verifier, today: () => new Date(`${TEST_AS_OF}T12:00:00Z`) });
  const port = await freePort();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${port}/graphql`;
  const claims = (decision: AccessDecision, child?: string) => ({ sub: 'olivia.bailey', roles: ['csc.practitioner'], purpose: 'CHILD_PROTECTION_ENQUIRY', decision, categories: ['*'], ...(child ? { child } : {}) });
  const token = (decision: AccessDecision = 'FULL', audience = `northshire/${kind}`, child?: string) => router.sign.sign(audience, claims(decision, child));
  const graphql = async (query: string, variables: Record<string, unknown>, bearer?: string) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, body: (await response.json()) as { data?: any; errors?: any[] } };
  };
  return {
    url,
    store,
    databaseUrl: database.databaseUrl,
    populationDir: population.dir,
    token,
    async entities(query, nhsNumbers, decision = 'FULL') {
      const answers = [];
      for (const nhsNumber of nhsNumbers) answers.push((await graphql(query, { reps: [{ __typename: 'Child', nhsNumber }] }, await token(decision, undefined, nhsNumber))).body);
      return answers;
    },
    strangerToken: () => stranger.sign.sign(`northshire/${kind}`, claims('FULL')),
    signer: router.sign,
    graphql,
    async close() {
      await stop();
      await store.close();
      await database.drop();
    },
  };
}
