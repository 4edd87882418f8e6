// Pull mode for an LA whose sharing endpoint cannot take inbound connections: the router keeps a
// WebSocket open to DfE's relay (/relay/connect), opened with its DfE access token for mais:dfe:relay,
// and answers the relay requests that come down it with the same responder as /share/graphql (same
// relay-token check, same agreement check, same audit). Before its token expires it opens the next
// connection and lets the old one finish; a refused or lost connection is retried with capped,
// jittered exponential backoff.
import { decodeJwt } from 'jose';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { RELAY_CONNECT_PATH, type PullAnswer, type PullRequest } from '../schema/relay.ts';
import type { DfeCredential } from './data-source.ts';
import type { ShareAnswer, ShareRequest } from './share.ts';

export interface RelayConnectionOptions {
  /** DfE's relay connection URL, e.g. wss://gateway.mais.education.gov.uk/relay/connect. */
  url: string;
  /** The LA's DfE credential for mais:dfe:relay. */
  credential: DfeCredential;
  respond(request: ShareRequest): Promise<ShareAnswer>;
  logger: Logger;
  /** Backoff after a failed or lost connection: first wait and cap (ms). */
  backoff?: { initialMs: number; maxMs: number };
  /** A connection the gateway has not pinged for this long is taken as lost (ms). */
  silenceMs?: number;
}

/** How long before the token expires the next connection is opened. */
const RENEW_BEFORE_MS = 20_000;
/** A connection open this long has worked: closing later starts the backoff afresh. */
const STABLE_MS = 5_000;
/** How long an old connection is kept after the next one opens, for requests it is answering. */
const DRAIN_MS = 5_000;

export interface RelayConnection {
  /** Is a connection to the relay open now? */
  readonly connected: boolean;
  stop(): Promise<void>;
}

/** The relay connection URL for a DfE gateway's base URL (its issuer). */
export function relayConnectUrl(dfeIssuer: string): string {
  const url = new URL(RELAY_CONNECT_PATH, dfeIssuer);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

export function connectToRelay(options: RelayConnectionOptions): RelayConnection {
  const backoff = options.backoff ?? { initialMs: 500, maxMs: 30_000 };
  const silenceMs = options.silenceMs ?? 45_000;
  const open = new Set<WebSocket>();
  let current: WebSocket | null = null;
  let failures = 0;
  let stopped = false;
  let retry: NodeJS.Timeout | null = null;
  let lastProblem: string | null = null;

  /** The longest wait before the next attempt after `failures` in a row (half to all of it, jittered). */
  const ceiling = () => Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(failures, 16));

  function schedule(): void {
    if (stopped || retry) return;
    const max = ceiling();
    const wait = failures === 0 ? 0 : Math.round(max / 2 + (Math.random() * max) / 2);
    retry = setTimeout(() => {
      retry = null;
      void connect();
    }, wait);
    retry.unref();
  }

  function problem(message: string): void {
    failures++;
    // Said once per kind of problem, not on every retry.
    if (message !== lastProblem) options.logger.warn({ relay: options.url, retryUpToMs: ceiling() }, `relay connection: ${message}`);
    lastProblem = message;
  }

  async function connect(): Promise<void> {
    if (stopped) return;
    let token: string;
    try {
      token = await options.credential.token();
    } catch (error) {
      problem(`no DfE access token: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
      return schedule();
    }
    const socket = new WebSocket(options.url, { headers: { authorization: `Bearer ${token}` }, maxPayload: 256 * 1024, handshakeTimeout: 10_000 });
    let silence: NodeJS.Timeout | null = null;
    let renew: NodeJS.Timeout | null = null;
    let refused = false;
    let openedAt = 0;
    const heard = () => {
      if (silence) clearTimeout(silence);
      silence = setTimeout(() => socket.terminate(), silenceMs);
      silence.unref();
    };
    socket.on('unexpected-response', (_req, res) => {
      if (res.statusCode === 401) options.credential.forget?.();
      refused = true;
      problem(`DfE refused the connection (HTTP ${res.statusCode})`);
      socket.terminate();
    });
    socket.on('error', (error) => refused || problem(error.message.split('\n')[0]!));
    socket.on('open', () => {
      open.add(socket);
      openedAt = Date.now();
      const previous = current;
      current = socket;
      failures = 0;
      if (lastProblem !== null || !previous) options.logger.info({ relay: options.url }, 'relay connection open (pull mode)');
      lastProblem = null;
      heard();
      // The next connection, opened before this one's token expires; then this one is let go.
      const expiresAt = (decodeJwt(token).exp ?? 0) * 1000;
      renew = setTimeout(() => void connect(), Math.max(1000, expiresAt - Date.now() - RENEW_BEFORE_MS));
      renew.unref();
      if (previous) setTimeout(() => previous.close(1000, 'replaced'), DRAIN_MS).unref();
    });
    socket.on('ping', heard);
    socket.on('message', (data, isBinary) => {
      heard();
      let request: PullRequest;
      try {
        request = JSON.parse(isBinary ? '' : data.toString()) as PullRequest;
        if (typeof request.id !== 'string' || typeof request.authorization !== 'string' || typeof request.body !== 'string') throw new Error('not a relay request');
      } catch {
        return;
      }
      void answer(socket, request);
    });
    socket.on('close', () => {
      if (silence) clearTimeout(silence);
      if (renew) clearTimeout(renew);
      open.delete(socket);
      // A connection that closes soon after opening counts as a failure, so a gateway that keeps closing it is not hammered.
      if (openedAt > 0 && Date.now() - openedAt < STABLE_MS) failures++;
      if (current === socket) {
        current = null;
        if (!stopped) {
          if (lastProblem === null) options.logger.warn({ relay: options.url }, 'relay connection closed; reconnecting');
          schedule();
        }
      } else if (!stopped && open.size === 0) {
        schedule();
      }
    });
  }

  async function answer(socket: WebSocket, request: PullRequest): Promise<void> {
    let reply: ShareAnswer;
    try {
      let body: unknown;
      try {
        body = JSON.parse(request.body);
      } catch {
        body = null;
      }
      reply = await options.respond({ authorization: request.authorization, body });
    } catch {
      reply = { status: 500, body: { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] } };
    }
    const message: PullAnswer = { id: request.id, status: reply.status, body: JSON.stringify(reply.body) };
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  void connect();
  return {
    get connected() {
      return current?.readyState === WebSocket.OPEN;
    },
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      await Promise.all(
        [...open].map(
          (socket) =>
            new Promise<void>((resolve) => {
              socket.once('close', () => resolve());
              socket.close(1001, 'router stopping');
              setTimeout(() => (socket.terminate(), resolve()), 1000).unref();
            }),
        ),
      );
    },
  };
}
