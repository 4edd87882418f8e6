// A fresh, empty store location for one test: an embedded PGlite folder by default, or a new
// database on the PostgreSQL server named by TEST_DATABASE_URL.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchDatabase } from '../../lib/db/scratch.ts';

export interface TestDatabase {
  backend: 'pglite' | 'postgresql';
  dataDir: string;
  databaseUrl?: string;
  drop(): Promise<void>;
}

export const usingPostgres = (): boolean => Boolean(process.env.TEST_DATABASE_URL);

export async function freshDatabase(): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mais-test-store-'));
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    return { backend: 'pglite', dataDir, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const scratch = await createScratchDatabase(serverUrl, 'mais_test');
  return {
    backend: 'postgresql',
    dataDir,
    databaseUrl: scratch.url,
    async drop() {
      rmSync(dataDir, { recursive: true, force: true });
      await scratch.drop();
    },
  };
}
