// Runs the project's own commands as a user would (`npm start`, `npm run -s mais -- ...`), each
// in its own process group so a test can press Ctrl-C on the whole group.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Started {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when stdout has a line matching `pattern`; rejects if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Sends `signal` to the whole process group, as a terminal's Ctrl-C does, and waits for the exit code. */
  interrupt(signal?: NodeJS.Signals): Promise<number | null>;
}

export function start(command: string, args: string[], env: NodeJS.ProcessEnv): Started {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    // A whole sandbox can take over a minute to start on two busy cores.
    waitFor(pattern, timeoutMs = 150_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; stderr: ${err}`)), timeoutMs);
        const check = () => {
          if (pattern.test(out)) {
            clearTimeout(timer);
            child.stdout!.off('data', check);
            resolve();
          }
        };
        child.stdout!.on('data', check);
        void exited.then(([code]) => {
          clearTimeout(timer);
          if (!pattern.test(out)) reject(new Error(`exited with ${code} before ${pattern}; stderr: ${err}`));
        });
        check();
      });
    },
    async interrupt(signal = 'SIGINT') {
      if (child.exitCode === null) process.kill(-child.pid!, signal);
      const [code] = await exited;
      return code;
    },
  };
}

export function run(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('npm', ['run', '-s', 'mais', '--', ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Processes still running whose command line mentions `text`. */
export function processesMentioning(text: string): string[] {
  const result = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return result.stdout.split('\n').filter((line) => line.includes(text) && !line.includes('ps -eo'));
}
