// The order test files start in: those that start a whole sandbox (`npm start`) or use the shared one
// first, as they take longest, so that the rest fill the other worker around them; then Vitest's own
// order (failed first, then longest first from its cache of the last run, else largest first). Files
// sharing the sandbox run in the order SHARED_SANDBOX lists them, the same on every run.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Files that share one sandbox (tests/helpers/shared-sandbox.ts) instead of each starting its own, in
 * the order they run: the portal's search expects its record not yet offered to MATCH, which
 * `mais match` then does for every unmatched record.
 */
export const SHARED_SANDBOX = ['tests/portal/portal.test.ts', 'tests/cli/match.test.ts'];

const startsSandbox = (file: string): boolean => /start\('npm', \['start'|sharedSandbox\(\)/.test(readFileSync(file, 'utf8'));

export class SandboxFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const shared = (spec: TestSpecification) => SHARED_SANDBOX.indexOf(relative(this.ctx.config.root, spec.moduleId));
    const heavy = sorted.filter((spec) => startsSandbox(spec.moduleId)).sort((a, b) => shared(a) - shared(b));
    return [...heavy, ...sorted.filter((spec) => !heavy.includes(spec))];
  }
}
