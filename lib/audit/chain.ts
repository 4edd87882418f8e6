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
  /** Of those, the jsonb columns. */
  json: readonly string[];
}

export const CENTRAL_AUDIT: AuditTable = {
  table: 'audit_entry',
  columns: ['at', 'actor_org', 'action', 'pseudonym', 'purpose', 'decision', 'rule', 'policy_version', 'detail'],
  json: ['detail'],
};

export const LA_AUDIT: AuditTable = {
  table: 'la_audit_entry',
  columns: ['at', 'actor', 'roles', 'purpose', 'break_glass_reason', 'nhs_number', 'sources', 'withheld', 'outcome', 'trace_id'],
  json: ['sources', 'withheld'],
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

/** What `append` and `verify` need of a database: parameterised SQL inside one transaction. */
export interface AuditSql {
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  transaction<T>(fn: (tx: { query<R>(sql: string, params?: unknown[]): Promise<R[]> }) => Promise<T>): Promise<T>;
}

/** Appends one entry, chained to the last. Concurrent appends take turns on an advisory lock. */
export async function appendAudit(db: AuditSql, spec: AuditTable, entry: Record<string, AuditValue | undefined>): Promise<{ seq: bigint; hash: string }> {
  const [appended] = await appendAuditEntries(db, spec, [entry]);
  return appended!;
}

/** Appends entries in order, in one transaction: all of them chained, or none. */
export async function appendAuditEntries(db: AuditSql, spec: AuditTable, entries: readonly Record<string, AuditValue | undefined>[]): Promise<{ seq: bigint; hash: string }[]> {
  const rows = withTimes(spec, entries);
  if (rows.length === 0) return [];
  return db.transaction((tx) => appendRows(tx, spec, rows));
}

type AuditTx = { query<R>(sql: string, params?: unknown[]): Promise<R[]> };

/**
 * Appends entries inside a transaction the caller holds, so a change and its audit entry commit
 * together or not at all.
 */
export async function appendAuditInTransaction(tx: AuditTx, spec: AuditTable, entries: readonly Record<string, AuditValue | undefined>[]): Promise<{ seq: bigint; hash: string }[]> {
  const rows = withTimes(spec, entries);
  return rows.length === 0 ? [] : appendRows(tx, spec, rows);
}

function withTimes(spec: AuditTable, entries: readonly Record<string, AuditValue | undefined>[]): Record<string, unknown>[] {
  const now = new Date();
  return entries.map((entry) => {
    const row: Record<string, unknown> = { ...entry, at: entry.at ?? now };
    for (const key of Object.keys(row)) if (!spec.columns.includes(key)) throw new RangeError(`${spec.table} has no audited column ${key}`);
    return row;
  });
}

async function appendRows(tx: AuditTx, spec: AuditTable, rows: Record<string, unknown>[]): Promise<{ seq: bigint; hash: string }[]> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [spec.table]);
  const [last] = await tx.query<{ hash: string }>(`SELECT hash FROM "${spec.table}" ORDER BY seq DESC LIMIT 1`);
  let previous = last?.hash ?? GENESIS;
  const columns = [...spec.columns, 'prev_hash', 'hash'];
  const values: unknown[] = [];
  const hashes: string[] = [];
  for (const row of rows) {
    const hash = entryHash(spec, previous, row);
    // An absent column hashes as null, so it is stored as null.
    values.push(...spec.columns.map((c) => (row[c] === undefined || row[c] === null ? null : spec.json.includes(c) ? JSON.stringify(row[c]) : row[c])), previous, hash);
    hashes.push(hash);
    previous = hash;
  }
  // Rows per statement stay well inside PostgreSQL's 65,535 parameters.
  const perStatement = Math.floor(60_000 / columns.length);
  const out: { seq: bigint; hash: string }[] = [];
  for (let from = 0; from < rows.length; from += perStatement) {
    const count = Math.min(perStatement, rows.length - from);
    const tuples = Array.from({ length: count }, (_, r) => `(${columns.map((_, c) => `$${r * columns.length + c + 1}`).join(', ')})`);
    const inserted = await tx.query<{ seq: bigint | string }>(
      `INSERT INTO "${spec.table}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES ${tuples.join(', ')} RETURNING seq`,
      values.slice(from * columns.length, (from + count) * columns.length),
    );
    inserted.forEach((row, i) => out.push({ seq: BigInt(row.seq), hash: hashes[from + i]! }));
  }
  return out;
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
