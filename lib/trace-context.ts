// W3C trace context ids (https://www.w3.org/TR/trace-context/): a 16-byte trace id per request and an
// 8-byte span id per hop, taken from a pool of random bytes refilled 4 KiB at a time, so a request does
// not pay for a call into the system's random source for each id.
import { randomFillSync } from 'node:crypto';

const pool = Buffer.allocUnsafe(4096);
let offset = pool.length;

function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}

export const newTraceId = () => randomHex(16);
export const newSpanId = () => randomHex(8);

/** The `traceparent` header for a call made within trace `traceId` (sampled). */
export const traceparent = (traceId: string) => `00-${traceId}-${newSpanId()}-01`;
