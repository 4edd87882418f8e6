// Owns one embedded store for the sandbox: opens it (applying migrations), seeds it on first start,
// and serves it over the PostgreSQL wire protocol on a loopback port so that every other process
// (services, the CLI, psql) reaches it with an ordinary PostgreSQL URL.
import { parseArgs } from 'node:util';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { readFileSync } from 'node:fs';
import { openStore, type CentralClient, type LocalClient, type Store } from '../lib/db/store.ts';
import type { SandboxOrganisation } from './organisations.ts';
import { runService } from '../lib/service/child.ts';
import { seedCentralStore, seedLocalStore } from './seed.ts';
import { keepBatchesTogether } from './socket-queue.ts';

const { values } = parseArgs({
  options: {
    name: { type: 'string' },
    kind: { type: 'string' },
    'data-dir': { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    population: { type: 'string' },
    organisations: { type: 'string' },
  },
});

const name = values.name ?? 'store';
await runService(`${name} store`, async () => {
  const kind = values.kind === 'central' ? 'central' : 'local';
  if (!values['data-dir'] || !values.port || !values.population) throw new Error('store-host needs --data-dir, --port and --population');
  const store = await openStore({ kind, dataDir: values['data-dir'] });
  try {
    if (kind === 'central') {
      if (!values.organisations) throw new Error('the central store needs --organisations <file>');
      const organisations = JSON.parse(readFileSync(values.organisations, 'utf8')) as SandboxOrganisation[];
      const seeded = await seedCentralStore(store as Store<CentralClient>, organisations);
      if (seeded.agreements > 0) process.stderr.write(`${name} store: published ${seeded.agreements} data sharing agreements\n`);
    } else {
      const seeded = await seedLocalStore(store.prisma as LocalClient, values.population, name);
      if (seeded.seeded) process.stderr.write(`${name} store: seeded ${seeded.rows} rows\n`);
    }
    const server = new PGLiteSocketServer({ db: store.embedded!, host: values.host, port: Number(values.port), maxConnections: 32 });
    keepBatchesTogether(server);
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
