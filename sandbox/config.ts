// The sandbox's configuration: one typed object, read once from the environment and flags.
import { resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_AS_OF, DEFAULT_CHILDREN, MAX_CHILDREN } from './population/generate.ts';
import { isIsoDay } from '../lib/dates.ts';
import { SANDBOX_LAS } from './population/places.ts';

const port = z.coerce.number().int().min(1).max(65535);

const schema = z.object({
  dataDir: z.string().min(1),
  host: z.string().min(1),
  seed: z.coerce.number().int().min(0),
  children: z.coerce.number().int().min(1).max(MAX_CHILDREN),
  /**
   * The day the synthetic population is as of (yyyy-mm-dd), fixed by default so that the same seed gives
   * the same population on every day. The sandbox's services compute the dates a user sees (attendance
   * over the last year, ...) from it, not from the clock, so the demo reads the same whenever it runs.
   */
  asOf: z.string().refine(isIsoDay, 'must be a date, yyyy-mm-dd'),
  /** Requests a second each application may make of the PDS sandbox (NHS England's default is 5). */
  pdsRateLimit: z.coerce.number().positive(),
  /** DfE's gateway: calls a minute per organisation. */
  gatewayRateLimit: z.coerce.number().int().positive(),
  /** Each LA router: requests a minute per caseworker. */
  routerRateLimit: z.coerce.number().int().positive(),
  /** Each LA router: searches and matches an hour by one caseworker that alert the IG officer. */
  searchAlertThreshold: z.coerce.number().int().positive(),
  ports: z.object({
    gateway: port,
    pds: port,
    matching: port,
    locator: port,
    centralStore: port,
    routers: z.record(z.string(), port),
    laStores: z.record(z.string(), port),
    csc: z.record(z.string(), port),
    education: z.record(z.string(), port),
    idps: z.record(z.string(), port),
  }),
});

export type SandboxConfig = z.infer<typeof schema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Defaults follow CONTRACT.md's ports; every value can be overridden by an environment variable:
 * MAIS_DATA_DIR, MAIS_HOST, MAIS_SEED, MAIS_CHILDREN, MAIS_AS_OF, MAIS_PDS_RATE_LIMIT, MAIS_GATEWAY_RATE_LIMIT, MAIS_ROUTER_RATE_LIMIT, MAIS_GATEWAY_PORT, MAIS_PDS_PORT, MAIS_MATCHING_PORT,
 * MAIS_LOCATOR_PORT, MAIS_CENTRAL_STORE_PORT, and per LA (in capitals) MAIS_<LA>_ROUTER_PORT, MAIS_<LA>_STORE_PORT,
 * MAIS_<LA>_CSC_PORT, MAIS_<LA>_EDUCATION_PORT and MAIS_<LA>_IDP_PORT.
 */
export function loadSandboxConfig(env: NodeJS.ProcessEnv = process.env): SandboxConfig {
  const laPort = (la: string, kind: 'ROUTER' | 'STORE' | 'CSC' | 'EDUCATION' | 'IDP', fallback: number) => env[`MAIS_${la.toUpperCase()}_${kind}_PORT`] ?? fallback;
  const parsed = schema.safeParse({
    dataDir: resolve(env.MAIS_DATA_DIR ?? '.data'),
    host: env.MAIS_HOST ?? '127.0.0.1',
    seed: env.MAIS_SEED ?? 42,
    children: env.MAIS_CHILDREN ?? DEFAULT_CHILDREN,
    asOf: env.MAIS_AS_OF ?? DEFAULT_AS_OF,
    pdsRateLimit: env.MAIS_PDS_RATE_LIMIT ?? 5,
    gatewayRateLimit: env.MAIS_GATEWAY_RATE_LIMIT ?? 6000,
    routerRateLimit: env.MAIS_ROUTER_RATE_LIMIT ?? 600,
    searchAlertThreshold: env.MAIS_SEARCH_ALERT_THRESHOLD ?? 200,
    ports: {
      gateway: env.MAIS_GATEWAY_PORT ?? 4000,
      pds: env.MAIS_PDS_PORT ?? 4010,
      matching: env.MAIS_MATCHING_PORT ?? 4001,
      locator: env.MAIS_LOCATOR_PORT ?? 4002,
      centralStore: env.MAIS_CENTRAL_STORE_PORT ?? 4090,
      routers: Object.fromEntries(SANDBOX_LAS.map((la, i) => [la.code, laPort(la.code, 'ROUTER', 4100 + 100 * i)])),
      laStores: Object.fromEntries(SANDBOX_LAS.map((la, i) => [la.code, laPort(la.code, 'STORE', 4190 + 100 * i)])),
      csc: Object.fromEntries(SANDBOX_LAS.map((la, i) => [la.code, laPort(la.code, 'CSC', 4101 + 100 * i)])),
      education: Object.fromEntries(SANDBOX_LAS.map((la, i) => [la.code, laPort(la.code, 'EDUCATION', 4102 + 100 * i)])),
      idps: Object.fromEntries(SANDBOX_LAS.map((la, i) => [la.code, laPort(la.code, 'IDP', 4103 + 100 * i)])),
    },
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`invalid sandbox configuration: ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

/** The application DfE's MATCH service uses to call PDS, registered with the PDS sandbox. */
export const MATCH_PDS_APPLICATION = 'dfe-match';

export const sandboxPaths = (config: SandboxConfig) => ({
  population: resolve(config.dataDir, 'population'),
  /** Every store's data folder: seeded from the population, so replaced with it. */
  stores: resolve(config.dataDir, 'stores'),
  store: (name: string) => resolve(config.dataDir, 'stores', name),
  /** Private keys of the sandbox's own applications. */
  secrets: resolve(config.dataDir, 'secrets'),
  /** An LA router's public keys, which its subgraphs trust. */
  routerJwks: (la: string) => resolve(config.dataDir, `${la}-router.jwks.json`),
  /** DfE's pseudonym keys (secret). */
  pseudonymKeys: resolve(config.dataDir, 'secrets', 'pseudonym-keys.json'),
  /** An organisation's DfE credential (private key). */
  credentialKey: (org: string) => resolve(config.dataDir, 'secrets', `${org}-dfe.private.jwk.json`),
  /** DfE's own key that signs its access tokens (made by ensureApplicationKey). */
  gatewayKey: resolve(config.dataDir, 'secrets', 'dfe-gateway.private.jwk.json'),
  /** MATCH's key that signs its receipts (made by ensureApplicationKey), and its public half, which LAs' csc subgraphs trust. */
  matchReceiptKey: resolve(config.dataDir, 'secrets', 'dfe-match-receipts.private.jwk.json'),
  matchReceiptJwks: resolve(config.dataDir, 'dfe-match-receipts.jwks.json'),
  /** DfE's organisation registry as the sandbox seeds it (public keys only). */
  organisations: resolve(config.dataDir, 'organisations.json'),
  /** An LA identity provider's signing key, and the secret of its `mais token` client. */
  idpKey: (la: string) => resolve(config.dataDir, 'secrets', `${la}-idp.private.jwk.json`),
  idpCliSecret: (la: string) => resolve(config.dataDir, 'secrets', `${la}-idp-cli.secret`),
  /** The bearer token every service's /metrics asks for (MAIS_METRICS_TOKEN). */
  metricsToken: resolve(config.dataDir, 'secrets', 'metrics.token'),
  /** An LA router's configuration, as the sandbox writes it. */
  routerConfig: (la: string) => resolve(config.dataDir, `${la}-router.json`),
  /** An LA's own data sharing agreement, which its sharing endpoint checks (the one it publishes to DfE). */
  agreement: (la: string) => resolve(config.dataDir, `${la}-agreement.json`),
  /** Applications registered with the PDS sandbox (public keys only). */
  pdsApplications: resolve(config.dataDir, 'pds-applications.json'),
  /** Written while the sandbox runs: which services are up, where, under which process. */
  state: resolve(config.dataDir, 'sandbox.json'),
});
/** DfE's gateway as the sandbox's services reach it: the issuer of DfE access tokens, its token URL and keys, the registry's supergraph, and each DfE service behind it. */
export function dfeUrls(config: SandboxConfig): { issuer: string; token: string; jwks: string; supergraph: string; service(name: string): string } {
  const issuer = `http://${config.host}:${config.ports.gateway}`;
  return {
    issuer,
    token: `${issuer}/oauth2/token`,
    jwks: `${issuer}/.well-known/jwks.json`,
    supergraph: `${issuer}/registry/supergraph`,
    service: (name) => `${issuer}/subgraphs/${name}/graphql`,
  };
}
