// Data sharing agreements in DfE's central store: each source's versions kept whole, the newest in
// force. Publishing validates and compiles the document first, so what is stored always compiles.
import { appendAuditInTransaction, CENTRAL_AUDIT } from '../lib/audit/chain.ts';
import type { SqlSession } from '../lib/db/sql.ts';
import { DsaError, DsaPolicy } from '../lib/dsa/policy.ts';

export interface StoredDsa {
  source: string;
  version: number;
  document: unknown;
  publishedBy: string;
  publishedAt: Date;
}

/**
 * Stores `document` as its source's next version, with its audit entry, in one transaction.
 * Throws DsaError when it is invalid, names an unknown source, or is not the next version.
 */
export async function publishDsa(db: SqlSession, document: unknown, publishedBy: string): Promise<StoredDsa> {
  const policy = DsaPolicy.compile(document);
  return db.transaction(async (tx) => {
    const [source] = await tx.query<{ code: string }>('SELECT code FROM organisation WHERE code = $1', [policy.source]);
    if (!source) throw new DsaError([`source ${policy.source} is not a registered organisation`]);
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`dsa:${policy.source}`]);
    const [head] = await tx.query<{ version: number | null }>('SELECT max(version) AS version FROM dsa_document WHERE source_code = $1', [policy.source]);
    const expected = (head?.version ?? 0) + 1;
    if (policy.version !== expected) throw new DsaError([`version must be ${expected}, the next after the one in force`]);
    const [row] = await tx.query<{ published_at: Date | string }>(
      'INSERT INTO dsa_document (source_code, version, document, published_by) VALUES ($1, $2, $3, $4) RETURNING published_at',
      [policy.source, policy.version, JSON.stringify(document), publishedBy],
    );
    await appendAuditInTransaction(tx, CENTRAL_AUDIT, [{ actor_org: publishedBy, action: 'dsa.publish', detail: { source: policy.source, version: policy.version } }]);
    return { source: policy.source, version: policy.version, document, publishedBy, publishedAt: new Date(row!.published_at) };
  });
}

/** A source's versions, newest first. */
export async function dsaHistory(db: SqlSession, source: string): Promise<StoredDsa[]> {
  const rows = await db.query<{ version: number; document: unknown; published_by: string; published_at: Date | string }>(
    'SELECT version, document, published_by, published_at FROM dsa_document WHERE source_code = $1 ORDER BY version DESC',
    [source],
  );
  return rows.map((r) => ({ source, version: r.version, document: r.document, publishedBy: r.published_by, publishedAt: new Date(r.published_at) }));
}
