// The csc subgraph service for one LA: `--la <code>` with its store and the router's public key.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { JSONWebKeySet } from 'jose';
import { openStore } from '../../lib/db/store.ts';
import { useInternalTokenVerifier } from '../../lib/internal-token.ts';
import { runService } from '../../lib/service/child.ts';
import { createCscService } from './service.ts';

const { values } = parseArgs({
  options: {
    la: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '4101' },
    'database-url': { type: 'string' },
    'data-dir': { type: 'string' },
    'router-issuer': { type: 'string' },
    'router-jwks': { type: 'string' },
  },
});

await runService(`${values.la ?? 'csc'} csc subgraph`, async () => {
  if (!values.la) throw new Error('--la <code> is required');
  if (!values['router-issuer'] || !values['router-jwks']) throw new Error("--router-issuer and --router-jwks <file> (the LA router's public keys) are required");
  if (!values['database-url'] && !values['data-dir']) throw new Error('give --database-url or --data-dir for the LA store');
  const jwks = JSON.parse(readFileSync(values['router-jwks'], 'utf8')) as JSONWebKeySet;
  const verifier = useInternalTokenVerifier({ issuer: values['router-issuer'], audience: `${values.la}/csc`, jwks });
  const store = await openStore({ kind: 'local', dataDir: values['data-dir'] ?? '', ...(values['database-url'] ? { databaseUrl: values['database-url'] } : {}) });
  const { server, apollo } = await createCscService({ prisma: store.prisma, verifier });
  const port = Number(values.port);
  server.listen(port, values.host);
  await once(server, 'listening');
  return {
    url: `http://${values.host}:${port}/graphql`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await apollo.stop();
      await store.close();
    },
  };
});
