// The schema registry's checks run here, away from the gateway: in worker processes at the lowest CPU
// priority (nice 19, the whole process, its garbage collector's threads too), behind a short bounded
// queue, each check with a time and a memory limit. A check that runs too long is stopped (its process
// killed and another started); a full queue is refused at once. So one organisation posting heavy
// schemas holds neither the gateway's event loop nor the CPU its tokens, FIND, MATCH and relay need.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { AnalyseTask, Analysis } from './registry-work.ts';

export interface RegistryWorkLimits {
  /** Worker processes checking schemas at once. */
  workers: number;
  /** Checks that may wait for a worker; more are refused with RegistryBusy. */
  queue: number;
  /** How long one composition may run (a check composes once for each organisation it concerns). */
  checkMs: number;
  /** Heap a worker may use before it is ended. */
  memoryMb: number;
}

export const DEFAULT_WORK_LIMITS: RegistryWorkLimits = { workers: 1, queue: 4, checkMs: 10_000, memoryMb: 256 };

/** Every worker is busy and the queue is full: try again after `retryAfterSeconds`. */
export class RegistryBusy extends Error {
  override name = 'RegistryBusy';
  constructor(readonly retryAfterSeconds: number) {
    super('the schema registry is busy with other checks; try again shortly');
  }
}

/** The check was stopped: it ran longer, or used more memory, than a check may. */
export class CheckStopped extends Error {
  override name = 'CheckStopped';
}

const WORKER = fileURLToPath(new URL('./registry-work.ts', import.meta.url));
/** Started through nice(1) where there is one, so the process and every thread it starts run at nice 19. */
const NICE = ['/usr/bin/nice', '/bin/nice'].find((path) => existsSync(path));
const seconds = (ms: number) => (ms < 10_000 ? (ms / 1000).toFixed(1) : String(Math.round(ms / 1000)));

type Reply = { ready: true } | { id: number; result: Analysis } | { id: number; error: string };

/** One worker process: started, ready, and asked one task at a time. */
class Worker {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  private pending: { id: number; resolve(result: Analysis): void; reject(error: Error): void } | null = null;
  private nextId = 0;
  exited = false;

  constructor(memoryMb: number) {
    const node = [process.execPath, '--import', 'tsx', `--max-old-space-size=${memoryMb}`];
    this.child = fork(WORKER, [], {
      ...(NICE ? { execPath: NICE, execArgv: ['-n', '19', ...node] } : { execArgv: node.slice(1) }),
      env: { ...process.env, MAIS_REGISTRY_WORKER: '1' },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    if (!NICE && this.child.pid) {
      try {
        setPriority(this.child.pid, 19);
      } catch {
        // Not permitted here: the time, memory and queue limits still bound the work.
      }
    }
    this.ready = new Promise((resolve, reject) => {
      this.child.on('message', (reply: Reply) => {
        if ('ready' in reply) return resolve();
        const pending = this.pending;
        if (!pending || pending.id !== reply.id) return;
        this.pending = null;
        if ('result' in reply) pending.resolve(reply.result);
        else pending.reject(new Error(reply.error));
      });
      this.child.once('exit', (code, signal) => {
        this.exited = true;
        reject(new Error(`the registry's worker exited before it was ready (${signal ?? code})`));
        // A worker that dies mid-check ran out of memory (V8 aborts) or was killed for its time.
        this.pending?.reject(new CheckStopped(`the check used more than ${memoryMb} MB and was stopped`));
        this.pending = null;
      });
    });
    this.ready.catch(() => {});
  }

  run(task: AnalyseTask): Promise<Analysis> {
    return new Promise((resolve, reject) => {
      this.pending = { id: ++this.nextId, resolve, reject };
      this.child.send({ id: this.nextId, task });
    });
  }

  stop(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

export class RegistryWorkers {
  private readonly all = new Set<Worker>();
  private readonly idle: Worker[] = [];
  private readonly waiting: ((worker: Worker) => void)[] = [];
  private closed = false;
  private started = false;

  constructor(readonly limits: RegistryWorkLimits = DEFAULT_WORK_LIMITS) {}

  /** Starts a worker; once it is ready it takes the first waiting check, or waits for one. */
  private start(): void {
    if (this.closed) return;
    const worker = new Worker(this.limits.memoryMb);
    this.all.add(worker);
    worker.child.once('exit', () => {
      this.all.delete(worker);
      // One that died while idle is replaced; one that died on a check is replaced by analyse.
      const at = this.idle.indexOf(worker);
      if (at >= 0) {
        this.idle.splice(at, 1);
        this.start();
      }
    });
    worker.ready.then(
      () => this.release(worker),
      () => void setTimeout(() => this.start(), 1000).unref(),
    );
  }

  private release(worker: Worker): void {
    if (this.closed || worker.exited) return worker.stop();
    const next = this.waiting.shift();
    if (next) next(worker);
    else this.idle.push(worker);
  }

  /** Runs the check on a worker once one is free; its time limit starts when it does. */
  async analyse(task: AnalyseTask): Promise<Analysis> {
    // Workers start with the first check, not with the gateway: most gateways' registries are rarely asked.
    if (!this.started) {
      this.started = true;
      for (let i = 0; i < this.limits.workers; i++) this.start();
    }
    let worker = this.idle.pop();
    if (!worker) {
      if (this.waiting.length >= this.limits.queue) throw new RegistryBusy(Math.ceil(this.limits.checkMs / 1000));
      worker = await new Promise<Worker>((resolve) => this.waiting.push(resolve));
    }
    const allowedMs = this.limits.checkMs * Math.max(1, task.concerned.length);
    let overTime = false;
    const timer = setTimeout(() => {
      overTime = true;
      worker.stop();
    }, allowedMs);
    try {
      const result = await worker.run(task);
      this.release(worker);
      return result;
    } catch (error) {
      if (!worker.exited) {
        this.release(worker);
        throw error;
      }
      // Killed for its time, or out of memory: a new worker takes its place.
      this.start();
      if (overTime) throw new CheckStopped(`the check ran longer than ${seconds(allowedMs)} s and was stopped`);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const worker of this.all) worker.stop();
    this.all.clear();
    this.idle.length = 0;
  }
}
