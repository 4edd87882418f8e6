// Re-keying the register to a new pseudonym key version, online. The new version is announced first
// (replicas then write with it and look up under both), every row is moved batch by batch from what it
// holds (version n+1 = HMAC of version n under the new key, so no NHS number is needed), the versions
// are switched, and a last sweep after every replica has seen the switch moves anything a lagging
// replica wrote meanwhile.
import { appendAudit, CENTRAL_AUDIT } from '../lib/audit/chain.ts';
import type { SqlConnection } from '../lib/db/sql.ts';
import type { Pseudonymiser } from './pseudonym.ts';

export class RotationError extends Error {
  override name = 'RotationError';
}

export interface RotationOptions {
  /** Rows moved per transaction. */
  batchSize?: number;
  /** How long every replica needs to see a key state change: more than a replica may be stale (5 s). */
  settleMs?: number;
  /** Who runs it, for the audit. */
  actor?: string;
  onProgress?: (moved: number, remaining: number) => void;
}

export interface RotationResult {
  from: number;
  to: number;
  moved: number;
  merged: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function keyStates(sql: SqlConnection): Promise<{ current: number; next: number | null }> {
  const rows = await sql.withSession((db) => db.query<{ version: number; state: string }>(`SELECT version, state FROM pseudonym_key WHERE state IN ('CURRENT', 'NEXT')`));
  const current = rows.find((r) => r.state === 'CURRENT')?.version;
  if (current === undefined) throw new RotationError('the store has no current pseudonym key version');
  return { current, next: rows.find((r) => r.state === 'NEXT')?.version ?? null };
}

/** Moves one batch of rows from `from` to `from + 1`; returns how many moved and how many merged into an existing row. */
async function moveBatch(sql: SqlConnection, pseudonymiser: Pseudonymiser, from: number, batchSize: number): Promise<{ moved: number; merged: number }> {
  const to = from + 1;
  return sql.withSession((db) =>
    db.transaction(async (tx) => {
      const rows = await tx.query<{ id: string; pseudonym: Buffer | Uint8Array; subject_pseudonym: Buffer | Uint8Array | null; custodian_code: string; system_id: string; record_type: string; first_seen: Date; last_seen: Date; provenance: string; retired_at: Date | null; restricted: boolean; matched: boolean }>(
        `SELECT id, pseudonym, subject_pseudonym, custodian_code, system_id, record_type, first_seen, last_seen, provenance, retired_at, restricted, matched
           FROM register_entry WHERE key_version = $1 ORDER BY id LIMIT ${batchSize} FOR UPDATE SKIP LOCKED`,
        [from],
      );
      if (rows.length === 0) return { moved: 0, merged: 0 };
      const hex = (value: Buffer | Uint8Array | null) => (value === null ? null : pseudonymiser.rekey(Buffer.from(value), to).toString('hex'));
      const inserted = await tx.query<{ created: boolean }>(
        `INSERT INTO register_entry AS r (pseudonym, key_version, custodian_code, system_id, record_type, subject_pseudonym, first_seen, last_seen, provenance, retired_at, restricted, matched)
         SELECT decode(t.pseudonym, 'hex'), $1, t.custodian_code, t.system_id, t.record_type, decode(t.subject, 'hex'), t.first_seen, t.last_seen, t.provenance::"RecordProvenance", t.retired_at, t.restricted, t.matched
           FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[], $9::text[], $10::timestamptz[], $11::boolean[], $12::boolean[])
             AS t(pseudonym, custodian_code, system_id, record_type, subject, first_seen, last_seen, provenance, retired_at, restricted, matched)
         ON CONFLICT (pseudonym, key_version, custodian_code, system_id, record_type) DO UPDATE SET
           first_seen = LEAST(r.first_seen, excluded.first_seen),
           last_seen = GREATEST(r.last_seen, excluded.last_seen),
           subject_pseudonym = COALESCE(r.subject_pseudonym, excluded.subject_pseudonym),
           -- A row written under the new key meanwhile is the custodian's latest word on restriction.
           restricted = r.restricted,
           matched = r.matched OR excluded.matched
         RETURNING (xmax = 0) AS created`,
        [
          to,
          rows.map((r) => hex(r.pseudonym)),
          rows.map((r) => r.custodian_code),
          rows.map((r) => r.system_id),
          rows.map((r) => r.record_type),
          rows.map((r) => hex(r.subject_pseudonym)),
          rows.map((r) => new Date(r.first_seen).toISOString()),
          rows.map((r) => new Date(r.last_seen).toISOString()),
          rows.map((r) => r.provenance),
          rows.map((r) => (r.retired_at ? new Date(r.retired_at).toISOString() : null)),
          rows.map((r) => r.restricted === true),
          rows.map((r) => r.matched === true),
        ],
      );
      await tx.query('DELETE FROM register_entry WHERE id = ANY($1::bigint[])', [rows.map((r) => String(r.id))]);
      return { moved: rows.length, merged: inserted.filter((i) => !i.created).length };
    }),
  );
}

async function remaining(sql: SqlConnection, version: number): Promise<number> {
  const [row] = await sql.withSession((db) => db.query<{ n: string }>('SELECT count(*) AS n FROM register_entry WHERE key_version = $1', [version]));
  return Number(row!.n);
}

/**
 * Re-keys the register from its current version to the next. `pseudonymiser` must hold the next
 * version's key. A rotation that was interrupted resumes where it stopped.
 */
export async function rotatePseudonymKey(sql: SqlConnection, pseudonymiser: Pseudonymiser, options: RotationOptions = {}): Promise<RotationResult> {
  const batchSize = options.batchSize ?? 5000;
  const settleMs = options.settleMs ?? 6000;
  const actor = options.actor ?? 'dfe';
  const { current, next } = await keyStates(sql);
  const to = current + 1;
  if (next !== null && next !== to) throw new RotationError(`the store is rotating to version ${next}, not ${to}`);
  if (!pseudonymiser.versions.includes(to)) throw new RotationError(`the keys file has no version ${to}: add it before rotating`);
  if (next === null) {
    await sql.withSession((db) => db.query(`INSERT INTO pseudonym_key (version, state) VALUES ($1, 'NEXT')`, [to]));
    await sql.withSession((db) => appendAudit(db, CENTRAL_AUDIT, { actor_org: actor, action: 'register.rekey.start', detail: { from: current, to } }));
    await sleep(settleMs);
  }
  let moved = 0;
  let merged = 0;
  const sweep = async () => {
    for (;;) {
      const batch = await moveBatch(sql, pseudonymiser, current, batchSize);
      if (batch.moved === 0) return;
      moved += batch.moved;
      merged += batch.merged;
      options.onProgress?.(moved, await remaining(sql, current));
    }
  };
  await sweep();
  await sql.withSession((db) =>
    db.transaction(async (tx) => {
      await tx.query(`UPDATE pseudonym_key SET state = 'RETIRED', retired_at = now() WHERE version = $1`, [current]);
      await tx.query(`UPDATE pseudonym_key SET state = 'CURRENT' WHERE version = $1`, [to]);
    }),
  );
  await sleep(settleMs);
  await sweep();
  const left = await remaining(sql, current);
  if (left > 0) throw new RotationError(`${left} rows are still under version ${current}; run the rotation again`);
  await sql.withSession((db) => appendAudit(db, CENTRAL_AUDIT, { actor_org: actor, action: 'register.rekey.finish', detail: { from: current, to, moved, merged } }));
  return { from: current, to, moved, merged };
}
