import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { SandboxFirstSequencer, SHARED_SANDBOX } from './tests/helpers/sequencer.ts';

export default defineConfig({
  test: {
    pool: 'forks',
    // Two files at a time, whatever the machine reports: much of a file's time is spent waiting on the
    // servers it started (their own processes), so two keep both cores of a two-core machine busy.
    maxWorkers: 2,
    sequence: { sequencer: SandboxFirstSequencer },
    // Every new embedded store (in tests and the sandboxes they start) copies one empty PGlite cluster
    // kept here instead of initialising its own (lib/db/pglite-template.ts).
    env: { MAIS_PGLITE_TEMPLATE_DIR: fileURLToPath(new URL('node_modules/.cache/mais-pglite', import.meta.url)) },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The shared sandbox's teardown waits up to 20 s for it to stop on Ctrl-C (tests/helpers/shared-sandbox.ts).
    teardownTimeout: 30_000,
    // Child processes of the sandbox tests print to stderr; keep the report readable.
    silent: 'passed-only',
    projects: [
      // MAIS_TEST_EXCLUDE: files (comma-separated) a run leaves out (CI's year-ahead run: the whole-sandbox files).
      { extends: true, test: { name: 'own-servers', include: ['tests/**/*.test.ts'], exclude: [...SHARED_SANDBOX, ...(process.env.MAIS_TEST_EXCLUDE ?? '').split(',').filter(Boolean)] } },
      // One after another: two files never drive the one sandbox at the same time.
      { extends: true, test: { name: 'shared-sandbox', include: SHARED_SANDBOX, globalSetup: ['tests/helpers/shared-sandbox.ts'], fileParallelism: false } },
    ],
  },
});
