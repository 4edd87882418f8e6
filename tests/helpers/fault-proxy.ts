// A real HTTP proxy on loopback in front of a real service, that can be told to fail, refuse or
// hang the next requests: for testing how callers behave when a dependency misbehaves.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { freePort } from './ports.ts';

export type Fault = { status: number; body?: unknown; headers?: Record<string, string> } | 'hang' | 'reset' | 'pass';

export interface FaultProxy {
  url: string;
  /** Requests seen, by path. */
  seen: string[];
  /** The bodies of the requests passed on to the service, in order. */
  bodies: string[];
  /** Faults to apply to the next requests, in order; then requests pass through. */
  next(...faults: Fault[]): void;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const queue: Fault[] = [];
  const seen: string[] = [];
  const bodies: string[] = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    seen.push(req.url ?? '');
    const fault = queue.shift() ?? 'pass';
    if (fault === 'hang') {
      hanging.add(res);
      return;
    }
    if (fault === 'reset') {
      // The connection dies mid-request, as when the process behind it is killed.
      req.socket.destroy();
      return;
    }
    if (fault !== 'pass') {
      const text = JSON.stringify(fault.body ?? {});
      res.writeHead(fault.status, { 'content-type': 'application/fhir+json', ...fault.headers });
      res.end(text);
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    bodies.push(Buffer.concat(chunks).toString('utf8'));
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k))) as Record<string, string>;
    const upstream = await fetch(`${target}${req.url}`, { method: req.method!, headers, ...(chunks.length ? { body: Buffer.concat(chunks) } : {}) });
    const body = Buffer.from(await upstream.arrayBuffer());
    res.writeHead(upstream.status, Object.fromEntries([...upstream.headers].filter(([k]) => !['content-length', 'transfer-encoding', 'connection', 'keep-alive'].includes(k))));
    res.end(body);
  });
  const port = await freePort();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    bodies,
    next: (...faults) => queue.push(...faults),
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
