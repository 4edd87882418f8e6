// A store opened for raw SQL only (no Prisma client): what a service that only decides and audits needs,
// such as the LA router. PostgreSQL by URL here; the embedded store goes through openStore.
import pg from 'pg';
import type { StoreKind } from '../../prisma/stores.ts';
import { migrationsPath } from '../../prisma/stores.ts';
import { applyMigrations, listMigrations, MigrationError, type MigrationReport } from './migrations.ts';
import { pgConnection, type SqlConnection } from './sql.ts';

/** A store that cannot be opened or migrated; its message is one line, fit for an operator. */
export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
  }
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an unparseable database URL)';
  }
}

export function reasonOf(error: unknown): string {
  if (error instanceof MigrationError) return error.message;
  if (error instanceof Error) {
    const code = (error as { code?: string }).code;
    if (code === 'ECONNREFUSED') return 'connection refused (is PostgreSQL running there?)';
    if (code === '3D000') return error.message;
    if (code === '28P01' || code === '28000') return 'authentication failed';
    return error.message.split('\n')[0] ?? error.name;
  }
  return String(error);
}

export async function migrate(kind: StoreKind, sql: SqlConnection, enabled: boolean | undefined): Promise<MigrationReport> {
  if (enabled === false) return { applied: [], modified: [], unknown: [] };
  const migrations = listMigrations(migrationsPath(kind));
  return sql.withSession((session) => applyMigrations(session, migrations));
}

export interface SqlStore {
  sql: SqlConnection;
  /** The URL with the password hidden. */
  location: string;
  migrations: MigrationReport;
  close(): Promise<void>;
}

/** A pool of `poolSize` connections to PostgreSQL at `url`, migrated unless `migrate` is false. */
export async function openSqlStore(options: { kind: StoreKind; url: string; poolSize?: number; migrate?: boolean }): Promise<SqlStore> {
  const location = redactUrl(options.url);
  // Few connections, let go when idle: an embedded store served over the wire takes a limited number.
  const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 2, idleTimeoutMillis: options.poolSize ? 30_000 : 1000, connectionTimeoutMillis: 5000 });
  pool.on('error', () => {}); // idle-client errors surface on the next query instead
  const sql = pgConnection(pool);
  try {
    const migrations = await migrate(options.kind, sql, options.migrate);
    return { sql, location, migrations, close: () => pool.end() };
  } catch (error) {
    await pool.end().catch(() => {});
    throw new StoreError(`cannot open the ${options.kind} store at ${location}: ${reasonOf(error)}`, { cause: error });
  }
}
