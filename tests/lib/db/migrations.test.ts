// Runs on PGlite, and on PostgreSQL when TEST_DATABASE_URL is set (`npm run test:pg`).
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyMigrations, checksum, listMigrations, MigrationError, resolveRolledBack } from '../../../lib/db/migrations.ts';
import { openStore, type Store } from '../../../lib/db/store.ts';
import { migrationsPath, STORES } from '../../../prisma/stores.ts';
import { freshDatabase, type TestDatabase } from '../../helpers/database.ts';

let database: TestDatabase | undefined;
let store: Store<unknown> | undefined;

afterEach(async () => {
  await store?.close();
  store = undefined;
  await database?.drop();
  database = undefined;
});

async function open(kind: (typeof STORES)[number], migrate = true) {
  database = await freshDatabase();
  store = await openStore({ kind, dataDir: database.dataDir, ...(database.databaseUrl ? { databaseUrl: database.databaseUrl } : {}), migrate });
  return store;
}

function migrationsFolder(migrations: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'mais-test-migrations-'));
  for (const [name, sql] of Object.entries(migrations)) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'migration.sql'), sql);
  }
  return dir;
}

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  logs: string | null;
  applied_steps_count: number;
}

describe.each(STORES)('the %s store migrations', (kind) => {
  it('apply on open and record each migration as `prisma migrate deploy` does', async () => {
    const opened = await open(kind);
    const committed = listMigrations(migrationsPath(kind));
    expect(committed.length).toBeGreaterThan(0);
    expect(opened.migrations.applied).toEqual(committed.map((m) => m.name));
    const rows = await opened.sql.withSession((s) => s.query<MigrationRow>('SELECT * FROM "_prisma_migrations" ORDER BY migration_name'));
    expect(rows.map((r) => r.migration_name)).toEqual(committed.map((m) => m.name));
    for (const [i, row] of rows.entries()) {
      const sql = readFileSync(join(migrationsPath(kind), committed[i]!.name, 'migration.sql'), 'utf8');
      expect(row.checksum).toBe(checksum(sql));
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.finished_at).not.toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
  });

  it('apply nothing the second time', async () => {
    const opened = await open(kind);
    const again = await opened.sql.withSession((s) => applyMigrations(s, listMigrations(migrationsPath(kind))));
    expect(again).toEqual({ applied: [], modified: [], unknown: [] });
    const [{ count }] = await opened.sql.withSession((s) => s.query<{ count: number }>('SELECT count(*)::int AS count FROM "_prisma_migrations"')) as [{ count: number }];
    expect(count).toBe(listMigrations(migrationsPath(kind)).length);
  });

  it('make the audit table append-only', async () => {
    const opened = await open(kind);
    const table = kind === 'central' ? 'audit_entry' : 'la_audit_entry';
    const columns = kind === 'central' ? '(actor_org, action, prev_hash, hash)' : '(actor, outcome, prev_hash, hash)';
    await opened.sql.withSession(async (s) => {
      await s.query(`INSERT INTO "${table}" ${columns} VALUES ('a', 'b', 'c', 'd')`);
      await expect(s.query(`UPDATE "${table}" SET hash = 'x'`)).rejects.toThrow(/append-only/);
      await expect(s.query(`DELETE FROM "${table}"`)).rejects.toThrow(/append-only/);
      await expect(s.query(`TRUNCATE "${table}"`)).rejects.toThrow(/append-only/);
      const rows = await s.query<{ hash: string }>(`SELECT hash FROM "${table}"`);
      expect(rows).toEqual([{ hash: 'd' }]);
    });
  });
});

describe('a failing migration', () => {
  it('is rolled back whole, recorded as failed, and blocks later runs until resolved', async () => {
    const opened = await open('local', false);
    const dir = migrationsFolder({
      '20260101000000_good': 'CREATE TABLE first_table (id int);',
      '20260102000000_bad': 'CREATE TABLE half_table (id int);\nINSERT INTO no_such_table VALUES (1);',
      '20260103000000_after': 'CREATE TABLE after_table (id int);',
    });
    await opened.sql.withSession(async (s) => {
      const error = await applyMigrations(s, listMigrations(dir)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationError);
      expect((error as MigrationError).migration).toBe('20260102000000_bad');
      expect((error as Error).message).toMatch(/20260102000000_bad failed and was rolled back/);

      const tables = await s.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_name IN ('first_table', 'half_table', 'after_table') ORDER BY table_name",
      );
      expect(tables.map((t) => t.table_name)).toEqual(['first_table']);
      const rows = await s.query<MigrationRow>('SELECT * FROM "_prisma_migrations" ORDER BY migration_name');
      expect(rows.map((r) => [r.migration_name, r.finished_at !== null])).toEqual([
        ['20260101000000_good', true],
        ['20260102000000_bad', false],
      ]);
      expect(rows[1]!.logs).toMatch(/no_such_table/);

      await expect(applyMigrations(s, listMigrations(dir))).rejects.toThrow(/failed earlier.*--resolve-rolled-back 20260102000000_bad/);

      // The operator fixes the migration and marks the failed attempt rolled back: the next run retries it.
      writeFileSync(join(dir, '20260102000000_bad', 'migration.sql'), 'CREATE TABLE half_table (id int);');
      expect(await resolveRolledBack(s, '20260102000000_bad')).toBe(true);
      expect(await resolveRolledBack(s, '20260102000000_bad')).toBe(false);
      const report = await applyMigrations(s, listMigrations(dir));
      expect(report.applied).toEqual(['20260102000000_bad', '20260103000000_after']);
    });
  });
});
