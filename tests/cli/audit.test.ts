import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendAudit, LA_AUDIT } from '../../lib/audit/chain.ts';
import { openStore } from '../../lib/db/store.ts';
import { run } from '../helpers/processes.ts';

describe('mais audit verify', () => {
  it('reports OK for an intact chain and the first broken link, exiting 1, for a tampered one', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mais-test-audit-'));
    const storeDir = join(dataDir, 'stores', 'northshire');
    let store = await openStore({ kind: 'local', dataDir: storeDir });
    await store.sql.withSession(async (session) => {
      for (const actor of ['a', 'b', 'c']) await appendAudit(session, LA_AUDIT, { actor, roles: ['ig.officer'], outcome: 'OK' });
    });
    await store.close();

    const ok = run(['audit', 'verify', '--la', 'northshire'], { MAIS_DATA_DIR: dataDir });
    expect(ok.status).toBe(0);
    expect(ok.stdout.trim()).toBe('northshire audit: OK (3 entries)');

    store = await openStore({ kind: 'local', dataDir: storeDir });
    await store.sql.withSession((session) =>
      session.exec("ALTER TABLE la_audit_entry DISABLE TRIGGER USER; UPDATE la_audit_entry SET outcome = 'DENIED' WHERE actor = 'b'; ALTER TABLE la_audit_entry ENABLE TRIGGER USER;"),
    );
    const seq = (await store.sql.withSession((session) => session.query<{ seq: string }>("SELECT seq::text AS seq FROM la_audit_entry WHERE actor = 'b'")))[0]!.seq;
    await store.close();

    const broken = run(['audit', 'verify', '--la', 'northshire', '--json'], { MAIS_DATA_DIR: dataDir });
    expect(broken.status).toBe(1);
    expect(JSON.parse(broken.stdout)).toMatchObject({ ok: false, seq, entries: 1 });
    expect(run(['audit', 'verify'], { MAIS_DATA_DIR: dataDir }).stderr).toContain('give --central or --la <code>');
  });
});
