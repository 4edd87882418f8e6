// The router's own subgraph, served in-process: `Query.child` hands the NHS number to every source, and
// the LA audit answers information-governance officers (`auditTrail`, `breakGlassReport`, `igAlerts`).
import { BREAK_GLASS_CATEGORIES } from './break-glass.ts';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { LocalGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, parse } from 'graphql';
import type { AuditWriter } from '../lib/audit/chain.ts';
import type { SqlConnection } from '../lib/db/sql.ts';
import { NhsNumber, DateScalar } from '../lib/graphql/scalars.ts';
import type { RouterContext } from './context.ts';

// The gateway's schema objects come from graphql's CommonJS build; so must what executes against them.
const graphql = createRequire(import.meta.url)('graphql') as typeof import('graphql');

/**
 * Serves the router's subgraph in-process. The gateway sends it a handful of distinct operations (one
 * per query plan), so each is parsed and validated once, not on every request as stock
 * LocalGraphQLDataSource does.
 */
class PreparedLocalDataSource extends LocalGraphQLDataSource<RouterContext> {
  private readonly documents = new Map<string, { document: import('graphql').DocumentNode } | { errors: readonly import('graphql').GraphQLError[] }>();

  override async process({ request, context }: GraphQLDataSourceProcessOptions<RouterContext>) {
    const query = request.query ?? '';
    let prepared = this.documents.get(query);
    if (!prepared) {
      try {
        const document = graphql.parse(query);
        const errors = graphql.validate(this.schema, document);
        prepared = errors.length > 0 ? { errors } : { document };
      } catch (error) {
        return { errors: [error as import('graphql').GraphQLError] };
      }
      if (this.documents.size >= 1000) this.documents.clear();
      this.documents.set(query, prepared);
    }
    if ('errors' in prepared) return { errors: prepared.errors };
    return graphql.execute({ schema: this.schema, document: prepared.document, variableValues: request.variables ?? null, operationName: request.operationName ?? null, contextValue: context });
  }
}

const sdl = (url: URL) => readFileSync(url, 'utf8');
export const ROUTER_SUBGRAPH = 'router';
export const routerSdl = [sdl(new URL('./schema.graphql', import.meta.url)), sdl(new URL('../schema/common.graphql', import.meta.url))].join('\n');
export const IG_OFFICER = 'ig.officer';

interface AuditRow {
  at: Date | string;
  actor: string;
  roles: string[];
  purpose: string | null;
  break_glass_reason: string | null;
  nhs_number: string | null;
  sources: { answered?: string[]; decision?: string; breakGlassCategory?: string; action?: string; criteria?: string[]; receipt?: { id: string | null; digest: string | null; band: string | null; score: number | null } | null } | null;
  withheld: string[] | null;
  outcome: string;
}

interface AlertRow {
  at: Date | string;
  kind: string;
  caseworker: string;
  roles: string[] | null;
  count: number;
  threshold: number;
  window_start: Date | string;
  window_end: Date | string;
}

const record = (row: AuditRow) => ({
  at: new Date(row.at).toISOString(),
  caseworker: row.actor,
  roles: row.roles ?? [],
  purpose: row.purpose,
  breakGlassReason: row.break_glass_reason,
  breakGlassCategory: row.sources?.breakGlassCategory ?? null,
  nhsNumber: row.nhs_number,
  action: row.sources?.action ?? (row.sources?.decision === 'AUDIT_TRAIL' ? 'AUDIT_TRAIL' : 'VIEW'),
  searchedOn: row.sources?.criteria ?? [],
  decision: row.sources?.decision ?? null,
  sources: row.sources?.answered ?? [],
  withheld: row.withheld ?? [],
  outcome: row.outcome,
  receipt: row.sources?.receipt ?? null,
});

function requireIgOfficer(context: RouterContext, field: string): void {
  if (!context.caller?.roles.includes(IG_OFFICER)) throw new GraphQLError(`${field} is for information-governance officers`, { extensions: { code: 'FORBIDDEN', field } });
}

export function routerSubgraph(store?: { sql: SqlConnection; audit: AuditWriter }): LocalGraphQLDataSource<RouterContext> {
  const schema = buildSubgraphSchema({
    typeDefs: parse(routerSdl),
    resolvers: {
      NhsNumber,
      Date: DateScalar,
      Query: {
        child: (_parent: unknown, args: { nhsNumber: string }) => ({ nhsNumber: args.nhsNumber }),
        async auditTrail(_parent: unknown, args: { nhsNumber: string }, context: RouterContext) {
          requireIgOfficer(context, 'auditTrail');
          if (!store) throw new GraphQLError('This router keeps no audit', { extensions: { code: 'SOURCE_UNAVAILABLE', source: 'audit' } });
          const rows = await store.sql.withSession((db) => db.query<AuditRow>('SELECT * FROM la_audit_entry WHERE nhs_number = $1 ORDER BY seq', [args.nhsNumber]));
          // Reading who read a child's records is itself a read of them.
          await store.audit.append([
            { actor: context.caller!.username, roles: context.caller!.roles, nhs_number: args.nhsNumber, sources: { answered: ['audit'], decision: 'AUDIT_TRAIL' }, withheld: [], outcome: 'OK', trace_id: context.traceId },
          ]);
          return rows.map(record);
        },
        async breakGlassReport(_parent: unknown, args: { from: string; to: string }, context: RouterContext) {
          requireIgOfficer(context, 'breakGlassReport');
          if (!store) throw new GraphQLError('This router keeps no audit', { extensions: { code: 'SOURCE_UNAVAILABLE', source: 'audit' } });
          const rows = await store.sql.withSession((db) =>
            db.query<AuditRow>(`SELECT * FROM la_audit_entry WHERE break_glass_reason IS NOT NULL AND at >= $1::date AND at < $2::date + 1 ORDER BY seq`, [args.from, args.to]),
          );
          // One group per category, in the list's order; those recorded without one last.
          const order: (string | null)[] = [...BREAK_GLASS_CATEGORIES, null];
          const groups = new Map<string | null, ReturnType<typeof record>[]>();
          for (const row of rows) {
            const entry = record(row);
            const category = order.includes(entry.breakGlassCategory) ? entry.breakGlassCategory : null;
            groups.set(category, [...(groups.get(category) ?? []), entry]);
          }
          return order.filter((c) => groups.has(c)).map((category) => ({ category, count: groups.get(category)!.length, accesses: groups.get(category)! }));
        },
        async igAlerts(_parent: unknown, args: { from: string; to: string }, context: RouterContext) {
          requireIgOfficer(context, 'igAlerts');
          if (!store) throw new GraphQLError('This router keeps no alerts', { extensions: { code: 'SOURCE_UNAVAILABLE', source: 'audit' } });
          const rows = await store.sql.withSession((db) =>
            db.query<AlertRow>(`SELECT * FROM la_ig_alert WHERE at >= $1::date AND at < $2::date + 1 ORDER BY at DESC, id DESC`, [args.from, args.to]),
          );
          return rows.map((row) => ({
            at: new Date(row.at).toISOString(),
            kind: row.kind,
            caseworker: row.caseworker,
            roles: row.roles ?? [],
            count: row.count,
            threshold: row.threshold,
            windowStart: new Date(row.window_start).toISOString(),
            windowEnd: new Date(row.window_end).toISOString(),
          }));
        },
      },
      Child: { __resolveReference: (reference: { nhsNumber: string }) => ({ nhsNumber: reference.nhsNumber }) },
    } as never,
  });
  return new PreparedLocalDataSource(schema);
}
