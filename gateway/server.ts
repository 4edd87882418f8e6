// DfE's gateway, the edge every organisation reaches DfE through: the token endpoint and DfE's public
// keys (OAuth2 client credentials, gateway/token-service.ts), and, behind them, DfE's services. Built
// from its pieces so tests build the same gateway.
import { createServer, type Server } from 'node:http';
import type { JWK } from 'jose';
import type { SqlConnection } from '../lib/db/sql.ts';
import { OrganisationRegistry } from '../lib/organisations.ts';
import { createTokenService, JWKS_PATH, TOKEN_PATH } from './token-service.ts';

export interface GatewayParts {
  /** DfE's central store: the organisation registry, used assertions. */
  sql: SqlConnection;
  /** DfE's public base URL (the issuer of its access tokens). */
  issuer: string;
  signingKey: JWK;
  /** How often the organisation registry is checked for changes (ms). */
  refreshMs?: number;
}

export interface Gateway {
  server: Server;
  organisations: OrganisationRegistry;
  stop(): Promise<void>;
}

const json = (status: number, body: unknown) => ({ status, body: JSON.stringify(body) });

export async function createGateway(parts: GatewayParts): Promise<Gateway> {
  const organisations = new OrganisationRegistry();
  const refresh = () => parts.sql.withSession((db) => organisations.refresh(db));
  await refresh();
  let lastRefresh = Date.now();
  const refresher = setInterval(() => void refresh().then(() => (lastRefresh = Date.now()), () => {}), parts.refreshMs ?? 1000);
  // Used assertions are kept until they expire, then swept.
  const sweeper = setInterval(() => void parts.sql.withSession((db) => db.query('DELETE FROM client_assertion WHERE expires_at < now()')).catch(() => {}), 60_000);
  refresher.unref();
  sweeper.unref();

  const tokens = createTokenService({
    issuer: parts.issuer,
    signingKey: parts.signingKey,
    organisation: (code) => organisations.get(code),
    firstUse: async (id, expiresAt) => {
      const rows = await parts.sql.withSession((db) => db.query('INSERT INTO client_assertion (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id', [id, expiresAt]));
      return rows.length === 1;
    },
  });
  const oauth = tokens.callback();

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === TOKEN_PATH || path === JWKS_PATH || path === '/.well-known/openid-configuration') return void oauth(req, res);
    const reply =
      path === '/health'
        ? json(200, { status: 'pass' })
        : path === '/ready'
          ? Date.now() - lastRefresh < 5000 + (parts.refreshMs ?? 1000)
            ? json(200, { status: 'pass' })
            : json(503, { status: 'fail', reason: 'the organisation registry could not be read' })
          : json(404, { errors: [{ message: `Nothing at ${path}`, extensions: { code: 'NOT_FOUND' } }] });
    res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body);
  });
  return {
    server,
    organisations,
    async stop() {
      clearInterval(refresher);
      clearInterval(sweeper);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
  };
}
