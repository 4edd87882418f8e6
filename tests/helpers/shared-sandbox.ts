// One sandbox (`npm start`, as a user runs it) shared by the test files that only use one, rather than
// one each. Vitest's global setup of the `shared-sandbox` project (vitest.config.ts) chooses its data
// folder and ports; the first of those files to call `sharedSandbox()` starts it, in a process group of
// its own that outlives that file, and the global teardown stops it with Ctrl-C when every file is done.
// Starting it only when needed, rather than with the run, keeps it from competing for the CPU with the
// files that start sandboxes of their own. The files run one after another (never two at once against
// the same sandbox), always in the order SHARED_SANDBOX (tests/helpers/sequencer.ts) lists them.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import type { TestProject } from 'vitest/node';
import { isAlive } from '../../lib/process.ts';
import { ROOT } from './processes.ts';
import { killLeftovers, sandboxEnv } from './sandbox.ts';

export interface SharedSandbox {
  env: NodeJS.ProcessEnv;
  dataDir: string;
  /** Files the sandbox's stdout and stderr go to, and the one its process group's id is written to. */
  logs: { stdout: string; stderr: string; pid: string };
}

declare module 'vitest' {
  export interface ProvidedContext {
    sharedSandbox: SharedSandbox;
  }
}

/** Vitest global setup: the sandbox's settings, and the teardown that stops it if a file started it. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // 1,500 children (seed 11): a northshire record MATCH calls a potential match, and enough unmatched ones.
  const { env, dataDir } = await sandboxEnv(1500, 11);
  // MATCH over all of an LA's unmatched records within a test's time: above PDS's default of 5 a second.
  env.MAIS_PDS_RATE_LIMIT = '200';
  // A caseworker's searches alert the IG officer within a test's few.
  env.MAIS_SEARCH_ALERT_THRESHOLD = '12';
  const logDir = mkdtempSync(join(tmpdir(), 'mais-test-shared-sandbox-'));
  const logs = { stdout: join(logDir, 'stdout'), stderr: join(logDir, 'stderr'), pid: join(logDir, 'pid') };
  project.provide('sharedSandbox', { env, dataDir, logs });
  return async () => {
    if (!existsSync(logs.pid)) return;
    const pid = Number(readFileSync(logs.pid, 'utf8'));
    if (isAlive(pid)) process.kill(-pid, 'SIGINT');
    for (const deadline = Date.now() + 20_000; isAlive(pid) && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 250));
    killLeftovers(dataDir);
  };
}

/** In a test file: the shared sandbox (started here if no file has yet) once it is ready, with what it has printed so far. */
export async function sharedSandbox(timeoutMs = 150_000): Promise<SharedSandbox & { stdout(): string; stderr(): string }> {
  const shared = inject('sharedSandbox');
  let exited: number | null | undefined;
  if (!existsSync(shared.logs.pid)) {
    const child = spawn('npm', ['start'], {
      cwd: ROOT,
      env: { ...process.env, ...shared.env },
      detached: true,
      stdio: ['ignore', openSync(shared.logs.stdout, 'a'), openSync(shared.logs.stderr, 'a')],
    });
    writeFileSync(shared.logs.pid, String(child.pid));
    child.once('exit', (code) => (exited = code));
    child.unref();
  }
  const stdout = () => (existsSync(shared.logs.stdout) ? readFileSync(shared.logs.stdout, 'utf8') : '');
  const stderr = () => (existsSync(shared.logs.stderr) ? readFileSync(shared.logs.stderr, 'utf8') : '');
  const deadline = Date.now() + timeoutMs;
  while (!/^MAIS sandbox ready/m.test(stdout())) {
    if (exited !== undefined) throw new Error(`the shared sandbox exited with ${exited} before it was ready; stderr: ${stderr()}`);
    if (Date.now() > deadline) throw new Error(`the shared sandbox was not ready within ${timeoutMs / 1000} s; stderr: ${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { ...shared, stdout, stderr };
}
