// `mais match` against a running sandbox: MATCH over PDS, results written to the LA store.
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    expect(JSON.parse(review.stdout)).toHaveLength(results.filter((r) => r.review_state === 'PENDING').length);
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
      headers: { 'content-type': 'application/json', authorization: `Bearer ${dfeToken}` },
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
    const lines = readFileSync(output, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('id,given_name,family_name,date_of_birth,gender,postcode,nhs_number,status,score,strategy');
    const byId = Object.fromEntries(lines.slice(1).map((l) => [l.split(',')[0], l.split(',')]));
    expect(byId.A1![6]).toBe(example);
    expect(byId.A1![7]).toBe('MATCH');
    expect(byId.A2![7]).toBe('NO_MATCH');
    expect(byId.A3![7]).toBe('REFUSED');
    expect(byId.A4![7]).toBe('POTENTIAL_MATCH');
  }, 60_000);
});
