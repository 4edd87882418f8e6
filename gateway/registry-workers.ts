// The schema registry's checks run here, off the gateway's event loop: a few worker threads (piscina),
// a short bounded queue in front of them, and a time and memory limit on each check. A check that runs
// too long is stopped (its worker is ended and another started); a full queue is refused at once, so
// one organisation posting heavy schemas cannot hold tokens, FIND, MATCH or the relay for the others.
import { Piscina } from 'piscina';
import type { AnalyseTask, Analysis } from './registry-work.ts';

export interface RegistryWorkLimits {
  /** Worker threads checking schemas at once. */
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

const seconds = (ms: number) => (ms < 10_000 ? (ms / 1000).toFixed(1) : String(Math.round(ms / 1000)));

export class RegistryWorkers {
  private readonly pool: Piscina;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limits: RegistryWorkLimits = DEFAULT_WORK_LIMITS) {
    this.pool = new Piscina({
      filename: new URL('./registry-work.ts', import.meta.url).href,
      minThreads: limits.workers,
      maxThreads: limits.workers,
      // The services run TypeScript through tsx; so do their workers.
      execArgv: ['--import', 'tsx'],
      resourceLimits: { maxOldGenerationSizeMb: limits.memoryMb },
    });
    // A worker loads its modules before its first check, not during it.
    this.running++;
    this.warm();
  }

  /** Runs a no-op on a worker holding a slot, then frees it: a new worker's start-up is no check's time. */
  private warm(): void {
    void this.pool.run({ warm: true }).catch(() => {}).finally(() => this.release());
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }

  /** Runs the check on a worker once one is free; its time limit starts when it does. */
  async analyse(task: AnalyseTask): Promise<Analysis> {
    if (this.running >= this.limits.workers) {
      if (this.waiting.length >= this.limits.queue) throw new RegistryBusy(Math.ceil(this.limits.checkMs / 1000));
      // A finishing check hands its worker straight to the first waiting one.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else this.running++;
    const allowedMs = this.limits.checkMs * Math.max(1, task.concerned.length);
    let stopped = false;
    try {
      return (await this.pool.run(task, { signal: AbortSignal.timeout(allowedMs) })) as Analysis;
    } catch (error) {
      stopped = true;
      if (error instanceof Error && error.name === 'AbortError') throw new CheckStopped(`the check ran longer than ${seconds(allowedMs)} s and was stopped`);
      if (error instanceof Error && 'code' in error && error.code === 'ERR_WORKER_OUT_OF_MEMORY') throw new CheckStopped(`the check used more than ${this.limits.memoryMb} MB and was stopped`);
      throw error;
    } finally {
      // A stopped check's worker was ended: the slot is freed once its replacement has started.
      if (stopped) this.warm();
      else this.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
