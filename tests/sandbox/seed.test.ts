// Runs on PGlite, and on PostgreSQL when TEST_DATABASE_URL is set (`npm run test:pg`).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store, type LocalClient, type CentralClient } from '../../lib/db/store.ts';
import { populationPaths, type Manifest } from '../../sandbox/population/generate.ts';
import { LA_TABLES } from '../../lib/db/la-tables.ts';
import { ensureOrganisations } from '../../sandbox/organisations.ts';
import { seedCentralStore, seedLocalStore } from '../../sandbox/seed.ts';
import { freshDatabase, type TestDatabase } from '../helpers/database.ts';
import { testPopulation } from '../helpers/population.ts';

let population: { dir: string; manifest: Manifest };
const opened: { store: Store<unknown>; database: TestDatabase }[] = [];

async function open<K extends 'central' | 'local'>(kind: K) {
  const database = await freshDatabase();
  const store = await openStore({ kind, dataDir: database.dataDir, ...(database.databaseUrl ? { databaseUrl: database.databaseUrl } : {}) });
  opened.push({ store, database });
  return store;
}

beforeAll(async () => {
  population = await testPopulation(1500, 3);
});
afterAll(async () => {
  for (const { store, database } of opened) {
    await store.close();
    await database.drop();
  }
});

describe('seeding an LA store from the population', () => {
  it('loads every table in full, and only once', async () => {
    const store = await open('local');
    const prisma = store.prisma as LocalClient;
    const first = await seedLocalStore(prisma, population.dir, 'northshire');
    expect(first.seeded).toBe(true);
    const expected = population.manifest.counts.las.northshire!;
    expect(first.rows).toBe(Object.values(expected).reduce((a, b) => a + b, 0));
    for (const table of LA_TABLES) {
      const count = await (prisma as unknown as Record<string, { count(): Promise<number> }>)[table]!.count();
      expect(count, table).toBe(expected[table]);
    }
    const person = await prisma.ssd_person.findFirstOrThrow({ where: { pers_common_child_id: { not: null } } });
    expect(person.pers_dob).toBeInstanceOf(Date);

    const second = await seedLocalStore(prisma, population.dir, 'northshire');
    expect(second).toEqual({ seeded: false, rows: 0 });
    expect(await prisma.ssd_person.count()).toBe(expected.ssd_person);
  });

  it('writes nothing at all when a file cannot be loaded', async () => {
    const store = await open('local');
    const prisma = store.prisma as LocalClient;
    // A population with a table file missing half-way through the load order.
    const { dir } = await testPopulation(300, 4);
    rmSync(populationPaths(dir).laTable('southshire', 'ssd_involvements'));
    await expect(seedLocalStore(prisma, dir, 'southshire')).rejects.toThrow(/ssd_involvements/);
    expect(await prisma.ssd_person.count()).toBe(0);
    expect(await prisma.la_user.count()).toBe(0);
  });
});

describe('seeding the central store', () => {
  it('registers DfE and the sandbox LAs with their credential keys, and publishes each LA’s agreement once', async () => {
    const store = (await open('central')) as Store<CentralClient>;
    const secrets = mkdtempSync(join(tmpdir(), 'mais-secrets-'));
    const organisations = await ensureOrganisations(secrets);
    expect(await seedCentralStore(store, organisations)).toEqual({ organisations: 3, agreements: 2 });
    const stored = await store.prisma.organisation.findMany({ orderBy: { code: 'asc' } });
    expect(stored.map((o) => [o.code, o.type])).toEqual([
      ['dfe', 'DFE'],
      ['northshire', 'LA'],
      ['southshire', 'LA'],
    ]);
    expect((stored[1]!.jwks as { keys: { kid: string; d?: string }[] }).keys[0]).toMatchObject({ kid: expect.stringMatching(/^northshire-dfe-/) });
    expect((stored[1]!.jwks as { keys: { d?: string }[] }).keys[0]!.d).toBeUndefined();
    // A second start publishes nothing more, and takes a new key if one was made.
    rmSync(join(secrets, 'northshire-dfe.private.jwk.json'));
    const again = await ensureOrganisations(secrets);
    expect(await seedCentralStore(store, again)).toEqual({ organisations: 3, agreements: 0 });
    const northshire = await store.prisma.organisation.findUnique({ where: { code: 'northshire' } });
    expect(northshire!.jwks).toEqual(again[1]!.jwks);
    expect(await store.prisma.dsaDocument.count()).toBe(2);
    rmSync(secrets, { recursive: true, force: true });
  });
});
