// Append-only, hash-chained audit logs. Each entry's hash covers its own content and the previous
// entry's hash, so editing, removing or reordering any entry breaks every link after it; `verify`
// reports the first broken link. The database itself refuses UPDATE, DELETE and TRUNCATE on the
// tables (see the init migrations); the chain catches whoever gets past that.
import { createHash } from 'node:crypto';

/** The hash before the first entry. */
export const GENESIS = '0'.repeat(64);

export type AuditValue = string | number | boolean | null | Date | Uint8Array | string[] | Record<string, unknown>;

export interface AuditTable {
  table: 'audit_entry' | 'la_audit_entry';
  /** The columns an entry's hash covers, in the order they are hashed. */
  columns: readonly string[];
  /** Each column's PostgreSQL type: a batch is written as one JSON parameter read back into rows. */
  types: Readonly<Record<string, string>>;
}

export const CENTRAL_AUDIT: AuditTable = {
  table: 'audit_entry',
  columns: ['at', 'actor_org', 'action', 'pseudonym', 'purpose', 'decision', 'rule', 'policy_version', 'detail'],
  types: { at: 'timestamptz', actor_org: 'text', action: 'text', pseudonym: 'bytea', purpose: 'text', decision: 'text', rule: 'text', policy_version: 'int', detail: 'jsonb' },
};

export const LA_AUDIT: AuditTable = {
  table: 'la_audit_entry',
  columns: ['at', 'actor', 'roles', 'purpose', 'break_glass_reason', 'nhs_number', 'sources', 'withheld', 'outcome', 'trace_id'],
  types: { at: 'timestamptz', actor: 'text', roles: 'text[]', purpose: 'text', break_glass_reason: 'text', nhs_number: 'text', sources: 'jsonb', withheld: 'jsonb', outcome: 'text', trace_id: 'text' },
};

/** A stable text form of a value: the same content always hashes the same, whatever the driver returns. */
function canonical(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (value instanceof Uint8Array) return JSON.stringify(`\\x${Buffer.from(value).toString('hex')}`);
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object') {
    return `{${Object.keys(value as Record<string, unknown>)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export function entryHash(spec: AuditTable, previous: string, entry: Record<string, unknown>): string {
  const hash = createHash('sha256').update(previous).update('\n');
  for (const column of spec.columns) hash.update(`${column}=${canonical(entry[column])}\n`);
  return hash.digest('hex');
}

/** What `append` and `verify` need of a database: parameterised SQL, and transactions. */
export interface AuditSql {
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  transaction<T>(fn: (tx: { query<R>(sql: string, params?: unknown[]): Promise<R[]> }) => Promise<T>): Promise<T>;
}

type AuditTx = { query<R>(sql: string, params?: unknown[]): Promise<R[]> };
export type Appended = { seq: bigint; hash: string };

/** Entries one append writes in a single statement (PostgreSQL takes 65,535 parameters at most). */
export const MAX_AUDIT_BATCH = 4000;
/** Tries before an append gives up: each failure means another writer appended first. */
const ATTEMPTS = 50;

export class AuditError extends Error {
  override name = 'AuditError';
}

const isForked = (error: unknown) => (error as { code?: string })?.code === '23505';

function withTimes(spec: AuditTable, entries: readonly Record<string, AuditValue | undefined>[]): Record<string, unknown>[] {
  if (entries.length > MAX_AUDIT_BATCH) throw new RangeError(`at most ${MAX_AUDIT_BATCH} audit entries an append`);
  const now = new Date();
  return entries.map((entry) => {
    const row: Record<string, unknown> = { ...entry, at: entry.at ?? now };
    for (const key of Object.keys(row)) if (!spec.columns.includes(key)) throw new RangeError(`${spec.table} has no audited column ${key}`);
    return row;
  });
}

async function headOf(q: AuditTx, spec: AuditTable): Promise<string> {
  const [last] = await q.query<{ hash: string }>(`SELECT hash FROM "${spec.table}" ORDER BY seq DESC LIMIT 1`);
  return last?.hash ?? GENESIS;
}

/**
 * One INSERT of `rows` chained after `previous`. The unique index on prev_hash refuses it (23505) when
 * another writer appended after `previous` first: the chain can never fork.
 */
async function insertChained(q: AuditTx, spec: AuditTable, rows: Record<string, unknown>[], previous: string): Promise<Appended[]> {
  // The whole batch travels as one JSON parameter (fast to send and parse, whatever its size); binary
  // columns go as hex. An absent column hashes as null, so it is stored as null.
  const records: Record<string, unknown>[] = [];
  for (const row of rows) {
    const hash = entryHash(spec, previous, row);
    const record: Record<string, unknown> = { prev_hash: previous, hash };
    for (const column of spec.columns) {
      const value = row[column];
      record[column] = value === undefined || value === null ? null : spec.types[column] === 'bytea' ? Buffer.from(value as Uint8Array).toString('hex') : value instanceof Date ? value.toISOString() : value;
    }
    records.push(record);
    previous = hash;
  }
  const columns = [...spec.columns, 'prev_hash', 'hash'];
  const definitions = columns.map((c) => `"${c}" ${spec.types[c] === 'bytea' ? 'text' : (spec.types[c] ?? 'text')}`).join(', ');
  const selected = columns.map((c) => (spec.types[c] === 'bytea' ? `decode(t."${c}", 'hex')` : `t."${c}"`)).join(', ');
  const inserted = await q.query<{ seq: bigint | string; hash: string }>(
    `INSERT INTO "${spec.table}" (${columns.map((c) => `"${c}"`).join(', ')}) SELECT ${selected} FROM jsonb_to_recordset($1::jsonb) AS t(${definitions}) RETURNING seq, hash`,
    [JSON.stringify(records)],
  );
  const seqs = new Map(inserted.map((row) => [row.hash, BigInt(row.seq)]));
  return records.map((r) => ({ seq: seqs.get(r.hash as string)!, hash: r.hash as string }));
}

/** Appends one entry, chained to the last. */
export async function appendAudit(db: AuditSql, spec: AuditTable, entry: Record<string, AuditValue | undefined>): Promise<Appended> {
  const [appended] = await appendAuditEntries(db, spec, [entry]);
  return appended!;
}

/**
 * Appends entries in order as one statement: all of them chained, or none. Concurrent writers, in this
 * process or any other, race on the chain's head; the loser reads the new head and tries again.
 */
export async function appendAuditEntries(db: AuditSql, spec: AuditTable, entries: readonly Record<string, AuditValue | undefined>[], head?: { value: string | null }): Promise<Appended[]> {
  const rows = withTimes(spec, entries);
  if (rows.length === 0) return [];
  for (let attempt = 1; ; attempt++) {
    const previous = head?.value ?? (await headOf(db, spec));
    try {
      const appended = await insertChained(db, spec, rows, previous);
      if (head) head.value = appended.at(-1)!.hash;
      return appended;
    } catch (error) {
      if (head) head.value = null;
      if (!isForked(error)) throw error;
      if (attempt >= ATTEMPTS) throw new AuditError(`could not append to ${spec.table}: ${ATTEMPTS} other appends came first`);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * attempt * 2));
    }
  }
}

/**
 * Appends entries inside a transaction the caller holds, so a change and its audit entry commit
 * together or not at all. A race on the head is retried from a savepoint, not by failing the change.
 */
export async function appendAuditInTransaction(tx: AuditTx, spec: AuditTable, entries: readonly Record<string, AuditValue | undefined>[]): Promise<Appended[]> {
  const rows = withTimes(spec, entries);
  if (rows.length === 0) return [];
  for (let attempt = 1; ; attempt++) {
    await tx.query('SAVEPOINT mais_audit');
    try {
      const appended = await insertChained(tx, spec, rows, await headOf(tx, spec));
      await tx.query('RELEASE SAVEPOINT mais_audit');
      return appended;
    } catch (error) {
      await tx.query('ROLLBACK TO SAVEPOINT mais_audit');
      if (!isForked(error)) throw error;
      if (attempt >= ATTEMPTS) throw new AuditError(`could not append to ${spec.table}: ${ATTEMPTS} other appends came first`);
    }
  }
}

/**
 * A process's audit writer: appends queued by concurrent requests go out together in one statement
 * (group commit), and the chain's head is remembered between appends, so an uncontended append is one
 * round trip. Each caller's promise settles once its entries are committed.
 */
export class AuditWriter {
  private queue: { rows: Record<string, AuditValue | undefined>[]; resolve: (a: Appended[]) => void; reject: (e: unknown) => void }[] = [];
  private flushing = false;
  private readonly head = { value: null as string | null };

  constructor(
    private readonly db: { withSession<T>(fn: (session: AuditSql) => Promise<T>): Promise<T> },
    private readonly spec: AuditTable,
  ) {}

  append(entries: Record<string, AuditValue | undefined>[]): Promise<Appended[]> {
    if (entries.length === 0) return Promise.resolve([]);
    if (entries.length > MAX_AUDIT_BATCH) return Promise.reject(new RangeError(`at most ${MAX_AUDIT_BATCH} audit entries an append`));
    const entriesWithTime = entries.map((e) => ({ ...e, at: e.at ?? new Date() }));
    return new Promise((resolve, reject) => {
      this.queue.push({ rows: entriesWithTime, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.queue.length > 0) {
      const batch: typeof this.queue = [];
      let size = 0;
      while (this.queue.length > 0 && size + this.queue[0]!.rows.length <= MAX_AUDIT_BATCH) {
        const next = this.queue.shift()!;
        size += next.rows.length;
        batch.push(next);
      }
      try {
        const appended = await this.db.withSession((session) => appendAuditEntries(session, this.spec, batch.flatMap((b) => b.rows), this.head));
        let from = 0;
        for (const item of batch) {
          item.resolve(appended.slice(from, from + item.rows.length));
          from += item.rows.length;
        }
      } catch (error) {
        for (const item of batch) item.reject(error);
      }
    }
    this.flushing = false;
  }
}

export type VerifyResult = { ok: true; entries: number } | { ok: false; entries: number; seq: string; problem: string };

/** Walks the chain in order and reports the first entry whose link or content does not hold. */
export async function verifyAudit(db: AuditSql, spec: AuditTable, pageSize = 5000): Promise<VerifyResult> {
  let previous = GENESIS;
  let after = -1n;
  let entries = 0;
  for (;;) {
    const page = await db.query<Record<string, unknown>>(`SELECT * FROM "${spec.table}" WHERE seq > $1 ORDER BY seq LIMIT ${pageSize}`, [after.toString()]);
    if (page.length === 0) return { ok: true, entries };
    for (const row of page) {
      const seq = String(row.seq);
      if (row.prev_hash !== previous) return { ok: false, entries, seq, problem: 'does not follow the entry before it (an entry was removed, inserted or reordered)' };
      if (entryHash(spec, previous, row) !== row.hash) return { ok: false, entries, seq, problem: 'its content does not match its hash (the entry was edited)' };
      previous = row.hash as string;
      after = BigInt(seq);
      entries++;
    }
  }
}
