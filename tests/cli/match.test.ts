// `mais match` against a running sandbox: MATCH over PDS, results written to the LA store.
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import pg from 'pg';
import { useDfeTokenClient } from '../../lib/dfe-token.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { run } from '../helpers/processes.ts';
import { sharedSandbox } from '../helpers/shared-sandbox.ts';

let env: NodeJS.ProcessEnv;
let dataDir: string;
let storeUrl: string;

beforeAll(async () => {
  // The sandbox shared with other files (tests/helpers/shared-sandbox.ts; PDS allows 200 requests a
  // second there): nothing here relies on what they did to it, or on their having run.
  const sandbox = await sharedSandbox();
  ({ env, dataDir } = sandbox);
  storeUrl = /^northshire store\s+(\S+)$/m.exec(sandbox.stdout())![1]!;
}, 180_000);


async function count(sql: string): Promise<number> {
  return (await query<{ n: number }>(sql))[0]!.n;
}

async function query<T>(sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: storeUrl });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('mais match --la', () => {
  it('matches every social care person without an NHS number, accepting only MATCH, and resumes without redoing', async () => {
    const before = await count('SELECT count(*)::int AS n FROM ssd_person WHERE pers_common_child_id IS NULL');
    expect(before).toBeGreaterThan(5);
    // Results already recorded (a caseworker's confirmed link in the shared sandbox writes one) are not this run's.
    const earlier = await count('SELECT count(*)::int AS n FROM la_match_result');
    const linkedEarlier = await count("SELECT count(*)::int AS n FROM ssd_linked_identifiers WHERE link_table_id LIKE 'MATCH-%'");

    const first = run(['match', '--la', 'northshire', '--json'], env);
    expect(first.status).toBe(0);
    const summary = JSON.parse(first.stdout) as { total: number; counts: Record<string, number> };
    expect(summary.total).toBe(before);
    expect(summary.counts.MATCH).toBeGreaterThan(0);
    expect(first.stderr).toMatch(/matching .*\d+\/\d+/);

    const results = await query<{ status: string; review_state: string; nhs_number: string | null }>(`SELECT status, review_state, nhs_number FROM la_match_result ORDER BY matched_at OFFSET ${earlier}`);
    expect(results).toHaveLength(before);
    for (const r of results) expect(r.review_state).toBe(r.status === 'MATCH' ? 'ACCEPTED' : r.status === 'ERROR' ? 'NONE' : 'PENDING');
    const after = await count('SELECT count(*)::int AS n FROM ssd_person WHERE pers_common_child_id IS NULL');
    expect(after).toBe(before - summary.counts.MATCH!);
    // Each accepted match also records where the NHS number came from.
    const linked = await count("SELECT count(*)::int AS n FROM ssd_linked_identifiers WHERE link_table_id LIKE 'MATCH-%'");
    expect(linked - linkedEarlier).toBe(summary.counts.MATCH);

    // A second run redoes nothing finished; only records whose match ended in ERROR are tried again.
    const again = run(['match', '--la', 'northshire', '--json'], env);
    expect(JSON.parse(again.stdout).total).toBe(summary.counts.ERROR ?? 0);

    const review = run(['match', 'review', '--la', 'northshire', '--json'], env);
    expect(review.stderr).toBe('');
    expect(review.status).toBe(0);
    const pending = JSON.parse(review.stdout) as { status: string; candidateNhsNumber: string | null; reason: string; explanation: string; agreed: { field: string; level: string }[]; disagreed: string[] }[];
    // Every record waiting for review is listed: this run's, and any the shared sandbox's other files left.
    expect(results.filter((r) => r.review_state === 'PENDING').length).toBeGreaterThan(0);
    expect(pending).toHaveLength(await count("SELECT count(*)::int AS n FROM la_match_result WHERE review_state = 'PENDING'"));
    // Each says why it waits, and a candidate's which details agreed and which did not.
    for (const p of pending) {
      expect(p.reason).toMatch(/^[A-Z_]+$/);
      expect(p.explanation).not.toBe('');
      if (p.status === 'POTENTIAL_MATCH') expect(p.candidateNhsNumber).toMatch(/^\d{10}$/);
      if (p.candidateNhsNumber) expect(p.agreed.length + p.disagreed.length).toBeGreaterThan(0);
    }
    const text = run(['match', 'review', '--la', 'northshire'], env);
    // The sandbox's records include some MATCH sends to review (no postcode, a namesake's).
    const potential = pending.find((p) => p.status === 'POTENTIAL_MATCH');
    expect(potential).toBeDefined();
    expect(text.stdout).toContain(`candidate ${potential!.candidateNhsNumber}`);
    expect(text.stdout).toMatch(/agreed \S+/);
  }, 120_000);

  it('matches a CSV extract, writing the documented columns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mais-test-csv-'));
    const input = join(dir, 'in.csv');
    const output = join(dir, 'out.csv');
    const example = JSON.parse(run(['demo', '--json'], env).stdout).exampleChildren[0].nhsNumber as string;
    const laKey = JSON.parse(readFileSync(join(dataDir, 'secrets', 'northshire-dfe.private.jwk.json'), 'utf8'));
    const dfeToken = await useDfeTokenClient({ tokenUrl: `http://127.0.0.1:${env.MAIS_GATEWAY_PORT}/oauth2/token`, organisation: 'northshire', privateKey: laKey, resource: 'mais:dfe:matching' }).token();
    const patient = await fetch(`http://127.0.0.1:${env.MAIS_GATEWAY_PORT}/subgraphs/matching/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${dfeToken}`, 'mais-purpose': 'CHILD_IN_NEED_ASSESSMENT' },
      body: JSON.stringify({ query: `{ _entities(representations: [{ __typename: "Child", nhsNumber: "${example}" }]) { ... on Child { demographics { givenNames familyName dateOfBirth address { postcode } } } } }` }),
    }).then((r) => r.json() as Promise<{ data: { _entities: { demographics: { givenNames: string[]; familyName: string; dateOfBirth: string; address: { postcode: string } } }[] } }>);
    const d = patient.data._entities[0]!.demographics;
    // A1 with its postcode; A4 the same child with none: names and a date of birth alone go to review.
    writeFileSync(
      input,
      `id,given_name,family_name,date_of_birth,gender,postcode\nA1,${d.givenNames[0]},${d.familyName},${d.dateOfBirth},,${d.address.postcode}\nA2,Zebedee,Quartermaine,2012-01-01,male,E1 6AN\nA3,,Nobody,2012-01-01,,\nA4,${d.givenNames[0]},${d.familyName},${d.dateOfBirth},,\n`,
    );
    const result = run(['match', '--csv', input, '--out', output, '--json'], env);
    expect(result.status).toBe(0);
    const text = readFileSync(output, 'utf8');
    expect(text.split('\n')[0]).toBe('id,given_name,family_name,date_of_birth,gender,postcode,nhs_number,status,score,strategy,candidate_nhs_number,reason,explanation,agreed,disagreed');
    const byId = Object.fromEntries((parse(text, { columns: true }) as Record<string, string>[]).map((r) => [r.id, r]));
    expect(byId.A1).toMatchObject({ nhs_number: example, status: 'MATCH', candidate_nhs_number: '', reason: 'CORROBORATED', disagreed: '' });
    expect(byId.A1!.agreed).toMatch(/(^|;)postcode=exact(;|$)/);
    expect(byId.A2).toMatchObject({ nhs_number: '', status: 'NO_MATCH', candidate_nhs_number: '', reason: 'NOT_FOUND' });
    expect(byId.A3).toMatchObject({ nhs_number: '', status: 'REFUSED', candidate_nhs_number: '' });
    // The same child with no postcode: the candidate for a person to check, never in nhs_number, with why.
    expect(byId.A4).toMatchObject({ nhs_number: '', status: 'POTENTIAL_MATCH', candidate_nhs_number: example, reason: 'NO_POSTCODE' });
    expect(byId.A4!.agreed).toMatch(/givenName=exact/);
    expect(byId.A4!.explanation).toMatch(/no postcode/);
  }, 60_000);
});
