// Newline-delimited JSON, written through a bounded buffer and read as a stream, so that a
// population of a million children never has to fit in memory.
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';

const FLUSH_AT = 1 << 20;

export class NdjsonWriter {
  private readonly fd: number;
  private chunks: string[] = [];
  private size = 0;
  count = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }

  write(record: unknown): void {
    const line = `${JSON.stringify(record)}\n`;
    this.chunks.push(line);
    this.size += line.length;
    this.count++;
    if (this.size >= FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.chunks.length === 0) return;
    writeSync(this.fd, this.chunks.join(''));
    this.chunks = [];
    this.size = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

export async function* readNdjson<T = Record<string, unknown>>(path: string): AsyncGenerator<T> {
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() !== '') yield JSON.parse(line) as T;
  }
}

/** Reads an NDJSON file in arrays of at most `size` records. */
export async function* readNdjsonBatches<T = Record<string, unknown>>(path: string, size: number): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const record of readNdjson<T>(path)) {
    batch.push(record);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
