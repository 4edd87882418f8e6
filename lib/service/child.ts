// The child side of a supervised service: report readiness to the parent, stop cleanly on
// SIGINT/SIGTERM, and never outlive the parent (its IPC channel closing means it is gone). Its spans go
// to an OpenTelemetry collector when one is configured (lib/trace-context.ts).
import { startTracing, type Tracing } from '../trace-context.ts';

export interface RunningService {
  /** The URL that clients use, printed by the sandbox. */
  url: string;
  stop(): Promise<void>;
}

export interface ReadyMessage {
  type: 'ready';
  name: string;
  url: string;
}

export interface FailedMessage {
  type: 'failed';
  name: string;
  reason: string;
}

/**
 * Starts a service and keeps it running until told to stop. A start that fails prints one line
 * on stderr and exits 1: an operator sees why, never a stack trace.
 */
export async function runService(name: string, start: () => Promise<RunningService>): Promise<void> {
  let service: RunningService | undefined;
  let tracing: Tracing | null = null;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    try {
      await service?.stop();
      await tracing?.shutdown();
    } catch (error) {
      process.stderr.write(`${name}: error while stopping: ${error instanceof Error ? error.message : String(error)}\n`);
      code = code || 1;
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  process.on('disconnect', () => void stop(0));
  try {
    tracing = await startTracing(`mais-${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`);
    service = await start();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${name}: ${reason}\n`);
    process.send?.({ type: 'failed', name, reason } satisfies FailedMessage);
    process.exit(1);
  }
  if (stopping) return;
  process.send?.({ type: 'ready', name, url: service.url } satisfies ReadyMessage);
  if (!process.send) process.stdout.write(`${name} ${service.url}\n`);
}
