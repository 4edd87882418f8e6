// The small SQL surface that migrations and raw maintenance need, over either back-end.
import type { PGlite, Transaction } from '@electric-sql/pglite';
import pg from 'pg';

export interface SqlSession {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a script of one or more statements with no parameters. */
  exec(script: string): Promise<void>;
  /** Runs `fn` in one transaction: committed if it returns, rolled back if it throws. */
  transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T>;
}

export interface SqlConnection {
  /** Lends one session (one PostgreSQL connection) for the duration of `fn`. */
  withSession<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

function pgliteSession(db: PGlite | Transaction): SqlSession {
  return {
    async query<T>(sql: string, params?: unknown[]) {
      return (await db.query<T>(sql, params)).rows;
    },
    async exec(script) {
      await db.exec(script);
    },
    async transaction(fn) {
      if (!('transaction' in db)) throw new Error('nested transactions are not supported');
      return db.transaction((tx) => fn(pgliteSession(tx)));
    },
  };
}

export function pgliteConnection(db: PGlite): SqlConnection {
  const session = pgliteSession(db);
  return {
    withSession: (fn) => fn(session),
    close: async () => {},
  };
}

function pgSession(client: pg.PoolClient): SqlSession {
  const session: SqlSession = {
    async query<T>(sql: string, params?: unknown[]) {
      return (await client.query(sql, params)).rows as T[];
    },
    async exec(script) {
      await client.query(script);
    },
    async transaction(fn) {
      await client.query('BEGIN');
      try {
        const result = await fn(session);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    },
  };
  return session;
}

export function pgConnection(pool: pg.Pool): SqlConnection {
  return {
    async withSession(fn) {
      const client = await pool.connect();
      // A connection that dies while checked out (the server restarting) emits 'error' on the client as
      // well as failing its query: without a listener that would end the process. The query's own
      // failure reaches the caller; the broken client is destroyed rather than returned to the pool.
      let broken: Error | undefined;
      const onError = (error: Error) => void (broken = error);
      client.on('error', onError);
      try {
        return await fn(pgSession(client));
      } finally {
        client.removeListener('error', onError);
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}
