// Environment for a sandbox of its own: a fresh data folder and free ports for every service.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { processesMentioning } from './processes.ts';

export async function sandboxEnv(children: number, seed = 5): Promise<{ env: NodeJS.ProcessEnv; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mais-test-sandbox-'));
  const env: NodeJS.ProcessEnv = { MAIS_DATA_DIR: dataDir, MAIS_CHILDREN: String(children), MAIS_SEED: String(seed) };
  const perLa = ['STORE', 'ROUTER', 'CSC', 'EDUCATION', 'IDP'].flatMap((kind) => [`NORTHSHIRE_${kind}`, `SOUTHSHIRE_${kind}`]);
  for (const name of ['PDS', 'MATCHING', 'LOCATOR', 'CENTRAL_STORE', 'GATEWAY', ...perLa]) {
    env[`MAIS_${name}_PORT`] = String(await freePort());
  }
  return { env, dataDir };
}

/** Kills whatever a failed test left running from its sandbox. */
export function killLeftovers(dataDir: string): void {
  for (const line of processesMentioning(dataDir)) process.kill(Number(line.trim().split(/\s+/)[0]), 'SIGKILL');
}
