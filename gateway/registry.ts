// The schema registry for the federated graph: what Apollo GraphOS, Hive and Cosmo give a federation,
// for this programme. Each organisation publishes its subgraphs (name, URL, SDL); DfE publishes its own
// (MATCH, FIND, the router's). Every publish or check runs the same checks, and a failing one is refused
// with every reason: the SDL parses; a source kind's subgraph (csc, education) meets its contract in
// schema/contracts; every field a subgraph adds to Child carries a known @dataCategory; the
// organisation's supergraph (DfE's subgraphs with its own) composes; and nothing breaks what routers
// use now (@graphql-inspector's breaking changes), which `force` may override, recorded. Breaking
// changes are usage-aware: routers report the fields they serve (`recordUsage`), and a change to a field
// that no router of the organisations concerned has used in USAGE_WINDOW_DAYS, where those routers do
// report, is let through and listed as unused rather than refused. A change to one
// of DfE's subgraphs is checked against every organisation's composition. History keeps who published
// what and when; each organisation's supergraph is recomposed on publish and delivered with an ETag.
// Checking is bounded: the SDL's size here, its tokens, types and fields, the time and memory of each
// check in a niced worker process, with no database session held meanwhile (registry-work.ts,
// registry-workers.ts).
import { createHash } from 'node:crypto';
import type { SqlConnection, SqlSession } from '../lib/db/sql.ts';
import { DFE, type Member, type Reason, type SchemaLimits } from './registry-work.ts';
import { DEFAULT_WORK_LIMITS, RegistryWorkers, type RegistryWorkLimits } from './registry-workers.ts';

export { DFE, type Reason, type ReasonKind } from './registry-work.ts';
export { CheckStopped, RegistryBusy } from './registry-workers.ts';

const NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** What the registry takes from an organisation, so that no one can hold it. */
export interface RegistryLimits extends SchemaLimits, RegistryWorkLimits {
  /** Bytes of SDL in one check or publish. */
  maxSdlBytes: number;
}

export const DEFAULT_REGISTRY_LIMITS: RegistryLimits = { maxSdlBytes: 256 * 1024, maxTokens: 200_000, maxTypes: 500, maxFields: 5000, ...DEFAULT_WORK_LIMITS };

export interface CheckResult {
  ok: boolean;
  /** Reasons the schema is refused. */
  reasons: Reason[];
  /** Breaking changes let through by `force`. */
  forced: Reason[];
  /** Breaking changes let through because no reporting router used what they change in the usage window. */
  unused: Reason[];
  /** The organisations whose supergraph the change would alter. */
  affects: string[];
}

export interface PublishRequest {
  organisation: string;
  name: string;
  url: string;
  sdl: string;
  /** Publish despite breaking changes (never despite anything else); recorded with the version. */
  force?: boolean;
  /** Who published: recorded in the history. */
  by: string;
}

interface Current extends Member {
  version: number;
}

const hashOf = (sdl: string) => createHash('sha256').update(sdl).digest('hex');
/** What the registry holds now, in brief: every current subgraph's organisation, name and version. */
const stamp = (all: readonly Current[]) => all.map((c) => `${c.org_code}/${c.subgraph}/${c.version}`).join(',');

/** How far back field usage counts for the breaking-change check. */
export const USAGE_WINDOW_DAYS = 30;
/** A schema coordinate as routers report it: Type.field. */
const COORDINATE = /^[A-Za-z_][A-Za-z0-9_]{0,99}\.[A-Za-z_][A-Za-z0-9_]{0,99}$/;
const MAX_COORDINATES = 5000;

export class UsageError extends Error {
  override name = 'UsageError';
}

export class SchemaRegistry {
  private readonly workers: RegistryWorkers;
  readonly limits: RegistryLimits;

  constructor(
    private readonly sql: SqlConnection,
    limits: Partial<RegistryLimits> = {},
  ) {
    this.limits = { ...DEFAULT_REGISTRY_LIMITS, ...limits };
    this.workers = new RegistryWorkers(this.limits);
  }

  /** Ends the workers. */
  close(): Promise<void> {
    return this.workers.close();
  }

  private current(db: SqlSession, organisation?: string): Promise<Current[]> {
    return db.query<Current>(
      `SELECT DISTINCT ON (org_code, subgraph) org_code, subgraph, url, sdl, version FROM schema_version
        ${organisation ? 'WHERE org_code = $1' : ''} ORDER BY org_code, subgraph, version DESC`,
      organisation ? [organisation] : [],
    );
  }

  /** Every check, against the registry as it stands; nothing is saved. */
  async check(request: Omit<PublishRequest, 'by'>): Promise<CheckResult> {
    const { supergraphs: _supergraphs, ...result } = await this.checkIn(request, await this.sql.withSession((db) => this.current(db)), false);
    return result;
  }

  /**
   * The checks against `all` (every organisation's current subgraphs), the parsing and composing done by
   * a worker (registry-work.ts) while no database session is held: throws RegistryBusy when the workers'
   * queue is full and CheckStopped when the check ran too long; with the supergraph each affected
   * organisation would have.
   */
  private async checkIn(request: Omit<PublishRequest, 'by'>, all: Current[], withSupergraphs: boolean): Promise<CheckResult & { supergraphs: Record<string, string> }> {
    const refused = (reasons: Reason[]) => ({ ok: false, reasons, forced: [], unused: [], affects: [], supergraphs: {} });
    const reasons: Reason[] = [];
    const bytes = Buffer.byteLength(request.sdl, 'utf8');
    if (bytes > this.limits.maxSdlBytes) return refused([{ kind: 'limit', message: `the schema is ${bytes} bytes; at most ${this.limits.maxSdlBytes}` }]);
    if (!NAME.test(request.name)) reasons.push({ kind: 'input', message: `subgraph name "${request.name.slice(0, 100)}": lower-case letters, digits and dashes, starting with a letter` });
    if (!/^https?:\/\/\S+$/.test(request.url)) reasons.push({ kind: 'input', message: `url "${request.url.slice(0, 200)}" is not an http(s) URL` });
    const [known] = await this.sql.withSession((db) => db.query<{ status: string }>('SELECT status FROM organisation WHERE code = $1', [request.organisation]));
    if (!known) reasons.push({ kind: 'input', message: `organisation ${request.organisation} is not in DfE's registry` });

    // The organisations a change concerns: DfE's, every organisation's; an LA's, its own.
    const organisations = request.organisation === DFE ? [...new Set(all.map((c) => c.org_code).filter((o) => o !== DFE))] : [request.organisation];
    const concerned = organisations.length > 0 ? organisations : [request.organisation];
    const previous = all.find((c) => c.org_code === request.organisation && c.subgraph === request.name);
    const { maxTokens, maxTypes, maxFields } = this.limits;
    const analysis = await this.workers.analyse({
      candidate: { org_code: request.organisation, subgraph: request.name, url: request.url, sdl: request.sdl },
      members: all.map(({ org_code, subgraph, url, sdl }) => ({ org_code, subgraph, url, sdl })),
      concerned,
      previousSdl: previous?.sdl ?? null,
      limits: { maxTokens, maxTypes, maxFields },
      supergraphs: withSupergraphs,
    });
    reasons.push(...analysis.reasons);

    // Breaking changes against the version routers use now, unless no reporting router has used what they change.
    const forced: Reason[] = [];
    const unused: Reason[] = [];
    if (reasons.length === 0 && analysis.breaking.length > 0) {
      const usage = await this.sql.withSession((db) => this.usageOf(db, concerned));
      for (const change of analysis.breaking) {
        const used = change.reported ? usage.usedBy(change.path) : 'routers do not report its use';
        const reason: Reason = { kind: 'breaking', message: `${change.message}${used ? `: ${used}` : ''}`, ...(change.path ? { path: change.path } : {}) };
        if (used === null) unused.push({ ...reason, message: `${change.message}: no router has used it in ${USAGE_WINDOW_DAYS} days` });
        else (request.force ? forced : reasons).push(reason);
      }
    }
    const ok = reasons.length === 0;
    return { ok, reasons, forced, unused, affects: ok ? analysis.affects : [], supergraphs: ok ? analysis.supergraphs : {} };
  }

  /**
   * Checks, then saves the version and each affected organisation's supergraph, in one transaction. The
   * check runs outside it (no session held while a worker composes); the transaction saves only if the
   * registry is still what was checked against, and checks again otherwise.
   */
  async publish(request: PublishRequest): Promise<CheckResult & { version?: number; unchanged?: boolean }> {
    for (let attempt = 0; ; attempt++) {
      const all = await this.sql.withSession((db) => this.current(db));
      const same = all.find((c) => c.org_code === request.organisation && c.subgraph === request.name && c.sdl === request.sdl && c.url === request.url);
      // The same schema at the same URL again is no new version.
      if (same) return { ok: true, reasons: [], forced: [], unused: [], affects: [], version: same.version, unchanged: true };
      const { supergraphs, ...result } = await this.checkIn(request, all, true);
      if (!result.ok) return result;
      const saved = await this.sql.withSession((session) =>
        session.transaction(async (db) => {
          // One publish at a time, and only onto the registry this one was checked against.
          await db.query('SELECT pg_advisory_xact_lock(72707370)');
          if (stamp(await this.current(db)) !== stamp(all)) return null;
          const [row] = await db.query<{ version: number }>(
            `INSERT INTO schema_version (org_code, subgraph, url, sdl, version, checks, forced, published_by)
             SELECT $1, $2, $3, $4, coalesce(max(version), 0) + 1, $5::jsonb, $6, $7 FROM schema_version WHERE org_code = $1 AND subgraph = $2
             RETURNING version`,
            [request.organisation, request.name, request.url, request.sdl, JSON.stringify({ forced: result.forced, unused: result.unused }), result.forced.length > 0, request.by],
          );
          for (const organisation of result.affects) {
            const supergraph = supergraphs[organisation]!;
            const hash = hashOf(supergraph);
            const [latest] = await db.query<{ hash: string }>('SELECT hash FROM supergraph WHERE org_code = $1 ORDER BY id DESC LIMIT 1', [organisation]);
            if (latest?.hash !== hash) await db.query('INSERT INTO supergraph (org_code, sdl, hash) VALUES ($1, $2, $3)', [organisation, supergraph, hash]);
          }
          return { ...result, version: row!.version };
        }),
      );
      if (saved) return saved;
      // Another publish landed meanwhile: check again against what it saved.
      if (attempt >= 4) throw new Error('the registry kept changing while this publish was checked; try again');
    }
  }

  /** Adds a router's report of the schema coordinates it served (Type.field → times) to today's counts. */
  async recordUsage(organisation: string, fields: unknown): Promise<number> {
    const entries = fields && typeof fields === 'object' && !Array.isArray(fields) ? Object.entries(fields as Record<string, unknown>) : null;
    if (!entries) throw new UsageError('fields must be an object of Type.field → count');
    if (entries.length > MAX_COORDINATES) throw new UsageError(`at most ${MAX_COORDINATES} coordinates a report`);
    for (const [coordinate, count] of entries) {
      if (!COORDINATE.test(coordinate)) throw new UsageError(`${coordinate.slice(0, 100)} is not a Type.field coordinate`);
      if (!Number.isSafeInteger(count) || (count as number) < 1) throw new UsageError(`the count for ${coordinate} must be a whole number above 0`);
    }
    if (entries.length === 0) return 0;
    await this.sql.withSession((db) =>
      db.query(
        `INSERT INTO field_usage (org_code, coordinate, day, count) SELECT $1, c, current_date, n FROM unnest($2::text[], $3::bigint[]) AS t(c, n)
         ON CONFLICT (org_code, coordinate, day) DO UPDATE SET count = field_usage.count + excluded.count`,
        [organisation, entries.map(([c]) => c), entries.map(([, n]) => n)],
      ),
    );
    return entries.length;
  }

  /**
   * Which of `organisations` used a coordinate in the usage window: a description of who used it, or
   * null when every one of them reports usage and none used it. An organisation whose routers report
   * nothing counts as using everything, so the check never relaxes on silence.
   */
  private async usageOf(db: SqlSession, organisations: string[]): Promise<{ usedBy(path: string | undefined): string | null }> {
    const rows = await db.query<{ org_code: string; coordinate: string; count: string }>(
      `SELECT org_code, coordinate, sum(count)::text AS count FROM field_usage WHERE org_code = ANY($1) AND day > current_date - $2::int GROUP BY 1, 2`,
      [organisations, USAGE_WINDOW_DAYS],
    );
    const reporting = new Set(rows.map((r) => r.org_code));
    const silent = organisations.filter((o) => !reporting.has(o));
    return {
      usedBy(path) {
        if (silent.length > 0 || !path) return silent.length > 0 ? `${silent.join(', ')} report no usage, so it may be in use` : 'it cannot be matched to usage';
        // Type.field (and Type.field.argument) by its field; a whole type by any of its fields.
        const [type, field] = path.split('.');
        const hits = rows.filter((r) => (field ? r.coordinate === `${type}.${field}` : r.coordinate.startsWith(`${type}.`)));
        if (hits.length === 0) return null;
        const by = new Map<string, bigint>();
        for (const hit of hits) by.set(hit.org_code, (by.get(hit.org_code) ?? 0n) + BigInt(hit.count));
        return `used in the last ${USAGE_WINDOW_DAYS} days by ${[...by].map(([org, n]) => `${org} (${n})`).join(', ')}`;
      },
    };
  }

  /** Every version published, newest first: who, when, what, and whether breaking changes were forced. */
  async history(organisation: string, name?: string): Promise<{ subgraph: string; version: number; url: string; forced: boolean; publishedBy: string; publishedAt: string }[]> {
    const rows = await this.sql.withSession((db) =>
      db.query<{ subgraph: string; version: number; url: string; forced: boolean; published_by: string; published_at: Date | string }>(
        `SELECT subgraph, version, url, forced, published_by, published_at FROM schema_version WHERE org_code = $1 ${name ? 'AND subgraph = $2' : ''} ORDER BY published_at DESC, version DESC`,
        name ? [organisation, name] : [organisation],
      ),
    );
    return rows.map((r) => ({ subgraph: r.subgraph, version: r.version, url: r.url, forced: r.forced, publishedBy: r.published_by, publishedAt: new Date(r.published_at).toISOString() }));
  }

  /** The organisation's current supergraph and its hash (the ETag), or null before its first publish. */
  async supergraph(organisation: string): Promise<{ sdl: string; hash: string } | null> {
    const [row] = await this.sql.withSession((db) => db.query<{ sdl: string; hash: string }>('SELECT sdl, hash FROM supergraph WHERE org_code = $1 ORDER BY id DESC LIMIT 1', [organisation]));
    return row ?? null;
  }
}
