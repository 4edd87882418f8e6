import { createServer } from 'node:net';

const BLOCK = 1000;
const FIRST_BLOCK = 20_000;
const handedOut = new Set<number>();
let next = 0;

/**
 * A TCP port on loopback that nothing is listening on right now and that this process has not handed out before.
 * A port is often handed out some time before the process given it listens on it, so the kernel's own choice
 * (port 0) could give the same port twice. Under Vitest each worker (VITEST_POOL_ID) draws from a block of its own
 * below the kernel's ephemeral range, so test files running side by side never collide either.
 */
export async function freePort(): Promise<number> {
  const worker = Number(process.env.VITEST_POOL_ID);
  for (let tries = 0; tries < BLOCK; tries++) {
    const wanted = Number.isInteger(worker) && worker > 0 ? FIRST_BLOCK + (worker % 12) * BLOCK + (next++ % BLOCK) : 0;
    const port = await listenBriefly(wanted);
    if (port !== undefined && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free loopback port');
}

/** The port a listener got on `port` (0: the kernel's choice) and closed again; undefined when it is taken. */
function listenBriefly(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const got = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(got));
    });
  });
}
