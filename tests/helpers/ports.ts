import { once } from 'node:events';
import type { Server } from 'node:http';
export { freePort } from '../../lib/net.ts';

/** Starts `server` listening on a free loopback port; its base URL. */
export async function serveOnLoopback(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}
