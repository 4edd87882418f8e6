// Runs on PGlite, and on PostgreSQL when TEST_DATABASE_URL is set (`npm run test:pg`).
import { afterEach, describe, expect, it } from 'vitest';
import { appendAudit, AuditWriter, CENTRAL_AUDIT, GENESIS, LA_AUDIT, verifyAudit } from '../../../lib/audit/chain.ts';
import { openStore, type Store } from '../../../lib/db/store.ts';
import type { SqlSession } from '../../../lib/db/sql.ts';
import { freshDatabase, type TestDatabase } from '../../helpers/database.ts';

let database: TestDatabase | undefined;
let store: Store<unknown> | undefined;
afterEach(async () => {
  await store?.close();
  await database?.drop();
  store = undefined;
  database = undefined;
});

async function open(kind: 'central' | 'local') {
  database = await freshDatabase();
  store = await openStore({ kind, dataDir: database.dataDir, ...(database.databaseUrl ? { databaseUrl: database.databaseUrl } : {}) });
  return store;
}

const laEntry = (i: number) => ({
  actor: `worker${i}`,
  roles: ['csc.practitioner'],
  purpose: 'CHILD_PROTECTION_ENQUIRY',
  nhs_number: '9434765919',
  sources: ['csc', 'education'],
  withheld: { fields: ['socialCare.cpPlans'] },
  outcome: 'OK',
  trace_id: `trace-${i}`,
});

/** Rewrites a row behind the append-only trigger's back, as a database superuser could. */
async function tamper(session: SqlSession, table: string, sql: string): Promise<void> {
  await session.exec(`ALTER TABLE "${table}" DISABLE TRIGGER USER; ${sql}; ALTER TABLE "${table}" ENABLE TRIGGER USER;`);
}

describe('the LA audit chain', () => {
  it('chains each entry to the one before, and verifies', async () => {
    const s = await open('local');
    await s.sql.withSession(async (session) => {
      const first = await appendAudit(session, LA_AUDIT, laEntry(1));
      await appendAudit(session, LA_AUDIT, laEntry(2));
      const rows = await session.query<{ prev_hash: string; hash: string }>('SELECT prev_hash, hash FROM la_audit_entry ORDER BY seq');
      expect(rows[0]!.prev_hash).toBe(GENESIS);
      expect(rows[0]!.hash).toBe(first.hash);
      expect(rows[1]!.prev_hash).toBe(first.hash);
      expect(await verifyAudit(session, LA_AUDIT)).toEqual({ ok: true, entries: 2 });
    });
  });

  it('keeps one chain when writers in several processes race: the database refuses a fork', async () => {
    const s = await open('local');
    // Two writers as two replicas would have, each remembering the head it last wrote, plus plain appends.
    const replicas = [new AuditWriter(s.sql, LA_AUDIT), new AuditWriter(s.sql, LA_AUDIT)];
    const appended = await Promise.all([
      ...Array.from({ length: 30 }, (_, i) => replicas[i % 2]!.append([laEntry(i), laEntry(100 + i)])),
      ...Array.from({ length: 10 }, (_, i) => s.sql.withSession((session) => appendAudit(session, LA_AUDIT, laEntry(200 + i))).then((a) => [a])),
    ]);
    expect(appended.flat()).toHaveLength(70);
    expect(await s.sql.withSession((session) => verifyAudit(session, LA_AUDIT))).toEqual({ ok: true, entries: 70 });
    const fork = s.sql.withSession(async (session) => {
      const [first] = await session.query<{ prev_hash: string }>('SELECT prev_hash FROM la_audit_entry ORDER BY seq LIMIT 1');
      await session.query(`INSERT INTO la_audit_entry (actor, roles, outcome, prev_hash, hash) VALUES ('x', '{}', 'OK', $1, 'y')`, [first!.prev_hash]);
    });
    await expect(fork).rejects.toThrow(/unique|duplicate/i);
  });

  it('keeps one unbroken chain under concurrent appends', async () => {
    const s = await open('local');
    await Promise.all(Array.from({ length: 20 }, (_, i) => s.sql.withSession((session) => appendAudit(session, LA_AUDIT, laEntry(i)))));
    expect(await s.sql.withSession((session) => verifyAudit(session, LA_AUDIT))).toEqual({ ok: true, entries: 20 });
  });

  it('reports the first broken link when an entry is edited, and when one is removed', async () => {
    const s = await open('local');
    await s.sql.withSession(async (session) => {
      for (let i = 1; i <= 5; i++) await appendAudit(session, LA_AUDIT, laEntry(i));
      const seqs = (await session.query<{ seq: string }>('SELECT seq::text AS seq FROM la_audit_entry ORDER BY seq')).map((r) => r.seq);
      await tamper(session, 'la_audit_entry', `UPDATE la_audit_entry SET actor = 'someone-else' WHERE seq = ${seqs[2]}`);
      expect(await verifyAudit(session, LA_AUDIT)).toEqual({ ok: false, entries: 2, seq: seqs[2], problem: 'its content does not match its hash (the entry was edited)' });
      await tamper(session, 'la_audit_entry', `UPDATE la_audit_entry SET actor = 'worker3' WHERE seq = ${seqs[2]}`);
      expect((await verifyAudit(session, LA_AUDIT)).ok).toBe(true);
      await tamper(session, 'la_audit_entry', `DELETE FROM la_audit_entry WHERE seq = ${seqs[1]}`);
      expect(await verifyAudit(session, LA_AUDIT)).toMatchObject({ ok: false, seq: seqs[2], problem: expect.stringMatching(/does not follow/) });
    });
  });
});

describe('the central audit chain', () => {
  it('chains entries with pseudonyms (bytes) and decisions, and detects an edit', async () => {
    const s = await open('central');
    await s.sql.withSession(async (session) => {
      await appendAudit(session, CENTRAL_AUDIT, { actor_org: 'northshire', action: 'find', pseudonym: Buffer.from('a1b2', 'hex'), purpose: 'EARLY_HELP', decision: 'ALLOW', rule: 'default', policy_version: 3, detail: { records: 2 } });
      await appendAudit(session, CENTRAL_AUDIT, { actor_org: 'southshire', action: 'register', detail: { items: 10 } });
      expect(await verifyAudit(session, CENTRAL_AUDIT)).toEqual({ ok: true, entries: 2 });
      await tamper(session, 'audit_entry', "UPDATE audit_entry SET decision = 'DENY' WHERE actor_org = 'northshire'");
      expect(await verifyAudit(session, CENTRAL_AUDIT)).toMatchObject({ ok: false, entries: 0 });
    });
  });

  it('refuses a column the chain does not cover', async () => {
    const s = await open('central');
    await expect(s.sql.withSession((session) => appendAudit(session, CENTRAL_AUDIT, { actor_org: 'x', action: 'y', nhs_number: '9434765919' } as never))).rejects.toThrow(/no audited column nhs_number/);
  });
});
