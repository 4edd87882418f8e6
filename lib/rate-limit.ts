// Rate limits per key: a caseworker at an LA router, an organisation at DfE's gateway, an application at
// the PDS sandbox.
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** A token bucket per key: `limit` requests every `windowSeconds`, refilled continuously, in bursts of at most `limit`. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly limit: number,
    private readonly windowSeconds = 60,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds to wait, or 0 when the request may go ahead now. */
  take(key: string): number {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.limit, at: now };
    bucket.tokens = Math.min(this.limit, bucket.tokens + ((now - bucket.at) * this.limit) / (this.windowSeconds * 1000));
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) * this.windowSeconds) / this.limit);
  }

  /** Seconds until a request could go ahead, without taking one. */
  peek(key: string): number {
    const bucket = this.buckets.get(key);
    if (!bucket) return 0;
    const tokens = Math.min(this.limit, bucket.tokens + ((this.now() - bucket.at) * this.limit) / (this.windowSeconds * 1000));
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) * this.windowSeconds) / this.limit);
  }
}

/** A rate limit that may be shared by a service's replicas. */
export interface SharedRateLimiter {
  /** Seconds to wait, or 0 when the request may go ahead now. */
  take(key: string): Promise<number>;
  /** Seconds until a request could go ahead, without taking one (0 now). */
  peek(key: string): Promise<number>;
  close(): Promise<void>;
}

export interface SharedRateLimitOptions {
  /** Requests a window, per key. */
  limit: number;
  windowSeconds?: number;
  /** Redis shared by every replica; without it each replica counts on its own. */
  redisUrl?: string | undefined;
  /** Names this limit's keys in Redis (one service, one LA). */
  prefix: string;
  /** Told when Redis cannot be reached (the replica then counts on its own until it can). */
  onRedisError?: (error: Error) => void;
}

/**
 * `limit` requests a window per key. With Redis, every replica takes from one count per key (a fixed
 * window kept in Redis, keys hashed so no username is stored there); while Redis cannot be reached, each
 * replica falls back to its own count, so an outage of Redis never stops the service. Without Redis,
 * this replica's own token bucket.
 */
export function createRateLimiter(options: SharedRateLimitOptions): SharedRateLimiter {
  const windowSeconds = options.windowSeconds ?? 60;
  if (!options.redisUrl) {
    const local = new RateLimiter(options.limit, windowSeconds);
    return { take: async (key) => local.take(key), peek: async (key) => local.peek(key), close: async () => {} };
  }
  const { limiter, client } = sharedCounter({ points: options.limit, duration: windowSeconds, redisUrl: options.redisUrl, prefix: options.prefix, onRedisError: options.onRedisError });
  return {
    async take(key) {
      try {
        await limiter.consume(hashedKey(key));
        return 0;
      } catch (refusal) {
        if (refusal instanceof RateLimiterRes) return Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
        throw refusal;
      }
    },
    async peek(key) {
      // While Redis cannot be reached nothing is known to be spent: take() still counts on this replica.
      const spent = await limiter.get(hashedKey(key)).catch(() => null);
      return spent && spent.remainingPoints <= 0 ? Math.max(1, Math.ceil(spent.msBeforeNext / 1000)) : 0;
    },
    async close() {
      client?.disconnect();
    },
  };
}

/** A key as it is kept in Redis: hashed, so no username is stored there. */
export const hashedKey = (key: string): string => createHash('sha256').update(key).digest('base64url').slice(0, 22);

/**
 * A count per key in fixed windows of `duration` seconds (rate-limiter-flexible): in Redis, shared by every
 * replica, falling back to this replica's own count while Redis cannot be reached; or in memory.
 */
export function sharedCounter(options: { points: number; duration: number; redisUrl?: string | undefined; prefix: string; onRedisError?: ((error: Error) => void) | undefined }): {
  limiter: RateLimiterAbstract;
  client: Redis | null;
} {
  const local = () => new RateLimiterMemory({ points: options.points, duration: options.duration });
  if (!options.redisUrl) return { limiter: local(), client: null };
  const client = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 });
  client.on('error', (error: Error) => options.onRedisError?.(error));
  const limiter = new RateLimiterRedis({ storeClient: client, points: options.points, duration: options.duration, keyPrefix: options.prefix, rejectIfRedisNotReady: true, insuranceLimiter: local() });
  return { limiter, client };
}

/** Logs that Redis cannot be reached, at most once a minute (the client tries again and again). */
export function redisWarning(logger: Logger): (error: Error) => void {
  let last = 0;
  return (error) => {
    if (Date.now() - last < 60_000) return;
    last = Date.now();
    logger.warn({ err: error.message }, 'Redis for shared rate limits cannot be reached: each replica counts on its own until it can');
  };
}
