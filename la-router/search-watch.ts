// Searches and matches are watched: each caseworker's count in a window, shared by the router's replicas
// through Redis when it is configured. A caseworker whose count reaches the threshold within a window is
// written to the LA store as an alert for the information-governance officer (`igAlerts`): who, how many
// and when, never what was searched for. The alert's count follows the caseworker's searches until the
// window ends.
import type { Redis } from 'ioredis';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { SqlConnection } from '../lib/db/sql.ts';
import { hashedKey, sharedCounter } from '../lib/rate-limit.ts';

export const SEARCH_VOLUME = 'SEARCH_VOLUME';

export interface SearchWatchOptions {
  /** Searches and matches by one caseworker within a window that raise an alert. */
  threshold: number;
  windowSeconds: number;
  /** Redis shared by every replica; without it each replica counts on its own. */
  redisUrl?: string | undefined;
  /** Names this LA's counts in Redis. */
  prefix: string;
  onRedisError?: (error: Error) => void;
}

/** What a caseworker's searches came to, when they reached the threshold within a window. */
export interface Crossing {
  caseworker: string;
  roles: readonly string[];
  count: number;
  windowStart: Date;
  windowEnd: Date;
  /** True for the search that reached the threshold; false for those after it, in the same window. */
  first: boolean;
}

/** Counts each caseworker's searches and matches in fixed windows (the window starts at their first). */
export class SearchWatch {
  private readonly counter: RateLimiterAbstract;
  private readonly client: Redis | null;

  constructor(private readonly options: SearchWatchOptions) {
    // No limit: the count is all that is wanted.
    ({ limiter: this.counter, client: this.client } = sharedCounter({ points: Number.MAX_SAFE_INTEGER, duration: options.windowSeconds, redisUrl: options.redisUrl, prefix: options.prefix, onRedisError: options.onRedisError }));
  }

  /** Counts `searches` more for the caseworker; says so when their count is at or past the threshold. */
  async record(caseworker: string, roles: readonly string[], searches: number, now = Date.now()): Promise<Crossing | null> {
    if (searches <= 0) return null;
    const result = await this.counter.consume(hashedKey(caseworker), searches);
    const count = result.consumedPoints;
    if (count < this.options.threshold) return null;
    const windowEnd = new Date(now + result.msBeforeNext);
    const windowStart = new Date(windowEnd.getTime() - this.options.windowSeconds * 1000);
    return { caseworker, roles, count, windowStart, windowEnd, first: count - searches < this.options.threshold };
  }

  /** Resolves once Redis answers (or at once without it; or after `ms`, counting here until it does). */
  async ready(ms = 2000): Promise<void> {
    const client = this.client;
    if (!client || client.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        client!.off('ready', done);
        resolve();
      }
      client.once('ready', done);
    });
  }

  async close(): Promise<void> {
    this.client?.disconnect();
  }
}

/**
 * Writes a crossing to the LA store: a new alert for the search that reached the threshold, the count
 * raised on it for those after (the window's alert, whichever replica wrote it).
 */
export async function writeAlert(sql: SqlConnection, crossing: Crossing, threshold: number): Promise<void> {
  await sql.withSession(async (db) => {
    if (crossing.first) {
      // Window starts are rounded to the second, so replicas that counted on their own (Redis away) agree on one alert.
      const start = new Date(Math.floor(crossing.windowStart.getTime() / 1000) * 1000);
      await db.query(
        `INSERT INTO la_ig_alert (kind, caseworker, roles, count, threshold, window_start, window_end, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (kind, caseworker, window_start) DO UPDATE SET count = GREATEST(la_ig_alert.count, EXCLUDED.count)`,
        [SEARCH_VOLUME, crossing.caseworker, [...crossing.roles], crossing.count, threshold, start, crossing.windowEnd, new Date()],
      );
      return;
    }
    await db.query(`UPDATE la_ig_alert SET count = GREATEST(count, $3) WHERE kind = $1 AND caseworker = $2 AND window_end >= $4 AND window_start <= $4`, [
      SEARCH_VOLUME,
      crossing.caseworker,
      crossing.count,
      new Date(),
    ]);
  });
}
