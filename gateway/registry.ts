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
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, Kind, parse, type DocumentNode, type GraphQLSchema } from 'graphql';
import { DEFAULT_PURPOSE_CATEGORIES } from '../la-router/categories.ts';
import { dataCategoryOf } from '../lib/data-categories.ts';
import type { SqlConnection, SqlSession } from '../lib/db/sql.ts';
import { checkContract, SOURCE_KINDS, type SourceKind } from '../lib/schema-contract.ts';

// @graphql-inspector's CommonJS build, so it reads schemas built by @apollo/subgraph (also CommonJS).
const { diff, CriticalityLevel } = createRequire(import.meta.url)('@graphql-inspector/core') as typeof import('@graphql-inspector/core');
// The same build's type checks, for the schemas @apollo/subgraph builds.
const { isInterfaceType, isObjectType } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

/** The organisation whose subgraphs are in every organisation's supergraph. */
export const DFE = 'dfe';
const NAME = /^[a-z][a-z0-9-]{0,62}$/;

export type ReasonKind = 'input' | 'syntax' | 'contract' | 'data-category' | 'composition' | 'breaking';

export interface Reason {
  kind: ReasonKind;
  message: string;
  /** Type or Type.field, where the reason is about one. */
  path?: string;
  /** The organisation whose composition failed, for a change to one of DfE's subgraphs. */
  organisation?: string;
}

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

interface Current {
  org_code: string;
  subgraph: string;
  url: string;
  sdl: string;
  version: number;
}

const KNOWN_CATEGORY_FAMILIES = new Set(Object.values(DEFAULT_PURPOSE_CATEGORIES).flat().filter((p) => p !== '*').map((p) => p.replace(/\.\*$/, '').split('.')[0]!));

/** Fields a subgraph adds to Child other than its key, each of which must say what data it carries. */
function dataCategoryReasons(document: DocumentNode): Reason[] {
  const reasons: Reason[] = [];
  for (const definition of document.definitions) {
    if ((definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) || definition.name.value !== 'Child') continue;
    for (const field of definition.fields ?? []) {
      if (field.name.value === 'nhsNumber') continue;
      const path = `Child.${field.name.value}`;
      const name = dataCategoryOf(field);
      if (!name) reasons.push({ kind: 'data-category', path, message: `${path} carries personal data and needs @dataCategory(name: "<family>.<category>")` });
      else if (!/^[a-z]+\.[a-z_]+$/.test(name) || !KNOWN_CATEGORY_FAMILIES.has(name.split('.')[0]!)) {
        reasons.push({ kind: 'data-category', path, message: `${path}: "${name}" is not a category of a known family (${[...KNOWN_CATEGORY_FAMILIES].sort().join(', ')})` });
      }
    }
  }
  return reasons;
}

function compose(subgraphs: { subgraph: string; url: string; document: DocumentNode }[]): { supergraph: string } | { errors: string[] } {
  const result = composeServices(subgraphs.map((s) => ({ name: s.subgraph, url: s.url, typeDefs: s.document })));
  if (result.errors) return { errors: result.errors.map((e) => e.message) };
  return { supergraph: result.supergraphSdl };
}

const hashOf = (sdl: string) => createHash('sha256').update(sdl).digest('hex');

/** How far back field usage counts for the breaking-change check. */
export const USAGE_WINDOW_DAYS = 30;
/** A schema coordinate as routers report it: Type.field. */
const COORDINATE = /^[A-Za-z_][A-Za-z0-9_]{0,99}\.[A-Za-z_][A-Za-z0-9_]{0,99}$/;
const MAX_COORDINATES = 5000;

export class UsageError extends Error {
  override name = 'UsageError';
}

export class SchemaRegistry {
  constructor(private readonly sql: SqlConnection) {}

  private current(db: SqlSession, organisation?: string): Promise<Current[]> {
    return db.query<Current>(
      `SELECT DISTINCT ON (org_code, subgraph) org_code, subgraph, url, sdl, version FROM schema_version
        ${organisation ? 'WHERE org_code = $1' : ''} ORDER BY org_code, subgraph, version DESC`,
      organisation ? [organisation] : [],
    );
  }

  /** Every check, against the registry as it stands; nothing is saved. */
  async check(request: Omit<PublishRequest, 'by'>): Promise<CheckResult> {
    return this.sql.withSession((db) => this.checkIn(db, request));
  }

  private async checkIn(db: SqlSession, request: Omit<PublishRequest, 'by'>): Promise<CheckResult> {
    const reasons: Reason[] = [];
    if (!NAME.test(request.name)) reasons.push({ kind: 'input', message: `subgraph name "${request.name}": lower-case letters, digits and dashes, starting with a letter` });
    if (!/^https?:\/\/\S+$/.test(request.url)) reasons.push({ kind: 'input', message: `url "${request.url}" is not an http(s) URL` });
    const [known] = await db.query<{ status: string }>('SELECT status FROM organisation WHERE code = $1', [request.organisation]);
    if (!known) reasons.push({ kind: 'input', message: `organisation ${request.organisation} is not in DfE's registry` });
    let document: DocumentNode;
    try {
      document = parse(request.sdl);
    } catch (error) {
      reasons.push({ kind: 'syntax', message: error instanceof GraphQLError ? error.message : String(error) });
      return { ok: false, reasons, forced: [], unused: [], affects: [] };
    }
    if ((SOURCE_KINDS as readonly string[]).includes(request.name)) {
      for (const problem of checkContract(request.sdl, request.name as SourceKind)) reasons.push({ kind: 'contract', path: problem.path, message: `${problem.path}: ${problem.problem}` });
    }
    reasons.push(...dataCategoryReasons(document));

    // Composition: the organisation's supergraph with this subgraph in it; for DfE's, every organisation's.
    const all = await this.current(db);
    const organisations = request.organisation === DFE ? [...new Set(all.map((c) => c.org_code).filter((o) => o !== DFE))] : [request.organisation];
    const candidate = { org_code: request.organisation, subgraph: request.name, url: request.url, sdl: request.sdl, version: 0 };
    const affects: string[] = [];
    // The organisations a change concerns: DfE's, every organisation's; an LA's, its own.
    const concerned = organisations.length > 0 ? organisations : [request.organisation];
    for (const organisation of concerned) {
      const members = all.filter((c) => (c.org_code === DFE || c.org_code === organisation) && !(c.org_code === candidate.org_code && c.subgraph === candidate.subgraph));
      const clash = members.find((m) => m.subgraph === candidate.subgraph);
      if (clash) {
        reasons.push({ kind: 'composition', organisation, message: `${organisation}: a subgraph named ${candidate.subgraph} is already published by ${clash.org_code}` });
        continue;
      }
      const composed = compose([...members, candidate].map((m) => ({ subgraph: m.subgraph, url: m.url, document: m === candidate ? document : parse(m.sdl) })));
      if ('errors' in composed) for (const message of composed.errors) reasons.push({ kind: 'composition', organisation, message: `${organisation}: ${message}` });
      else affects.push(organisation);
    }

    // Breaking changes against the version routers use now, unless no reporting router has used what they change.
    const forced: Reason[] = [];
    const unused: Reason[] = [];
    const previous = all.find((c) => c.org_code === request.organisation && c.subgraph === request.name);
    if (previous && reasons.length === 0) {
      let changes: { criticality: { level: string }; message: string; path?: string }[] = [];
      let before: GraphQLSchema | null = null;
      try {
        before = buildSubgraphSchema(parse(previous.sdl));
        changes = await diff(before as never, buildSubgraphSchema(document) as never);
      } catch (error) {
        reasons.push({ kind: 'syntax', message: `the schema cannot be built: ${error instanceof Error ? error.message : String(error)}` });
      }
      const breaking = changes.filter((c) => c.criticality.level === CriticalityLevel.Breaking);
      // Usage is read only when something breaks.
      const usage = breaking.length > 0 ? await this.usageOf(db, concerned) : null;
      for (const change of breaking) {
        // Routers report the output fields they serve; a change to anything else (an enum value, an input type) counts as used.
        const type = change.path ? before?.getType(change.path.split('.')[0]!) : undefined;
        const used = isObjectType(type) || isInterfaceType(type) ? usage!.usedBy(change.path) : 'routers do not report its use';
        const reason: Reason = { kind: 'breaking', message: `${change.message}${used ? `: ${used}` : ''}`, ...(change.path ? { path: change.path } : {}) };
        if (used === null) unused.push({ ...reason, message: `${change.message}: no router has used it in ${USAGE_WINDOW_DAYS} days` });
        else (request.force ? forced : reasons).push(reason);
      }
    }
    return { ok: reasons.length === 0, reasons, forced, unused, affects: reasons.length === 0 ? affects : [] };
  }

  /** Checks, then saves the version and recomposes every affected organisation's supergraph, in one transaction. */
  async publish(request: PublishRequest): Promise<CheckResult & { version?: number; unchanged?: boolean }> {
    return this.sql.withSession((session) =>
      session.transaction(async (db) => {
        // One publish at a time: each checks against what the one before it saved.
        await db.query('SELECT pg_advisory_xact_lock(72707370)');
        // The same schema at the same URL again is no new version.
        const [same] = await db.query<{ version: number }>(
          'SELECT version FROM schema_version WHERE org_code = $1 AND subgraph = $2 AND version = (SELECT max(version) FROM schema_version WHERE org_code = $1 AND subgraph = $2) AND sdl = $3 AND url = $4',
          [request.organisation, request.name, request.sdl, request.url],
        );
        if (same) return { ok: true, reasons: [], forced: [], unused: [], affects: [], version: same.version, unchanged: true };
        const result = await this.checkIn(db, request);
        if (!result.ok) return result;
        const [row] = await db.query<{ version: number }>(
          `INSERT INTO schema_version (org_code, subgraph, url, sdl, version, checks, forced, published_by)
           SELECT $1, $2, $3, $4, coalesce(max(version), 0) + 1, $5::jsonb, $6, $7 FROM schema_version WHERE org_code = $1 AND subgraph = $2
           RETURNING version`,
          [request.organisation, request.name, request.url, request.sdl, JSON.stringify({ forced: result.forced, unused: result.unused }), result.forced.length > 0, request.by],
        );
        const all = await this.current(db);
        for (const organisation of result.affects) {
          const composed = compose(all.filter((c) => c.org_code === DFE || c.org_code === organisation).map((c) => ({ subgraph: c.subgraph, url: c.url, document: parse(c.sdl) })));
          if ('errors' in composed) throw new Error(`composition failed after its check for ${organisation}: ${composed.errors[0]}`);
          const hash = hashOf(composed.supergraph);
          const [latest] = await db.query<{ hash: string }>('SELECT hash FROM supergraph WHERE org_code = $1 ORDER BY id DESC LIMIT 1', [organisation]);
          if (latest?.hash !== hash) await db.query('INSERT INTO supergraph (org_code, sdl, hash) VALUES ($1, $2, $3)', [organisation, composed.supergraph, hash]);
        }
        return { ...result, version: row!.version };
      }),
    );
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
