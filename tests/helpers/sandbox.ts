// Environment for a sandbox of its own: a fresh data folder and free ports for every service.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { isAlive } from '../../lib/process.ts';
import { processesMentioning, ROOT } from './processes.ts';

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

/**
 * Waits until no other test file of this checkout runs a whole sandbox of its own, then holds that
 * turn until the returned function is called. Two sandboxes starting and serving side by side on a
 * two-core machine starve each other past their 3 s deadlines ("csc did not answer in time").
 */
export async function takeSandboxTurn(timeoutMs = 600_000): Promise<() => void> {
  const dir = join(ROOT, 'node_modules', '.cache');
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, 'mais-test-sandbox.lock');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => rmSync(lock, { force: true });
    } catch {
      // Held by a test process that has gone: take it over.
      const holder = Number(readFileSync(lock, 'utf8') || 0);
      if (!holder || !isAlive(holder)) rmSync(lock, { force: true });
      else if (Date.now() > deadline) throw new Error(`another test file held the sandbox turn for over ${timeoutMs / 1000} s (process ${holder})`);
      else await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
