// The relay's pull mode as both sides speak it: an LA's router (la-router/relay-connection.ts) keeps a
// WebSocket open to DfE's gateway (gateway/relay-hub.ts); relay requests come down it and answers go
// back on it, one JSON message each.

export const RELAY_CONNECT_PATH = '/relay/connect';
/** Close code when the token a connection was opened with has expired. */
export const TOKEN_EXPIRED_CLOSE = 4001;

/** What the relay sends down a pull connection, and what the LA's router answers. */
export interface PullRequest {
  id: string;
  authorization: string;
  body: string;
}
export interface PullAnswer {
  id: string;
  status: number;
  body: string;
}
