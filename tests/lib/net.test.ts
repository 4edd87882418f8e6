import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../lib/net.ts';

describe('freePort', () => {
  it('never hands out the same port twice, even before anything listens on it', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 500; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
  });

  it('skips a port something is listening on', async () => {
    const taken = await freePort();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(taken, '127.0.0.1', resolve));
    try {
      for (let i = 0; i < 50; i++) expect(await freePort()).not.toBe(taken);
    } finally {
      blocker.close();
    }
  });
});
