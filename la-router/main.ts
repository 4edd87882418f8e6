// The LA router service: `--config <file>` (see README), or `--supergraph <file> --insecure-dev` to serve
// any Federation 2 supergraph as stock @apollo/gateway does.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { JWK } from 'jose';
import { pino } from 'pino';
import { openSqlStore, type SqlStore } from '../lib/db/sql-store.ts';
import { useInternalTokenSigner } from '../lib/internal-token.ts';
import { useDfeTokenClient } from '../lib/dfe-token.ts';
import { runService } from '../lib/service/child.ts';
import { metricsExposureFromEnv } from '../lib/service/metrics-endpoint.ts';
import { parseRouterConfig, readRouterConfig, RouterConfigError, type RouterConfig } from './config.ts';
import { createRouter } from './server.ts';

const { values } = parseArgs({
  options: {
    config: { type: 'string' },
    supergraph: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    'insecure-dev': { type: 'boolean', default: false },
  },
});

const readJwk = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as JWK;

function configuration(): RouterConfig {
  if (values.config) {
    const config = readRouterConfig(values.config);
    // REDIS_URL in the environment (a secret, in Kubernetes) stands in for a missing `redisUrl`.
    const redisUrl = config.redisUrl ?? process.env.REDIS_URL;
    return { ...config, ...(redisUrl ? { redisUrl } : {}), ...(values.port ? { port: Number(values.port) } : {}), ...(values.host ? { host: values.host } : {}), ...(values['insecure-dev'] ? { mode: 'insecure-dev' as const } : {}) };
  }
  if (!values.supergraph || !values['insecure-dev']) throw new RouterConfigError('give --config <file>, or --supergraph <file> --insecure-dev');
  return parseRouterConfig({ la: 'dev', port: Number(values.port ?? 4100), host: values.host ?? '127.0.0.1', mode: 'insecure-dev', supergraph: { file: values.supergraph } });
}

/**
 * The LA store, for decisions and the audit: raw SQL only, so no Prisma client is loaded for PostgreSQL.
 * `DATABASE_URL` in the environment (a secret, in Kubernetes) stands in for a `database` without `url`.
 */
async function openLaStore(database: NonNullable<RouterConfig['database']>): Promise<SqlStore> {
  const url = database.url ?? (database.dataDir ? undefined : process.env.DATABASE_URL);
  if (url) return openSqlStore({ kind: 'local', url, poolSize: 8 });
  const { openStore } = await import('../lib/db/store.ts');
  return openStore({ kind: 'local', dataDir: database.dataDir ?? '' });
}

await runService('LA router', async () => {
  const config = configuration();
  const metrics = metricsExposureFromEnv();
  if (config.subgraphs.some((s) => s.kind === 'la') && !config.internalTokenKey) throw new RouterConfigError('internalTokenKey (the router’s signing key) is needed to call the LA’s subgraphs');
  const internalToken = config.internalTokenKey ? useInternalTokenSigner({ issuer: `mais-router:${config.la}`, privateKey: readJwk(config.internalTokenKey) }) : null;
  const credential = config.dfeCredential;
  const dfeCredential = credential ? (audience: string) => useDfeTokenClient({ tokenUrl: credential.tokenUrl, organisation: credential.organisation, privateKey: readJwk(credential.key), resource: audience }) : null;
  const store = config.database ? await openLaStore(config.database) : null;
  try {
    const logger = pino({ level: config.logLevel, base: { service: `mais-router:${config.la}` } }, pino.destination(2));
    const { server, stop } = await createRouter({ config, internalToken, dfeCredential, logger, metrics, ...(store ? { store } : {}) });
    server.listen(config.port, config.host);
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    return {
      url: `http://${config.host}:${port}/graphql`,
      async stop() {
        await stop();
        await store?.close();
      },
    };
  } catch (error) {
    await store?.close();
    throw error;
  }
});
