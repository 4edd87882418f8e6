// The sandbox serves each embedded store to many processes through pglite-socket, whose queue (0.2.17)
// runs one protocol message at a time from any connection and keeps to one connection only inside a
// transaction. An extended-query batch (Parse, Bind, Describe, Execute ... Sync) is not a transaction,
// so two connections' batches could interleave in PGlite's single session: one's Parse replaced the
// other's unnamed statement ("unnamed prepared statement does not exist", or worse, the wrong rows), and
// a message that threw left the queue stopped for good (electric-sql/pglite#1046). This queue keeps to a
// connection from the first message of its batch to its Sync, as well as through a transaction, and
// carries on after a failed message.
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';

interface Queued {
  handlerId: number;
  message: Uint8Array;
  resolve(bytes: number): void;
  reject(error: unknown): void;
  onData(data: Uint8Array): void;
}

interface QueueInternals {
  queue: Queued[];
  processing: boolean;
  lastHandlerId: number | null;
  db: { isInTransaction(): boolean; runExclusive<T>(fn: () => Promise<T>): Promise<T>; execProtocolRawStream(message: Uint8Array, options: { onRawData(data: Uint8Array): void }): Promise<unknown> };
  processQueue(): Promise<void>;
  clearQueueForHandler(handlerId: number): void;
}

/** Extended-query messages that open or continue a batch: Parse, Bind, Describe, Execute, Close, Flush. */
const IN_BATCH = new Set([0x50, 0x42, 0x44, 0x45, 0x43, 0x48]);
/** Messages after which the connection's session state is its own no more: Sync, simple Query, Terminate. */
const ENDS_BATCH = new Set([0x53, 0x51, 0x58]);

export function keepBatchesTogether(server: PGLiteSocketServer): void {
  const queue = (server as unknown as { queryQueue: QueueInternals }).queryQueue;
  if (!queue || !Array.isArray(queue.queue) || typeof queue.processQueue !== 'function') throw new Error('pglite-socket’s queue is not as expected: check sandbox/socket-queue.ts against its version');
  let inBatch: number | null = null;

  queue.processQueue = async function processQueue(this: QueueInternals): Promise<void> {
    if (this.processing || this.queue.length === 0) return;
    this.processing = true;
    try {
      while (this.queue.length > 0) {
        const pinned = inBatch ?? (this.db.isInTransaction() ? this.lastHandlerId : null);
        const index = pinned === null ? 0 : this.queue.findIndex((q) => q.handlerId === pinned);
        // The pinned connection's next message has not arrived: wait for it (enqueue starts the queue again).
        if (index === -1) break;
        const item = this.queue.splice(index, 1)[0]!;
        const type = item.message[0]!;
        if (IN_BATCH.has(type)) inBatch = item.handlerId;
        else if (ENDS_BATCH.has(type) && inBatch === item.handlerId) inBatch = null;
        let bytes = 0;
        try {
          await this.db.runExclusive(() => this.db.execProtocolRawStream(item.message, { onRawData: (data) => ((bytes += data.length), item.onData(data)) }));
        } catch (error) {
          item.reject(error);
          continue;
        }
        this.lastHandlerId = item.handlerId;
        item.resolve(bytes);
      }
    } finally {
      this.processing = false;
    }
  };

  // A connection that goes away mid-batch releases the queue.
  const clear = queue.clearQueueForHandler.bind(queue);
  queue.clearQueueForHandler = (handlerId: number) => {
    clear(handlerId);
    if (inBatch === handlerId) {
      inBatch = null;
      void queue.processQueue();
    }
  };
}
