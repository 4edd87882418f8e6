// The one way a service opens its store: embedded PGlite in a data folder by default, or a real
// PostgreSQL when a database URL is given. Migrations are applied on open.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient as CentralPrismaClient } from '../../prisma/central/generated/client.ts';
import { PrismaClient as LocalPrismaClient } from '../../prisma/local/generated/client.ts';
import { migrationsPath, type StoreKind } from '../../prisma/stores.ts';
import { isAlive } from '../process.ts';
import { applyMigrations, listMigrations, MigrationError, type MigrationReport } from './migrations.ts';
import { pgConnection, pgliteConnection, type SqlConnection } from './sql.ts';

export type CentralClient = InstanceType<typeof CentralPrismaClient>;
export type LocalClient = InstanceType<typeof LocalPrismaClient>;
interface ClientFor {
  central: CentralClient;
  local: LocalClient;
}

export interface StoreOptions<K extends StoreKind> {
  kind: K;
  /** Data folder for the embedded store; ignored when `databaseUrl` is set. */
  dataDir: string;
  /** `postgresql://...`: use this PostgreSQL instead of the embedded store. */
  databaseUrl?: string;
  /** Apply pending migrations on open (default true). */
  migrate?: boolean;
  /** Connections the raw SQL pool may open to PostgreSQL (default 2: an embedded store served over the wire takes few). */
  poolSize?: number;
  /** Called with each SQL statement the Prisma client sends (tests count statements with it). */
  onQuery?: (sql: string) => void;
}

export interface Store<C> {
  prisma: C;
  sql: SqlConnection;
  /** Where the store is: a folder, or a URL with the password hidden. */
  location: string;
  /** What opening it applied. */
  migrations: MigrationReport;
  /** The driver adapter, for tools (the schema engine) that need to reach the same database. */
  adapter: SqlMigrationAwareDriverAdapterFactory;
  /** The embedded database, when the store is embedded (to serve it over the wire protocol). */
  embedded?: PGlite;
  close(): Promise<void>;
}

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

export async function openStore<K extends StoreKind>(options: StoreOptions<K>): Promise<Store<ClientFor[K]>> {
  return options.databaseUrl ? openPostgres(options, options.databaseUrl) : openEmbedded(options);
}

function newClient<K extends StoreKind>(kind: K, adapter: SqlMigrationAwareDriverAdapterFactory, onQuery?: (sql: string) => void): ClientFor[K] {
  const log = onQuery ? [{ emit: 'event' as const, level: 'query' as const }] : [];
  const client = kind === 'central' ? new CentralPrismaClient({ adapter, log }) : new LocalPrismaClient({ adapter, log });
  if (onQuery) (client as unknown as { $on(event: 'query', listener: (e: { query: string }) => void): void }).$on('query', (e) => onQuery(e.query));
  return client as unknown as ClientFor[K];
}

function reasonOf(error: unknown): string {
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

async function migrate(kind: StoreKind, sql: SqlConnection, enabled: boolean | undefined): Promise<MigrationReport> {
  if (enabled === false) return { applied: [], modified: [], unknown: [] };
  const migrations = listMigrations(migrationsPath(kind));
  return sql.withSession((session) => applyMigrations(session, migrations));
}

async function openPostgres<K extends StoreKind>(options: StoreOptions<K>, url: string): Promise<Store<ClientFor[K]>> {
  const location = redactUrl(url);
  // Few connections, let go when idle: an embedded store served over the wire takes a limited number.
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 2, idleTimeoutMillis: options.poolSize ? 30_000 : 1000, connectionTimeoutMillis: 5000 });
  pool.on('error', () => {}); // idle-client errors surface on the next query instead
  const sql = pgConnection(pool);
  let report: MigrationReport;
  try {
    report = await migrate(options.kind, sql, options.migrate);
  } catch (error) {
    await pool.end().catch(() => {});
    throw new StoreError(`cannot open the ${options.kind} store at ${location}: ${reasonOf(error)}`, { cause: error });
  }
  const adapter = new PrismaPg({ connectionString: url, max: 5, idleTimeoutMillis: 10_000 });
  const prisma = newClient(options.kind, adapter, options.onQuery);
  return {
    prisma,
    sql,
    location,
    migrations: report,
    adapter,
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

/** PGlite is one PostgreSQL in one process: a lock file keeps a second process out of the folder. */
function lockDataDir(dataDir: string): () => void {
  const lockFile = join(dataDir, 'lock');
  if (existsSync(lockFile)) {
    const pid = Number(readFileSync(lockFile, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw new StoreError(
        `cannot open the store in ${dataDir}: process ${pid} has it open (an embedded store has one owner; reach it through that service)`,
      );
    }
  }
  writeFileSync(lockFile, String(process.pid));
  return () => rmSync(lockFile, { force: true });
}

async function openEmbedded<K extends StoreKind>(options: StoreOptions<K>): Promise<Store<ClientFor[K]>> {
  const dataDir = resolve(options.dataDir);
  let unlock: () => void = () => {};
  let db: PGlite | undefined;
  try {
    mkdirSync(dataDir, { recursive: true });
    unlock = lockDataDir(dataDir);
    db = await PGlite.create(join(dataDir, 'pgdata'));
    const sql = pgliteConnection(db);
    const report = await migrate(options.kind, sql, options.migrate);
    const adapter = new PrismaPGlite(db);
    const prisma = newClient(options.kind, adapter, options.onQuery);
    const opened = db;
    return {
      prisma,
      sql,
      location: dataDir,
      migrations: report,
      adapter,
      embedded: opened,
      async close() {
        await prisma.$disconnect();
        await opened.close();
        unlock();
      },
    };
  } catch (error) {
    await db?.close().catch(() => {});
    unlock();
    if (error instanceof StoreError) throw error;
    throw new StoreError(`cannot open the ${options.kind} store in ${dataDir}: ${reasonOf(error)}`, { cause: error });
  }
}
