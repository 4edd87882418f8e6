// `npm run db:new-migration -- <name> [--store central|local]`: writes the next migration for each
// store whose Prisma schema has changed since its committed migrations. Runs on an in-memory
// PGlite, so it needs no database and no Prisma binary.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { diffMigrationsToSchema } from '../lib/db/schema-engine.ts';
import { migrationsPath, schemaPath, STORES, type StoreKind } from './stores.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { store: { type: 'string' } } });
const name = positionals[0];
if (!name || !/^[a-z0-9_]+$/.test(name) || (values.store && !STORES.includes(values.store as StoreKind))) {
  process.stderr.write('usage: npm run db:new-migration -- <name: lower_snake_case> [--store central|local]\n');
  process.exit(2);
}

const timestamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
const stores = values.store ? [values.store as StoreKind] : [...STORES];
for (const store of stores) {
  const db = await PGlite.create();
  const path = schemaPath(store);
  const sql = await diffMigrationsToSchema({ path, content: readFileSync(path, 'utf8') }, migrationsPath(store), new PrismaPGlite(db));
  await db.close();
  if (sql.trim() === '' || /^-- This is an empty migration\.\s*$/.test(sql.trim())) {
    process.stderr.write(`${store}: the schema matches the migrations; nothing to write\n`);
    continue;
  }
  const dir = join(migrationsPath(store), `${timestamp}_${name}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'migration.sql'), sql);
  process.stdout.write(`${dir}/migration.sql\n`);
}
