// The sandbox's stores serve many processes over one PGlite session: each connection's extended-query
// batches must run whole, whatever the others send meanwhile.
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepBatchesTogether } from '../../sandbox/socket-queue.ts';
import { freePort } from '../helpers/ports.ts';

let db: PGlite;
let server: PGLiteSocketServer;
let url: string;

beforeAll(async () => {
  db = await PGlite.create();
  const port = await freePort();
  server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: 8 });
  keepBatchesTogether(server);
  await server.start();
  url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
});

afterAll(async () => {
  await server?.stop();
  await db?.close();
});

describe('the sandbox store’s socket', () => {
  it('answers each connection’s parameterised queries with its own results while others run theirs, and survives a failing one', async () => {
    const clients = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        return client;
      }),
    );
    try {
      const wrong: string[] = [];
      await Promise.all(
        clients.map(async (client, c) => {
          for (let i = 0; i < 150; i++) {
            // Half the connections use transactions (simple-protocol BEGIN and COMMIT), as the services' writes do.
            const inTransaction = c % 2 === 1;
            try {
              if (inTransaction) await client.query('BEGIN');
              const { rows } = await client.query('SELECT $1::int AS n', [c * 1000 + i]);
              if (inTransaction) await client.query('COMMIT');
              if (rows[0].n !== c * 1000 + i) wrong.push(`${c}/${i}: ${JSON.stringify(rows[0])}`);
            } catch (error) {
              wrong.push(`${c}/${i}: ${(error as Error).message}`);
              if (inTransaction) await client.query('ROLLBACK').catch(() => {});
            }
          }
        }),
      );
      expect(wrong).toEqual([]);
      await expect(clients[0]!.query('SELECT $1::int / 0', [1])).rejects.toThrow(/division by zero/);
      expect((await clients[1]!.query('SELECT $1::int AS n', [7])).rows).toEqual([{ n: 7 }]);
    } finally {
      await Promise.all(clients.map((client) => client.end()));
    }
  }, 20_000);
});
