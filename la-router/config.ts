// The router's configuration: one typed object, read once from a JSON file (or, for the stock mode,
// from flags), validated with every problem named.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { trustProxies } from '../lib/service/client-address.ts';
import { DEFAULT_PURPOSE_CATEGORIES } from './categories.ts';

const subgraph = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]*$/),
  url: z.url(),
  kind: z.enum(['la', 'dfe']),
  deadlineMs: z.number().int().positive().optional(),
});

const schema = z.object({
  la: z.string().regex(/^[a-z0-9-]{2,64}$/),
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535),
  /** `insecure-dev`: no authentication or authorization, GraphiQL on; never for real data. */
  mode: z.enum(['production', 'development', 'insecure-dev']).default('production'),
  supergraph: z
    .union([
      z.object({ file: z.string() }),
      z.object({ compose: z.literal(true) }),
      z.object({ registry: z.object({ url: z.url(), pollMs: z.number().int().min(100).default(10_000), cacheFile: z.string(), usageReportMs: z.number().int().min(100).default(60_000) }) }),
    ])
    .default({ compose: true }),
  subgraphs: z.array(subgraph).default([]),
  /** The router's private JWK that signs internal tokens. */
  internalTokenKey: z.string().optional(),
  /** The LA's DfE credential: its organisation code, its private JWK, and DfE's token endpoint that takes it. */
  dfeCredential: z.object({ organisation: z.string(), key: z.string(), tokenUrl: z.url() }).optional(),
  deadlineMs: z.number().int().positive().default(3000),
  /** The LA's store (allocations and the audit): a PostgreSQL URL, or an embedded data folder. */
  database: z.object({ url: z.string().optional(), dataDir: z.string().optional() }).optional(),
  /**
   * Open allocations are held in memory and reloaded this often: an ended allocation stops giving the
   * full view within this time (a new one applies at once, as pairs not held are asked of the store).
   */
  allocationRefreshSeconds: z.number().int().min(1).max(300).default(30),
  /**
   * The LA's user list is reloaded this often: an account disabled (`la_user.disabled_at`) or removed
   * there is refused, and the refusal audited, from the next reload, whatever its token's lifetime.
   */
  userRefreshSeconds: z.number().int().min(1).max(300).default(60),
  /** Root fields caseworkers may ask for; the rest of the supergraph (DfE's admin and register fields) stays closed. */
  exposedRootFields: z.array(z.string()).default(['child', 'findChildren', 'matchChild', 'validateNhsNumber', 'recordTypes', 'auditTrail', 'breakGlassReport', 'igAlerts', 'linkNhsNumber']),
  /** The data categories each purpose permits (defaults: la-router/categories.ts). */
  purposes: z.record(z.string(), z.array(z.string())).default(DEFAULT_PURPOSE_CATEGORIES),
  /** A source failing this many times in a row is not called for `openMs`, then probed once. */
  circuitBreaker: z.object({ failures: z.number().int().positive().default(5), openMs: z.number().int().positive().default(5000) }).prefault({}),
  /** The lowest level of log line written. */
  logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /** Requests a minute each caseworker may make; more are answered RATE_LIMITED (429). */
  rateLimitPerMinute: z.number().int().positive().default(600),
  /**
   * Requests a minute from one client address that carry no valid access token; more are answered
   * RATE_LIMITED (429) with Retry-After, counted across replicas through `redisUrl`. A valid token is
   * never refused by this limit (caseworkers behind one office address are counted by `rateLimitPerMinute`).
   */
  unauthenticatedRateLimitPerMinute: z.number().int().positive().default(60),
  /**
   * The load balancers or ingresses in front of the router (addresses, CIDR ranges, or `loopback`,
   * `linklocal`, `uniquelocal`), whose X-Forwarded-For names the client; nobody else's is believed.
   */
  trustedProxies: z
    .array(z.string().min(1))
    .default([])
    .refine(
      (list) => {
        try {
          trustProxies(list);
          return true;
        } catch {
          return false;
        }
      },
      { message: 'each must be an IP address, a CIDR range, or one of loopback, linklocal, uniquelocal' },
    ),
  /**
   * Searches and matches watched per caseworker: `threshold` of them within `windowSeconds` writes an
   * alert for the information-governance officer (`igAlerts`), counted across replicas through `redisUrl`.
   */
  searchAlerts: z.object({ threshold: z.number().int().positive().default(200), windowSeconds: z.number().int().min(60).max(7 * 86_400).default(3600) }).prefault({}),
  /** Redis shared by the router's replicas, so each caseworker's limit holds across them all (default: REDIS_URL; none: each replica counts on its own). */
  redisUrl: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL').optional(),
  /** A manifest of the only operations this router runs (trusted documents): a JSON object of sha256 → query. */
  trustedDocuments: z.string().optional(),
  /** Limits on each operation (graphql-armor). */
  limits: z.object({ depth: z.number().int().positive().default(15), aliases: z.number().int().positive().default(15), cost: z.number().int().positive().default(5000), tokens: z.number().int().positive().default(2000) }).prefault({}),
  /**
   * The sharing endpoint, for DfE's relay: the LA's own data sharing agreement (a JSON document, re-read
   * when it changes) and DfE, who signs relay tokens (its issuer and JWKS URL). `push`: DfE's relay POSTs
   * to /share/graphql (registered with DfE as the LA's sharing URL). `pull`: for an LA that cannot take
   * inbound connections, the router keeps a connection open to the relay (`relayUrl`, by default the
   * issuer's /relay/connect) with its DfE credential and answers over it.
   */
  sharing: z
    .object({ agreement: z.string(), dfeIssuer: z.url(), dfeJwks: z.url(), mode: z.enum(['push', 'pull']).default('push'), relayUrl: z.url({ protocol: /^wss?$/ }).optional() })
    .optional(),
  /** The reference portal at /portal (built into portal/dist), signing in at `oidc.issuer` as `clientId` with PKCE. */
  portal: z.object({ clientId: z.string().min(1) }).optional(),
  /** The LA's identity provider: caseworkers' access tokens must come from `issuer` for `audience`. */
  oidc: z.object({ issuer: z.url(), audience: z.string().min(1), keyRefetchCooldownMs: z.number().int().min(0).optional() }).optional(),
})
  .refine((c) => c.mode === 'insecure-dev' || c.oidc, { message: 'oidc (issuer, audience) is required unless mode is insecure-dev', path: ['oidc'] })
  .refine((c) => c.mode === 'insecure-dev' || c.database, { message: 'database (the LA store) is required unless mode is insecure-dev', path: ['database'] })
  .refine((c) => c.sharing?.mode !== 'pull' || c.dfeCredential, { message: 'pull mode connects with the LA’s DfE credential: dfeCredential is required', path: ['sharing', 'mode'] });

export type RouterConfig = z.infer<typeof schema>;
export type SubgraphConfig = z.infer<typeof subgraph>;

/** The old-generation heap the router runs with: several times its live heap (60–80 MiB under load). */
export const ROUTER_HEAP_MIB = 256;

/**
 * Node.js flags for a router process. Without a limit V8 sizes the heap from the machine's memory and
 * collects lazily, so a router on a large host holds garbage it does not need; NODE_OPTIONS can set
 * another --max-old-space-size, which is then left alone.
 */
export function routerNodeFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  return /--max-old-space-size/.test(env.NODE_OPTIONS ?? '') ? [] : [`--max-old-space-size=${ROUTER_HEAP_MIB}`];
}

export class RouterConfigError extends Error {
  override name = 'RouterConfigError';
}

export function parseRouterConfig(value: unknown): RouterConfig {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new RouterConfigError(`invalid router configuration: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export function readRouterConfig(path: string): RouterConfig {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new RouterConfigError(`cannot read ${path}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
  return parseRouterConfig(value);
}
