import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { SandboxFirstSequencer } from './tests/helpers/sequencer.ts';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    pool: 'forks',
    // Two files at a time, whatever the machine reports: most of a file's time is spent waiting on the
    // servers it started (their own processes), so two keep both cores of a two-core machine busy.
    maxWorkers: 2,
    sequence: { sequencer: SandboxFirstSequencer },
    // Every new embedded store (in tests and the sandboxes they start) copies one empty PGlite cluster
    // kept here instead of initialising its own (lib/db/pglite-template.ts).
    env: { MAIS_PGLITE_TEMPLATE_DIR: fileURLToPath(new URL('node_modules/.cache/mais-pglite', import.meta.url)) },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Child processes of the sandbox tests print to stderr; keep the report readable.
    silent: 'passed-only',
  },
});
