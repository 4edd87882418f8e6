import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../lib/rate-limit.ts';

describe('createRateLimiter', () => {
  it('counts on its own when Redis cannot be reached, without failing a request or waiting for Redis', async () => {
    const problems: string[] = [];
    const limiter = createRateLimiter({ limit: 3, redisUrl: 'redis://127.0.0.1:1', prefix: 'mais:test:rate', onRedisError: (error) => problems.push(error.message) });
    try {
      const started = Date.now();
      const waits = [];
      for (let i = 0; i < 5; i++) waits.push(await limiter.take('olivia.bailey'));
      expect(waits.slice(0, 3)).toEqual([0, 0, 0]);
      expect(waits[3]).toBeGreaterThan(0);
      expect(await limiter.take('another.caseworker')).toBe(0);
      expect(Date.now() - started).toBeLessThan(1000);
      await expect.poll(() => problems.length).toBeGreaterThan(0);
    } finally {
      await limiter.close();
    }
  });

  it('without Redis, refills each caseworker’s bucket over the window', async () => {
    const limiter = createRateLimiter({ limit: 2, windowSeconds: 1, prefix: 'mais:test:rate' });
    expect([await limiter.take('a'), await limiter.take('a'), await limiter.take('a')]).toEqual([0, 0, 1]);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await limiter.take('a')).toBe(0);
    await limiter.close();
  });
});
