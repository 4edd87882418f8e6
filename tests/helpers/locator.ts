// Starts the locator subgraph (FIND) on a free port over a fresh central store with test
// organisations, each with its own key pair, and DfE's gateway to issue their access tokens, so tests
// call it as those organisations do.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { openStore, type CentralClient, type Store } from '../../lib/db/store.ts';
import type { OrganisationType } from '../../lib/dsa/policy.ts';
import { useDfeTokenClient } from '../../lib/dfe-token.ts';
import { createGateway, type Gateway } from '../../gateway/server.ts';
import type { PseudonymKey } from '../../gateway/pseudonym.ts';
import { CentralDirectory } from '../../gateway/directory.ts';
import { LOCATOR_AUDIENCE } from '../../schema/audiences.ts';
import { createLocatorService } from '../../subgraphs/locator/service.ts';
import { freshDatabase, type TestDatabase } from './database.ts';
import { freePort } from './ports.ts';

/** Each LA's systems as registered at DfE (FIND takes registrations from these only). */
const laSystems = (code: string) => [`${code}-csc`, `${code}-education`, `${code}-lcs`];

export const TEST_ORGANISATIONS: { code: string; name: string; type: OrganisationType; scopes: string[]; systems: string[] }[] = [
  { code: 'northshire', name: 'Northshire County Council', type: 'LA', scopes: ['find', 'register', 'relay', 'match'], systems: laSystems('northshire') },
  { code: 'southshire', name: 'Southshire Borough Council', type: 'LA', scopes: ['find', 'register', 'relay', 'match'], systems: laSystems('southshire') },
  { code: 'eastshire', name: 'Eastshire Council', type: 'LA', scopes: ['find', 'register'], systems: laSystems('eastshire') },
  { code: 'north-icb', name: 'NHS North Integrated Care Board', type: 'HEALTH', scopes: ['find', 'register'], systems: ['north-icb-gp'] },
  { code: 'dfe', name: 'Department for Education', type: 'DFE', scopes: ['find'], systems: [] },
];

export interface GraphqlReply {
  status: number;
  body: { data?: any; errors?: any[] };
}

export interface Replica {
  url: string;
  directory: CentralDirectory;
  close(): Promise<void>;
}

export interface TestLocator {
  url: string;
  /** FIND as organisations reach it: through DfE's gateway. */
  gatewayUrl: string;
  /** DfE's gateway: its base URL (the issuer), and the gateway itself. */
  issuer: string;
  gateway: Gateway;
  database: TestDatabase;
  store: Store<CentralClient>;
  directory: CentralDirectory;
  keys: PseudonymKey[];
  privateKeys: Map<string, JWK>;
  /** A DfE access token for an organisation, from DfE's token endpoint as its own tools get one. */
  credential(org: string, audience?: string): Promise<string>;
  graphql(query: string, variables?: Record<string, unknown>, options?: { as?: string; purpose?: string; token?: string | null; url?: string }): Promise<GraphqlReply>;
  /** Another replica over the same store, with its own directory. */
  replica(options?: { now?: () => number }): Promise<Replica>;
  close(): Promise<void>;
}

async function serve(store: Store<CentralClient>, keys: PseudonymKey[], dfe: { issuer: string; jwks: URL }, now?: () => number): Promise<Replica> {
  const directory = new CentralDirectory({ sql: store.sql, keys, refreshMs: 200, ...(now ? { now } : {}) });
  await directory.start();
  const { server, stop } = await createLocatorService({ sql: store.sql, directory, dfe, ...(now ? { now } : {}) });
  const port = await freePort();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    directory,
    async close() {
      directory.stop();
      await stop();
    },
  };
}

export async function startLocator(options: { now?: () => number; gatewayRateLimitPerMinute?: number; relay?: { timeoutMs?: number; pingMs?: number }; gatewayReaches?: (locatorUrl: string) => Promise<string> } = {}): Promise<TestLocator> {
  const database = await freshDatabase();
  const store = await openStore({ kind: 'central', dataDir: database.dataDir, poolSize: 8, ...(database.databaseUrl ? { databaseUrl: database.databaseUrl } : {}) });
  const privateKeys = new Map<string, JWK>();
  for (const org of TEST_ORGANISATIONS) {
    const alg = org.type === 'HEALTH' ? 'RS512' : 'ES256';
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    privateKeys.set(org.code, { ...(await exportJWK(privateKey)), kid: `${org.code}-1`, alg });
    await store.prisma.organisation.create({ data: { ...org, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: `${org.code}-1`, alg, use: 'sig' }] } as never } });
  }
  const keys = [{ version: 1, secret: randomBytes(32) }];
  // DfE's gateway over the same store issues the access tokens the locator takes, and passes calls on to it.
  const gatewayPort = await freePort();
  const issuer = `http://127.0.0.1:${gatewayPort}`;
  const dfe = { issuer, jwks: new URL(`${issuer}/.well-known/jwks.json`) };
  const replicas: Replica[] = [];
  const first = await serve(store, keys, dfe, options.now);
  replicas.push(first);
  const { privateKey: dfeKey } = await generateKeyPair('ES256', { extractable: true });
  const gateway = await createGateway({
    sql: store.sql,
    issuer,
    signingKey: { ...(await exportJWK(dfeKey)), kid: 'dfe-test', alg: 'ES256' },
    refreshMs: 200,
    // Where the gateway reaches the locator: directly, or through what a test puts between them.
    services: { locator: options.gatewayReaches ? await options.gatewayReaches(first.url) : first.url },
    ...(options.gatewayRateLimitPerMinute ? { rateLimitPerMinute: options.gatewayRateLimitPerMinute } : {}),
    // The relay over the first replica's directory: the same store, keys and agreements.
    ...(options.relay ? { relay: { directory: first.directory, ...options.relay } } : {}),
  });
  gateway.server.listen(gatewayPort, '127.0.0.1');
  await once(gateway.server, 'listening');
  const credential = (org: string, audience = LOCATOR_AUDIENCE) => useDfeTokenClient({ tokenUrl: `${issuer}/oauth2/token`, organisation: org, privateKey: privateKeys.get(org)!, resource: audience }).token();
  return {
    url: first.url,
    gatewayUrl: `${issuer}/subgraphs/locator/graphql`,
    issuer,
    gateway,
    database,
    store,
    directory: first.directory,
    keys,
    privateKeys,
    credential,
    async graphql(query, variables = {}, request = {}) {
      const token = request.token === undefined ? await credential(request.as ?? 'northshire') : request.token;
      const response = await fetch(request.url ?? first.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(request.purpose ? { 'mais-purpose': request.purpose } : {}),
        },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, body: (await response.json()) as GraphqlReply['body'] };
    },
    async replica(replicaOptions = {}) {
      const replica = await serve(store, keys, dfe, replicaOptions.now);
      replicas.push(replica);
      return replica;
    },
    async close() {
      for (const replica of replicas) await replica.close();
      await gateway.stop();
      await store.close();
      await database.drop();
    },
  };
}
