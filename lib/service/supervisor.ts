// The parent side: starts each service as its own Node process (TypeScript through tsx), waits
// until it says it is ready, and stops them all together.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { FailedMessage, ReadyMessage } from './child.ts';

export interface ServiceSpec {
  name: string;
  /** Path of the service's main module. */
  main: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Flags for the service's Node.js process (e.g. its heap limit). */
  nodeFlags?: string[];
  /** How long to wait for it to report ready. */
  startTimeoutMs?: number;
}

export interface ChildService {
  name: string;
  url: string;
  pid: number;
  process: ChildProcess;
}

export class ServiceStartError extends Error {
  constructor(
    readonly service: string,
    reason: string,
  ) {
    super(`${service} did not start: ${reason}`);
    this.name = 'ServiceStartError';
  }
}

export function startService(spec: ServiceSpec): Promise<ChildService> {
  const child = fork(spec.main, spec.args ?? [], {
    execArgv: ['--import', 'tsx', ...(spec.nodeFlags ?? [])],
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new ServiceStartError(spec.name, `no ready signal within ${spec.startTimeoutMs ?? 120_000} ms`));
    }, spec.startTimeoutMs ?? 120_000);
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      reject(new ServiceStartError(spec.name, `exited (${signal ?? `code ${code}`}) before it was ready`));
    };
    child.once('exit', onExit);
    child.on('message', (message: ReadyMessage | FailedMessage) => {
      if (message?.type === 'ready') {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve({ name: spec.name, url: message.url, pid: child.pid!, process: child });
      } else if (message?.type === 'failed') {
        clearTimeout(timer);
        child.off('exit', onExit);
        // Report the failure only once the process has gone, so nothing outlives the report.
        const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
        const done = () => {
          clearTimeout(killer);
          reject(new ServiceStartError(spec.name, message.reason));
        };
        if (child.exitCode !== null || child.signalCode !== null) done();
        else child.once('exit', done);
      }
    });
  });
}

/** Asks a service to stop, and kills it if it has not stopped within `graceMs`. */
export async function stopService(service: { process: ChildProcess }, graceMs = 10_000): Promise<void> {
  const child = service.process;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
