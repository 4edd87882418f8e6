import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { afterEach, describe, expect, it } from 'vitest';
import { fillFromTemplate } from '../../../lib/db/pglite-template.ts';
import { diffMigrationsToSchema } from '../../../lib/db/schema-engine.ts';
import { openStore, redactUrl, StoreError, type Store } from '../../../lib/db/store.ts';
import { migrationsPath, schemaPath, STORES } from '../../../prisma/stores.ts';
import { freshDatabase, type TestDatabase } from '../../helpers/database.ts';
import { freePort } from '../../helpers/ports.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function opened(kind: 'central' | 'local'): Promise<{ store: Store<unknown>; database: TestDatabase }> {
  const database = await freshDatabase();
  cleanups.push(() => database.drop());
  const store = await openStore({ kind, dataDir: database.dataDir, ...(database.databaseUrl ? { databaseUrl: database.databaseUrl } : {}) });
  cleanups.push(() => store.close());
  return { store, database };
}

describe('opening a store', () => {
  it('gives a working Prisma client for each store kind', async () => {
    const { store } = await opened('local');
    const prisma = store.prisma as Awaited<ReturnType<typeof openStore<'local'>>>['prisma'];
    await prisma.ssd_person.create({ data: { pers_person_id: 'P1', pers_forename: "D'Arcy", pers_dob: new Date('2015-03-04T00:00:00Z') } });
    const person = await prisma.ssd_person.findUniqueOrThrow({ where: { pers_person_id: 'P1' } });
    expect(person.pers_forename).toBe("D'Arcy");
    expect(person.pers_dob?.toISOString().slice(0, 10)).toBe('2015-03-04');
  });

  it('refuses a PostgreSQL it cannot reach, in one line, with the password hidden', async () => {
    const port = await freePort();
    const error = await openStore({ kind: 'central', dataDir: '', databaseUrl: `postgresql://mais:s3cret@127.0.0.1:${port}/mais` }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    const message = (error as Error).message;
    expect(message).toBe(`cannot open the central store at postgresql://mais:***@127.0.0.1:${port}/mais: connection refused (is PostgreSQL running there?)`);
    expect(message).not.toContain('s3cret');
  });

  it('keeps a second process out of an embedded data folder', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mais-test-lock-'));
    // A live process that is not this one holds the folder: the test runner's parent.
    const { writeFileSync, mkdirSync } = await import('node:fs');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'lock'), String(process.ppid));
    const error = await openStore({ kind: 'local', dataDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(new RegExp(`process ${process.ppid} has it open`));
  });

  it('takes over a lock left by a process that has gone', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mais-test-stale-'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dataDir, 'lock'), '999999999');
    const store = await openStore({ kind: 'central', dataDir });
    cleanups.push(() => store.close());
    expect(readFileSync(join(dataDir, 'lock'), 'utf8')).toBe(String(process.pid));
  });

  it('copies a new embedded store from one empty cluster made once, and still applies and reports every migration', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'mais-test-template-'));
    const { readdirSync, statSync, existsSync } = await import('node:fs');
    const first = join(mkdtempSync(join(tmpdir(), 'mais-test-copy-')), 'pgdata');
    expect(await fillFromTemplate(first, cache)).toBe(true);
    const [made] = readdirSync(cache);
    expect(readdirSync(cache)).toEqual([made]);
    const madeAt = statSync(join(cache, made!, 'PG_VERSION')).mtimeMs;
    // A second store reuses the same template; a folder already holding a cluster is left alone; no cache, no copy.
    const second = mkdtempSync(join(tmpdir(), 'mais-test-copy-'));
    expect(await fillFromTemplate(join(second, 'pgdata'), cache)).toBe(true);
    expect(readdirSync(cache)).toEqual([made]);
    expect(statSync(join(cache, made!, 'PG_VERSION')).mtimeMs).toBe(madeAt);
    expect(await fillFromTemplate(join(second, 'pgdata'), cache)).toBe(false);
    const third = join(mkdtempSync(join(tmpdir(), 'mais-test-copy-')), 'pgdata');
    expect(await fillFromTemplate(third, '')).toBe(false);
    expect(existsSync(third)).toBe(false);

    const store = await openStore({ kind: 'local', dataDir: second });
    cleanups.push(() => store.close());
    expect(store.migrations.applied.length).toBeGreaterThan(0);
    const [row] = await store.sql.withSession((s) => s.query<{ n: number }>('SELECT count(*)::int AS n FROM "_prisma_migrations"'));
    expect(row!.n).toBe(store.migrations.applied.length);
  });

  it('hides passwords in URLs it reports', () => {
    expect(redactUrl('postgresql://u:p@h:5432/d?sslmode=require')).toBe('postgresql://u:***@h:5432/d?sslmode=require');
    expect(redactUrl('postgresql://u@h/d')).toBe('postgresql://u@h/d');
    expect(redactUrl('not a url')).toBe('(an unparseable database URL)');
  });
});

describe.each(STORES)('the committed %s migrations', (kind) => {
  it('produce exactly the schema in schema.prisma', async () => {
    const db = await PGlite.create();
    cleanups.push(() => db.close());
    const path = schemaPath(kind);
    const sql = await diffMigrationsToSchema({ path, content: readFileSync(path, 'utf8') }, migrationsPath(kind), new PrismaPGlite(db));
    expect(sql.trim()).toMatch(/^(-- This is an empty migration\.)?$/);
  });
});

describe('a PostgreSQL server that goes away while a session holds a connection', () => {
  it('fails that session’s query without ending the process, and serves new sessions once it is back', async () => {
    const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
    const { openSqlStore } = await import('../../../lib/db/sql-store.ts');
    const db = await PGlite.create();
    cleanups.push(() => db.close());
    const port = await freePort();
    const serve = async () => {
      const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: 8 });
      await server.start();
      return server;
    };
    let server = await serve();
    const store = await openSqlStore({ kind: 'local', url: `postgresql://postgres@127.0.0.1:${port}/postgres`, poolSize: 2, migrate: false });
    cleanups.push(() => store.close());
    const uncaught: unknown[] = [];
    const record = (error: unknown) => void uncaught.push(error);
    process.on('uncaughtException', record);
    try {
      const held = store.sql.withSession(async (session) => {
        await session.query('SELECT 1');
        await server.stop();
        await new Promise((resolve) => setTimeout(resolve, 200));
        return session.query('SELECT 2');
      });
      await expect(held).rejects.toThrow();
      server = await serve();
      expect(await store.sql.withSession((session) => session.query<{ n: number }>('SELECT 3 AS n'))).toEqual([{ n: 3 }]);
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', record);
      await server.stop();
    }
  });
});
