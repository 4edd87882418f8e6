// Pull mode: LAs whose sharing endpoint cannot take inbound connections keep one open to DfE instead, a
// WebSocket at /relay/connect opened with their DfE access token for mais:dfe:relay. Relay requests for
// that LA go down the newest open connection and its router answers on the same one. A connection
// lasts as long as the token it was opened with: the gateway closes it when the token expires (the
// router has opened the next one by then), and closes one that stops answering pings.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { decodeJwt } from 'jose';
import { WebSocketServer, type WebSocket } from 'ws';
import { DfeScopeError, DfeTokenError } from '../lib/dfe-token.ts';
import type { Organisation } from '../lib/organisation-credential.ts';
import { TOKEN_EXPIRED_CLOSE, type PullAnswer, type PullRequest } from '../schema/relay.ts';
import type { CustodianAnswer } from '../subgraphs/relay/relay.ts';

const MAX_MESSAGE_BYTES = 256 * 1024;

interface Connection {
  socket: WebSocket;
  organisation: string;
  alive: boolean;
  pending: Map<string, { resolve: (answer: CustodianAnswer) => void; reject: (error: Error) => void }>;
}

export class RelayHub {
  private readonly server = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  private readonly connections = new Map<string, Connection[]>();
  private readonly pinger: NodeJS.Timeout;

  constructor(
    private readonly verify: (authorization: string | undefined) => Promise<Organisation>,
    pingMs = 15_000,
  ) {
    this.pinger = setInterval(() => this.ping(), pingMs);
    this.pinger.unref();
  }

  /** Takes an upgrade request for /relay/connect: an active LA with the relay scope, or 401/403. */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    let organisation: Organisation;
    try {
      organisation = await this.verify(req.headers.authorization);
    } catch (error) {
      if (error instanceof DfeScopeError) return refuseUpgrade(socket, 403, 'Forbidden');
      if (!(error instanceof DfeTokenError)) throw error;
      return refuseUpgrade(socket, 401, 'Unauthorized');
    }
    if (organisation.type !== 'LA' || !organisation.scopes.includes('relay')) return refuseUpgrade(socket, 403, 'Forbidden');
    const expiresAt = decodeJwt(/^Bearer (\S+)$/.exec(req.headers.authorization!)![1]!).exp! * 1000;
    this.server.handleUpgrade(req, socket, head, (ws) => this.accept(ws, organisation.code, expiresAt));
  }

  /** Is an LA connected in pull mode now? */
  connected(organisation: string): boolean {
    return (this.connections.get(organisation)?.length ?? 0) > 0;
  }

  /** Sends one relay request down the LA's newest connection and waits for its answer. */
  send(organisation: string, request: { authorization: string; body: string }, timeoutMs: number): Promise<CustodianAnswer> {
    const connection = this.connections.get(organisation)?.at(-1);
    if (!connection) return Promise.reject(new Error(`${organisation} has no pull connection open`));
    const id = randomUUID();
    return new Promise<CustodianAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        connection.pending.delete(id);
        reject(Object.assign(new Error(`${organisation} did not answer in time`), { name: 'TimeoutError' }));
      }, timeoutMs);
      connection.pending.set(id, {
        resolve: (answer) => (clearTimeout(timer), resolve(answer)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
      const message: PullRequest = { id, ...request };
      connection.socket.send(JSON.stringify(message), (error) => {
        if (error) connection.pending.get(id)?.reject(error);
      });
    });
  }

  /** Closes an LA's pull connections (its router opens another, if DfE still lets it). */
  disconnect(organisation: string): void {
    for (const connection of this.connections.get(organisation) ?? []) connection.socket.close(1012, 'disconnected by DfE');
  }

  /** Open connections per LA, for /ready and operators. */
  get status(): Record<string, number> {
    return Object.fromEntries([...this.connections].map(([code, list]) => [code, list.length]));
  }

  close(): void {
    clearInterval(this.pinger);
    for (const list of this.connections.values()) for (const connection of list) connection.socket.terminate();
    this.server.close();
  }

  private accept(socket: WebSocket, organisation: string, expiresAt: number): void {
    const connection: Connection = { socket, organisation, alive: true, pending: new Map() };
    this.connections.set(organisation, [...(this.connections.get(organisation) ?? []), connection]);
    const expiry = setTimeout(() => socket.close(TOKEN_EXPIRED_CLOSE, 'token expired'), Math.max(0, expiresAt - Date.now()));
    socket.on('pong', () => (connection.alive = true));
    socket.on('message', (data, isBinary) => {
      let answer: PullAnswer;
      try {
        answer = JSON.parse(isBinary ? '' : data.toString()) as PullAnswer;
      } catch {
        return socket.close(1003, 'answers are JSON');
      }
      const waiting = typeof answer?.id === 'string' ? connection.pending.get(answer.id) : undefined;
      if (!waiting || typeof answer.status !== 'number' || typeof answer.body !== 'string') return;
      connection.pending.delete(answer.id);
      waiting.resolve({ status: answer.status, body: answer.body, transport: 'pull' });
    });
    socket.on('error', () => socket.terminate());
    socket.on('close', () => {
      clearTimeout(expiry);
      const rest = (this.connections.get(organisation) ?? []).filter((c) => c !== connection);
      if (rest.length > 0) this.connections.set(organisation, rest);
      else this.connections.delete(organisation);
      for (const waiting of connection.pending.values()) waiting.reject(new Error(`${organisation}'s pull connection closed`));
      connection.pending.clear();
    });
  }

  /** A connection that did not answer the last ping is dead: closing it lets its router open another. */
  private ping(): void {
    for (const list of this.connections.values()) {
      for (const connection of list) {
        if (!connection.alive) {
          connection.socket.terminate();
          continue;
        }
        connection.alive = false;
        connection.socket.ping();
      }
    }
  }
}

/** Answers an upgrade request with a plain HTTP refusal and closes the connection. */
export function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
