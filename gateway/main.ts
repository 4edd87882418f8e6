// DfE's gateway service: `--database-url` (or `--data-dir`) for DfE's central store, `--signing-key` for
// DfE's private key (a JWK) that signs access tokens, `--issuer` for its public base URL, and
// `--service name=url` for each DfE service it passes calls on to (at /subgraphs/<name>/graphql),
// `--rate-limit` calls a minute per organisation (shared by every replica through `--redis-url`, or
// REDIS_URL, when given); `--pseudonym-keys <file>` (DfE's pseudonym keys) runs the
// relay, whose custodians each have `--relay-timeout-ms` to answer. The schema registry checks in
// `--registry-workers` niced worker processes (default 1), each check at most `--registry-check-ms` a composition
// (default 10000), `--registry-per-minute` checks and publishes a minute per organisation (default 30).
// `--unauthenticated-rate-limit` requests a minute per client address that fail to authenticate (default
// 60), the client's address read from X-Forwarded-For only behind a `--trusted-proxy` (address or range;
// repeatable). /metrics: MAIS_METRICS_TOKEN or MAIS_METRICS_LISTEN (lib/service/metrics-endpoint.ts).
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { JWK } from 'jose';
import pino from 'pino';
import { openStore } from '../lib/db/store.ts';
import { readPseudonymKeys } from './pseudonym.ts';
import { CentralDirectory } from './directory.ts';
import { runService } from '../lib/service/child.ts';
import { metricsExposureFromEnv } from '../lib/service/metrics-endpoint.ts';
import { trustProxies } from '../lib/service/client-address.ts';
import { createGateway } from './server.ts';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '4000' },
    issuer: { type: 'string' },
    'database-url': { type: 'string' },
    'data-dir': { type: 'string' },
    'signing-key': { type: 'string' },
    service: { type: 'string', multiple: true, default: [] },
    'rate-limit': { type: 'string', default: '6000' },
    'unauthenticated-rate-limit': { type: 'string', default: '60' },
    'trusted-proxy': { type: 'string', multiple: true, default: [] },
    'redis-url': { type: 'string' },
    'pseudonym-keys': { type: 'string' },
    'relay-timeout-ms': { type: 'string', default: '2000' },
    'registry-workers': { type: 'string', default: '1' },
    'registry-check-ms': { type: 'string', default: '10000' },
    'registry-per-minute': { type: 'string', default: '30' },
  },
});

await runService('DfE gateway', async () => {
  if (!values['signing-key']) throw new Error('--signing-key <file> (DfE’s private JWK) is required');
  if (!values['database-url'] && !values['data-dir']) throw new Error('give --database-url or --data-dir for the central store');
  const signingKey = JSON.parse(readFileSync(values['signing-key'], 'utf8')) as JWK;
  const services: Record<string, string> = {};
  for (const entry of values.service) {
    const match = /^([a-z][a-z0-9-]*)=(https?:\/\/\S+)$/.exec(entry);
    if (!match) throw new Error(`--service ${entry}: give name=url, e.g. locator=http://127.0.0.1:4002/graphql`);
    services[match[1]!] = match[2]!;
  }
  const rateLimitPerMinute = Number(values['rate-limit']);
  if (!(Number.isInteger(rateLimitPerMinute) && rateLimitPerMinute > 0)) throw new Error('--rate-limit must be a positive whole number (calls a minute per organisation)');
  const relayTimeoutMs = Number(values['relay-timeout-ms']);
  if (!(Number.isInteger(relayTimeoutMs) && relayTimeoutMs >= 100)) throw new Error('--relay-timeout-ms must be a whole number of milliseconds, at least 100');
  const registry = { workers: Number(values['registry-workers']), checkMs: Number(values['registry-check-ms']), perMinute: Number(values['registry-per-minute']) };
  if (!(Number.isInteger(registry.workers) && registry.workers >= 1 && registry.workers <= 16)) throw new Error('--registry-workers must be a whole number, 1 to 16');
  if (!(Number.isInteger(registry.checkMs) && registry.checkMs >= 100)) throw new Error('--registry-check-ms must be a whole number of milliseconds, at least 100');
  if (!(Number.isInteger(registry.perMinute) && registry.perMinute >= 1)) throw new Error('--registry-per-minute must be a positive whole number');
  if (values['pseudonym-keys']) readPseudonymKeys(values['pseudonym-keys']); // fail at start, not on the first request
  const port = Number(values.port);
  const metrics = metricsExposureFromEnv();
  const unauthenticatedRateLimitPerMinute = Number(values['unauthenticated-rate-limit']);
  if (!(Number.isInteger(unauthenticatedRateLimitPerMinute) && unauthenticatedRateLimitPerMinute > 0)) throw new Error('--unauthenticated-rate-limit must be a positive whole number (refused requests a minute per client address)');
  const trustedProxies = values['trusted-proxy'];
  trustProxies(trustedProxies); // fail at start on an address that is not one
  const issuer = values.issuer ?? `http://${values.host}:${port}`;
  const store = await openStore({ kind: 'central', dataDir: values['data-dir'] ?? '', poolSize: 4, migrate: false, ...(values['database-url'] ? { databaseUrl: values['database-url'] } : {}) });
  const directory = values['pseudonym-keys'] ? new CentralDirectory({ sql: store.sql, keys: values['pseudonym-keys'] }) : null;
  try {
    await directory?.start();
    const redisUrl = values['redis-url'] ?? process.env.REDIS_URL;
    const gateway = await createGateway({ sql: store.sql, issuer, signingKey, services, rateLimitPerMinute, registry, metrics, unauthenticatedRateLimitPerMinute, trustedProxies, ...(redisUrl ? { redisUrl } : {}), logger: pino({ base: { service: 'mais-gateway' } }, pino.destination(2)), ...(directory ? { relay: { directory, timeoutMs: relayTimeoutMs } } : {}) });
    gateway.server.listen(port, values.host);
    await once(gateway.server, 'listening');
    return {
      url: issuer,
      async stop() {
        directory?.stop();
        await gateway.stop();
        await store.close();
      },
    };
  } catch (error) {
    directory?.stop();
    await store.close();
    throw error;
  }
});
