// Small populations for tests, generated once per test file into a temporary folder.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePopulation, type Manifest } from '../../sandbox/population/generate.ts';

export const TEST_AS_OF = '2026-11-01';

export async function testPopulation(children: number, seed = 7): Promise<{ dir: string; manifest: Manifest }> {
  const dir = join(mkdtempSync(join(tmpdir(), 'mais-test-pop-')), 'population');
  const manifest = await generatePopulation({ seed, children, outDir: dir, asOf: TEST_AS_OF });
  return { dir, manifest };
}
