// DfE's services that work over the central store (FIND, MATCH): the store and its directory
// (organisations, agreements, pseudonym keys) opened, the service served, and both closed again when it
// stops or cannot start.
import { once } from 'node:events';
import type { Server } from 'node:http';
import { openStore } from '../lib/db/store.ts';
import type { SqlConnection } from '../lib/db/sql.ts';
import { CentralDirectory } from './directory.ts';
import type { RunningService } from '../lib/service/child.ts';

export interface CentralServiceOptions {
  /** The central store: a PostgreSQL URL, or an embedded data folder. */
  databaseUrl?: string;
  dataDir?: string;
  poolSize: number;
  /** DfE's pseudonym key file. */
  pseudonymKeys: string;
  refreshMs?: number;
  host: string;
  port: number;
}

export async function serveOverCentralStore(options: CentralServiceOptions, create: (parts: { sql: SqlConnection; directory: CentralDirectory }) => Promise<{ server: Server; stop(): Promise<void> }>): Promise<RunningService> {
  const store = await openStore({ kind: 'central', dataDir: options.dataDir ?? '', poolSize: options.poolSize, ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}) });
  const directory = new CentralDirectory({ sql: store.sql, keys: options.pseudonymKeys, ...(options.refreshMs ? { refreshMs: options.refreshMs } : {}) });
  try {
    await directory.start();
    const { server, stop } = await create({ sql: store.sql, directory });
    server.listen(options.port, options.host);
    await once(server, 'listening');
    return {
      url: `http://${options.host}:${options.port}/graphql`,
      async stop() {
        directory.stop();
        await stop();
        await store.close();
      },
    };
  } catch (error) {
    directory.stop();
    await store.close();
    throw error;
  }
}
