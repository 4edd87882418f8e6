// The order test files start in: those that start a whole sandbox (`npm start`) first, as they take
// longest, so that the rest fill the other worker around them; then Vitest's own order (failed first,
// then longest first from its cache of the last run, else largest first).
import { readFileSync } from 'node:fs';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const startsSandbox = (file: string): boolean => /start\('npm', \['start'/.test(readFileSync(file, 'utf8'));

export class SandboxFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const heavy = new Set(sorted.filter((spec) => startsSandbox(spec.moduleId)));
    return [...sorted.filter((spec) => heavy.has(spec)), ...sorted.filter((spec) => !heavy.has(spec))];
  }
}
