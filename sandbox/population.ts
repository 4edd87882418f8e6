// The sandbox's population: generated once into the data folder and reused while its seed and size
// match the configuration.
import { existsSync, readFileSync } from 'node:fs';
import { defaultAsOf, generatePopulation, populationPaths, type Manifest, type Scenario } from '../lib/population/generate.ts';
import { sandboxPaths, type SandboxConfig } from './config.ts';

export function readManifest(dir: string): Manifest | undefined {
  const path = populationPaths(dir).manifest;
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Manifest) : undefined;
}

export function readScenario(dir: string): Scenario {
  return JSON.parse(readFileSync(populationPaths(dir).scenario, 'utf8')) as Scenario;
}

export async function ensurePopulation(config: SandboxConfig, log: (line: string) => void): Promise<{ dir: string; generated: boolean }> {
  const dir = sandboxPaths(config).population;
  const manifest = readManifest(dir);
  if (manifest && manifest.seed === config.seed && manifest.children === config.children) return { dir, generated: false };
  log(`generating a synthetic population of ${config.children} children (seed ${config.seed})`);
  await generatePopulation({ seed: config.seed, children: config.children, outDir: dir, asOf: defaultAsOf() });
  return { dir, generated: true };
}
