// Prisma's schema engine compiled to WebAssembly, driven through a driver adapter, so that
// migrations can be diffed without the native binary the Prisma CLI downloads. Its API is
// internal to Prisma: keep every use of it in this module.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bindMigrationAwareSqlAdapterFactory, type SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SchemaEngine } from '@prisma/schema-engine-wasm/schema_engine_bg';
import { listMigrations } from './migrations.ts';

type EngineModule = typeof import('@prisma/schema-engine-wasm/schema_engine_bg');

/** The part of the WebAssembly API used here (Node 20's type definitions do not declare it). */
interface WasmApi {
  instantiate(bytes: Uint8Array, imports: Record<string, unknown>): Promise<{ instance: { exports: Record<string, unknown> } }>;
}
const { WebAssembly } = globalThis as unknown as { WebAssembly: WasmApi };

let engineModule: Promise<EngineModule> | undefined;

/** Node 20 cannot import a `.wasm` module, so instantiate it by hand once per process. */
async function loadEngineModule(): Promise<EngineModule> {
  const bindingsUrl = import.meta.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
  const bindings: EngineModule = await import(bindingsUrl);
  const bytes = readFileSync(fileURLToPath(new URL('schema_engine_bg.wasm', bindingsUrl)));
  const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': bindings });
  bindings.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  return bindings;
}

export async function openSchemaEngine(
  schema: { path: string; content: string },
  adapter: SqlMigrationAwareDriverAdapterFactory,
): Promise<SchemaEngine> {
  engineModule ??= loadEngineModule();
  const bindings = await engineModule;
  return bindings.SchemaEngine.new(
    { datamodels: [[schema.path, schema.content]] },
    () => {},
    bindMigrationAwareSqlAdapterFactory(adapter),
  );
}

function readLockfile(migrationsDir: string): string | null {
  const path = join(migrationsDir, 'migration_lock.toml');
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}

/**
 * The SQL that takes a database from the state the committed migrations leave it in to the
 * state the Prisma schema describes (empty when they agree). Uses the adapter's shadow database.
 */
export async function diffMigrationsToSchema(
  schema: { path: string; content: string },
  migrationsDir: string,
  adapter: SqlMigrationAwareDriverAdapterFactory,
): Promise<string> {
  const engine = await openSchemaEngine(schema, adapter);
  try {
    const migrations = listMigrations(migrationsDir);
    const result = await engine.diff({
      from: {
        tag: 'migrations',
        baseDir: migrationsDir,
        lockfile: { path: 'migration_lock.toml', content: readLockfile(migrationsDir) },
        shadowDbInitScript: '',
        migrationDirectories: migrations.map((m) => ({
          path: m.name,
          migrationFile: { path: 'migration.sql', content: { tag: 'ok', value: m.sql } },
        })),
      },
      to: { tag: 'schemaDatamodel', files: [schema] },
      script: true,
      exitCode: null,
      filters: { externalTables: [], externalEnums: [] },
    });
    return result.stdout ?? '';
  } finally {
    engine.free();
  }
}
