// The volume watch on its own, against a real LA store (PGlite; PostgreSQL with `npm run test:pg`) and,
// when TEST_REDIS_URL is set, the Redis that replicas share: generated sequences of searches by several
// caseworkers, with the alert checked after every step.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../lib/db/store.ts';
import { SEARCH_VOLUME, SearchWatch, writeAlert } from '../../la-router/search-watch.ts';
import { freshDatabase, type TestDatabase } from '../helpers/database.ts';

const redisUrl = process.env.TEST_REDIS_URL;
let database: TestDatabase;
let store: Store<unknown>;

beforeAll(async () => {
  database = await freshDatabase();
  store = await openStore({ kind: 'local', dataDir: database.dataDir, ...(database.databaseUrl ? { databaseUrl: database.databaseUrl } : {}) });
}, 60_000);

afterAll(async () => {
  await store?.close();
  await database?.drop();
});

interface AlertRow {
  kind: string;
  caseworker: string;
  roles: string[];
  count: number;
  threshold: number;
  window_start: Date;
  window_end: Date;
}

const alertsFor = (caseworkers: string[]) =>
  store.sql.withSession((db) => db.query<AlertRow>('SELECT * FROM la_ig_alert WHERE caseworker = ANY($1) ORDER BY id', [caseworkers]));

/** Records each step on one of the watches (replicas), writing the alert as the router does. */
async function step(watches: SearchWatch[], threshold: number, replica: number, caseworker: string, searches: number): Promise<void> {
  const crossing = await watches[replica % watches.length]!.record(caseworker, ['csc.practitioner'], searches);
  if (crossing) await writeAlert(store.sql, crossing, threshold);
}

describe('the search volume watch', () => {
  it('alerts on a caseworker once their searches reach the threshold in a window, never before, with the count and no search terms', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.record({ who: fc.integer({ min: 0, max: 3 }), searches: fc.integer({ min: 1, max: 3 }), replica: fc.nat(1) }), { minLength: 1, maxLength: 14 }),
        async (threshold, steps) => {
          const run = randomUUID().slice(0, 8);
          const names = [0, 1, 2, 3].map((i) => `worker${i}.${run}`);
          // Two replicas: with Redis they count as one; without it each counts on its own, so a run uses one.
          const prefix = `mais:test:searches:${run}`;
          const watches = redisUrl ? [0, 1].map(() => new SearchWatch({ threshold, windowSeconds: 3600, redisUrl, prefix })) : [new SearchWatch({ threshold, windowSeconds: 3600, prefix })];
          await Promise.all(watches.map((w) => w.ready()));
          try {
            const counts = [0, 0, 0, 0];
            for (const { who, searches, replica } of steps) {
              await step(watches, threshold, replica, names[who]!, searches);
              counts[who]! += searches;
              const alerts = await alertsFor(names);
              const expected = names.flatMap((caseworker, i) => (counts[i]! >= threshold ? [{ kind: SEARCH_VOLUME, caseworker, roles: ['csc.practitioner'], count: counts[i]!, threshold }] : []));
              expect(alerts.map(({ kind, caseworker, roles, count, threshold: t }) => ({ kind, caseworker, roles, count, threshold: t }))).toEqual(
                expect.arrayContaining(expected.map((e) => expect.objectContaining(e))),
              );
              expect(alerts).toHaveLength(expected.length);
              for (const alert of alerts) {
                const length = new Date(alert.window_end).getTime() - new Date(alert.window_start).getTime();
                expect(length).toBeGreaterThanOrEqual(3599_000);
                expect(length).toBeLessThanOrEqual(3601_000);
                expect(Date.now()).toBeLessThanOrEqual(new Date(alert.window_end).getTime());
              }
            }
          } finally {
            await Promise.all(watches.map((w) => w.close()));
          }
        },
      ),
      { numRuns: 40 },
    );
    // What an alert can hold: no column for what was searched on.
    const columns = await store.sql.withSession((db) => db.query<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_name = 'la_ig_alert' ORDER BY column_name`));
    expect(columns.map((c) => c.column_name)).toEqual(['at', 'caseworker', 'count', 'id', 'kind', 'roles', 'threshold', 'window_end', 'window_start']);
  }, 120_000);

  it('starts a new count, and a new alert, when the window has passed', async () => {
    const caseworker = `windowed.${randomUUID().slice(0, 8)}`;
    const watch = new SearchWatch({ threshold: 2, windowSeconds: 1, prefix: `mais:test:searches:${caseworker}`, ...(redisUrl ? { redisUrl } : {}) });
    await watch.ready();
    try {
      await step([watch], 2, 0, caseworker, 2);
      expect((await alertsFor([caseworker])).map((a) => a.count)).toEqual([2]);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await step([watch], 2, 0, caseworker, 1);
      expect((await alertsFor([caseworker])).map((a) => a.count)).toEqual([2]);
      await step([watch], 2, 0, caseworker, 2);
      expect((await alertsFor([caseworker])).map((a) => a.count)).toEqual([2, 3]);
    } finally {
      await watch.close();
    }
  });
});
