// Owns one embedded store for the sandbox: opens it (applying migrations), seeds it on first start,
// and serves it over the PostgreSQL wire protocol on a loopback port so that every other process
// (services, the CLI, psql) reaches it with an ordinary PostgreSQL URL.
import { parseArgs } from 'node:util';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { openStore, type CentralClient, type LocalClient } from '../lib/db/store.ts';
import { runService } from '../lib/service/child.ts';
import { seedCentralStore, seedLocalStore } from './seed.ts';

const { values } = parseArgs({
  options: {
    name: { type: 'string' },
    kind: { type: 'string' },
    'data-dir': { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    population: { type: 'string' },
  },
});

const name = values.name ?? 'store';
await runService(`${name} store`, async () => {
  const kind = values.kind === 'central' ? 'central' : 'local';
  if (!values['data-dir'] || !values.port || !values.population) throw new Error('store-host needs --data-dir, --port and --population');
  const store = await openStore({ kind, dataDir: values['data-dir'] });
  try {
    const seeded =
      kind === 'central'
        ? await seedCentralStore(store.prisma as CentralClient)
        : await seedLocalStore(store.prisma as LocalClient, values.population, name);
    if (seeded.seeded) process.stderr.write(`${name} store: seeded ${seeded.rows} rows\n`);
    const server = new PGLiteSocketServer({ db: store.embedded!, host: values.host, port: Number(values.port), maxConnections: 32 });
    await server.start();
    return {
      url: `postgresql://postgres@${values.host}:${values.port}/postgres`,
      async stop() {
        await server.stop();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
});
