// An empty, initialised PGlite cluster kept in a cache folder and copied into each new embedded store,
// rather than initialising every store afresh (PGlite's initdb takes two to four seconds of CPU; a copy
// under half a second). Only where MAIS_PGLITE_TEMPLATE_DIR names a folder, as the sandbox and the tests
// set it; a service in production initialises its store itself. The copy is the cluster exactly as
// PGlite.create leaves an empty folder: migrations are still applied, and reported, on open.
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';

/** The installed PGlite's version: a template is only ever copied into the same version. */
function pgliteVersion(): string {
  let dir = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (dir !== dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name, version } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (name === '@electric-sql/pglite' && version) return version;
    }
    dir = dirname(dir);
  }
  throw new Error('cannot find the installed PGlite version');
}

/** The template for this PGlite, made once (by whichever process gets there first). */
async function template(cacheDir: string): Promise<string> {
  const path = join(cacheDir, `pglite-${pgliteVersion()}-empty`);
  if (existsSync(join(path, 'PG_VERSION'))) return path;
  mkdirSync(cacheDir, { recursive: true });
  const making = `${path}.${process.pid}.${Date.now()}`;
  try {
    const db = await PGlite.create(making);
    await db.close();
    // Another process may have made it meanwhile: theirs stands, ours goes.
    if (!existsSync(path)) renameSync(making, path);
  } finally {
    rmSync(making, { recursive: true, force: true });
  }
  return path;
}

/**
 * Fills `pgdata` (a new store's cluster folder, absent or empty) from the template when a cache folder
 * is configured; returns whether it did. Any failure leaves `pgdata` as it was, for PGlite to initialise.
 */
export async function fillFromTemplate(pgdata: string, cacheDir = process.env.MAIS_PGLITE_TEMPLATE_DIR): Promise<boolean> {
  if (!cacheDir || existsSync(join(pgdata, 'PG_VERSION'))) return false;
  try {
    cpSync(await template(cacheDir), pgdata, { recursive: true });
    return true;
  } catch {
    rmSync(pgdata, { recursive: true, force: true });
    return false;
  }
}
