// One sandbox (`npm start`, as a user runs it) shared by the test files that only use one, rather than
// one each: started by Vitest's global setup of the `shared-sandbox` project (vitest.config.ts) without
// waiting for it, so the other tests run meanwhile, and stopped with Ctrl-C when every file is done.
// Those files run one after another (never two at once against the same sandbox), always in the order
// SHARED_SANDBOX (tests/helpers/sequencer.ts) lists them. A file waits for "MAIS sandbox ready" with
// `sharedSandbox()`.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import type { TestProject } from 'vitest/node';
import { ROOT } from './processes.ts';
import { killLeftovers, sandboxEnv } from './sandbox.ts';

export interface SharedSandbox {
  env: NodeJS.ProcessEnv;
  dataDir: string;
  /** Files the sandbox's stdout and stderr go to, and the one its exit code is written to. */
  logs: { stdout: string; stderr: string; exit: string };
}

declare module 'vitest' {
  export interface ProvidedContext {
    sharedSandbox: SharedSandbox;
  }
}

/** Vitest global setup: starts the sandbox and returns its teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // 1,500 children (seed 11): a northshire record MATCH calls a potential match, and enough unmatched ones.
  const { env, dataDir } = await sandboxEnv(1500, 11);
  // MATCH over all of an LA's unmatched records within a test's time: above PDS's default of 5 a second.
  env.MAIS_PDS_RATE_LIMIT = '200';
  const logDir = mkdtempSync(join(tmpdir(), 'mais-test-shared-sandbox-'));
  const logs = { stdout: join(logDir, 'stdout'), stderr: join(logDir, 'stderr'), exit: join(logDir, 'exit') };
  const child = spawn('npm', ['start'], { cwd: ROOT, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', openSync(logs.stdout, 'a'), openSync(logs.stderr, 'a')] });
  const exited = once(child, 'exit').then(([code]) => writeFileSync(logs.exit, String(code)));
  project.provide('sharedSandbox', { env, dataDir, logs });
  return async () => {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGINT');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
    killLeftovers(dataDir);
  };
}

/** In a test file: the shared sandbox once it is ready, with what it has printed so far. */
export async function sharedSandbox(timeoutMs = 150_000): Promise<SharedSandbox & { stdout(): string; stderr(): string }> {
  const shared = inject('sharedSandbox');
  const stdout = () => readFileSync(shared.logs.stdout, 'utf8');
  const stderr = () => readFileSync(shared.logs.stderr, 'utf8');
  const deadline = Date.now() + timeoutMs;
  while (!/^MAIS sandbox ready/m.test(stdout())) {
    if (existsSync(shared.logs.exit)) throw new Error(`the shared sandbox exited with ${readFileSync(shared.logs.exit, 'utf8')} before it was ready; stderr: ${stderr()}`);
    if (Date.now() > deadline) throw new Error(`the shared sandbox was not ready within ${timeoutMs / 1000} s; stderr: ${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { ...shared, stdout, stderr };
}
