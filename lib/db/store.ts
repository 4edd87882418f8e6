// The one way a service opens its store: embedded PGlite in a data folder by default, or a real
// PostgreSQL when a database URL is given. Migrations are applied on open.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient as CentralPrismaClient } from '../../prisma/central/generated/client.ts';
import { PrismaClient as LocalPrismaClient } from '../../prisma/local/generated/client.ts';
import type { StoreKind } from '../../prisma/stores.ts';
import { isAlive } from '../process.ts';
import type { MigrationReport } from './migrations.ts';
import { fillFromTemplate } from './pglite-template.ts';
import { migrate, openSqlStore, reasonOf, StoreError } from './sql-store.ts';
import { pgliteConnection, type SqlConnection } from './sql.ts';

export { redactUrl, StoreError } from './sql-store.ts';

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

export async function openStore<K extends StoreKind>(options: StoreOptions<K>): Promise<Store<ClientFor[K]>> {
  return options.databaseUrl ? openPostgres(options, options.databaseUrl) : openEmbedded(options);
}

function newClient<K extends StoreKind>(kind: K, adapter: SqlMigrationAwareDriverAdapterFactory, onQuery?: (sql: string) => void): ClientFor[K] {
  const log = onQuery ? [{ emit: 'event' as const, level: 'query' as const }] : [];
  const client = kind === 'central' ? new CentralPrismaClient({ adapter, log }) : new LocalPrismaClient({ adapter, log });
  if (onQuery) (client as unknown as { $on(event: 'query', listener: (e: { query: string }) => void): void }).$on('query', (e) => onQuery(e.query));
  return client as unknown as ClientFor[K];
}

async function openPostgres<K extends StoreKind>(options: StoreOptions<K>, url: string): Promise<Store<ClientFor[K]>> {
  const opened = await openSqlStore({ kind: options.kind, url, ...(options.poolSize ? { poolSize: options.poolSize } : {}), ...(options.migrate === undefined ? {} : { migrate: options.migrate }) });
  const adapter = new PrismaPg({ connectionString: url, max: 5, idleTimeoutMillis: 10_000 });
  const prisma = newClient(options.kind, adapter, options.onQuery);
  return {
    prisma,
    sql: opened.sql,
    location: opened.location,
    migrations: opened.migrations,
    adapter,
    async close() {
      await prisma.$disconnect();
      await opened.close();
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
    await fillFromTemplate(join(dataDir, 'pgdata'));
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
