// The order test files start in. Files that start a whole sandbox of their own take turns
// (takeSandboxTurn in tests/helpers/sandbox.ts), so they are spread through the queue: the longest
// first, the others after an even share of the rest, so that the other worker reaches each about when
// the one before it ends. Within those groups, Vitest's own order (failed first, then longest first
// from its cache of the last run, else largest first). Files sharing the sandbox run in the order
// SHARED_SANDBOX lists them, the same on every run (Vitest runs them after the rest, one at a time).
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Files that share one sandbox (tests/helpers/shared-sandbox.ts) instead of each starting its own, in
 * the order they run: the portal's search expects its record not yet offered to MATCH, which
 * `mais match` then does for every unmatched record.
 */
export const SHARED_SANDBOX = ['tests/portal/portal.test.ts', 'tests/cli/match.test.ts'];

const startsSandbox = (file: string): boolean => /start\('npm', \['start'/.test(readFileSync(file, 'utf8'));

export class SandboxFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const name = (spec: TestSpecification) => relative(this.ctx.config.root, spec.moduleId);
    const shared = sorted.filter((spec) => SHARED_SANDBOX.includes(name(spec))).sort((a, b) => SHARED_SANDBOX.indexOf(name(a)) - SHARED_SANDBOX.indexOf(name(b)));
    const own = sorted.filter((spec) => !shared.includes(spec) && startsSandbox(spec.moduleId));
    const rest = sorted.filter((spec) => !shared.includes(spec) && !own.includes(spec));
    if (own.length === 0) return [...rest, ...shared];
    const share = Math.ceil(rest.length / own.length);
    return [...own.flatMap((spec, i) => [spec, ...rest.slice(i * share, (i + 1) * share)]), ...shared];
  }
}
