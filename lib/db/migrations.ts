// Applies committed Prisma migrations and records them in `_prisma_migrations` exactly as
// `prisma migrate deploy` does (same table, SHA-256 checksum, names), so an operator with the
// Prisma CLI sees the same history. Unlike `migrate deploy`, each migration runs in one
// transaction: a migration that fails is recorded as failed and leaves nothing half-applied.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SqlSession } from './sql.ts';

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationReport {
  applied: string[];
  /** Migrations recorded as applied whose file has changed since. */
  modified: string[];
  /** Migrations recorded in the database that this release does not know (a newer release ran). */
  unknown: string[];
}

export class MigrationError extends Error {
  constructor(
    message: string,
    readonly migration?: string,
  ) {
    super(message);
    this.name = 'MigrationError';
  }
}

/** The same key `prisma migrate` locks, so our runner and the Prisma CLI never migrate at once. */
const ADVISORY_LOCK_KEY = 72707369;

const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
);`;

export function checksum(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

/** Migration folders in order (their names start with a timestamp), each with its migration.sql. */
export function listMigrations(dir: string): Migration[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: checksum(sql) };
    });
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
}

export async function applyMigrations(session: SqlSession, migrations: Migration[]): Promise<MigrationReport> {
  await session.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCK_KEY]);
  try {
    await session.exec(CREATE_MIGRATIONS_TABLE);
    const rows = await session.query<AppliedRow>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at, logs FROM "_prisma_migrations" ORDER BY started_at',
    );
    const failed = rows.find((row) => row.finished_at === null && row.rolled_back_at === null);
    if (failed) {
      throw new MigrationError(
        `migration ${failed.migration_name} failed earlier and nothing after it was applied; ` +
          `fix the cause, then mark it rolled back with \`mais db migrate --resolve-rolled-back ${failed.migration_name}\``,
        failed.migration_name,
      );
    }
    const done = new Map(rows.filter((row) => row.finished_at !== null).map((row) => [row.migration_name, row]));
    const known = new Set(migrations.map((m) => m.name));
    const report: MigrationReport = {
      applied: [],
      modified: migrations.filter((m) => done.has(m.name) && done.get(m.name)?.checksum !== m.checksum).map((m) => m.name),
      unknown: [...done.keys()].filter((name) => !known.has(name)),
    };
    for (const migration of migrations) {
      if (done.has(migration.name)) continue;
      await applyOne(session, migration);
      report.applied.push(migration.name);
    }
    return report;
  } finally {
    await session.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCK_KEY]);
  }
}

async function applyOne(session: SqlSession, migration: Migration): Promise<void> {
  const id = randomUUID();
  try {
    await session.transaction(async (tx) => {
      await tx.query(
        'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)',
        [id, migration.checksum, migration.name],
      );
      await tx.exec(migration.sql);
      await tx.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [id]);
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    // The transaction rolled back every statement; record the failure the way Prisma does.
    await session.query(
      'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, started_at, applied_steps_count) VALUES ($1, $2, $3, $4, now(), 0)',
      [id, migration.checksum, migration.name, reason],
    );
    throw new MigrationError(`migration ${migration.name} failed and was rolled back: ${reason}`, migration.name);
  }
}

/** `prisma migrate resolve --rolled-back`: marks a failed migration so the next run retries it. */
export async function resolveRolledBack(session: SqlSession, name: string): Promise<boolean> {
  await session.exec(CREATE_MIGRATIONS_TABLE);
  const rows = await session.query(
    'UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = $1 AND finished_at IS NULL AND rolled_back_at IS NULL RETURNING id',
    [name],
  );
  return rows.length > 0;
}
