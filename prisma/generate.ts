// Generates both Prisma clients without the schema-engine binary that the Prisma CLI would
// otherwise download. `prisma generate` only asks the engine for its version, so a stand-in that
// answers `--version` and fails on everything else is enough, and it makes any other engine
// command fail loudly instead of silently doing nothing.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STORES, schemaPath } from './stores.ts';

const dir = mkdtempSync(join(tmpdir(), 'mais-prisma-'));
const standIn = join(dir, 'schema-engine');
writeFileSync(
  standIn,
  '#!/bin/sh\nif [ "$1" = "--version" ]; then echo "schema-engine-cli 0.0.0 (stand-in)"; exit 0; fi\n' +
    'echo "the schema-engine binary is not installed: this project migrates with lib/db" >&2; exit 1\n',
);
chmodSync(standIn, 0o755);

let failed = false;
for (const store of STORES) {
  const result = spawnSync(
    process.execPath,
    [join('node_modules', 'prisma', 'build', 'index.js'), 'generate', '--schema', schemaPath(store)],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: standIn, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' },
    },
  );
  if (result.status !== 0) {
    process.stderr.write(`prisma generate failed for the ${store} store\n`);
    failed = true;
  }
}
rmSync(dir, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
