// MATCH's PDS allowance shared between organisations and their callers, on a clock the test moves:
// generated floods, checked for turn-taking, spacing, bounds and cancellation.
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FairShare, QuotaExceeded, type Share } from '../../../../subgraphs/matching/pds/fair-share.ts';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const PER_SECOND = 5;
const INTERVAL = 1000 / PER_SECOND;

/** A flood: for each organisation, calls from several callers, in a generated order of arrival. */
const flood = fc
  .array(fc.record({ organisation: fc.constantFrom('la-a', 'la-b', 'la-c', 'la-d'), caller: fc.constantFrom('w1', 'w2', 'w3', undefined) }), { minLength: 1, maxLength: 60 })
  .map((calls) => calls.map((c): Share => ({ organisation: c.organisation, ...(c.caller ? { caller: c.caller } : {}) })));

/** Runs every call through the share (without bounds), returning the order and times they were sent. */
async function sendAll(calls: Share[]): Promise<{ share: Share; at: number }[]> {
  const share = new FairShare({ perSecond: PER_SECOND, now: () => Date.now() });
  const sent: { share: Share; at: number }[] = [];
  const all = calls.map((c) => share.take(c, undefined, { unbounded: true }).then(() => sent.push({ share: c, at: Date.now() })));
  await vi.advanceTimersByTimeAsync(calls.length * INTERVAL + 1000);
  await Promise.all(all);
  expect(share.waiting).toEqual({});
  return sent;
}

/** Over every prefix of `order`, any two keys that both still have calls to come were sent within one of each other. */
function takesTurns(order: string[]): void {
  const remaining = new Map<string, number>();
  for (const key of order) remaining.set(key, (remaining.get(key) ?? 0) + 1);
  const sent = new Map<string, number>([...remaining.keys()].map((k) => [k, 0]));
  for (const key of order) {
    sent.set(key, sent.get(key)! + 1);
    remaining.set(key, remaining.get(key)! - 1);
    const waiting = [...remaining].filter(([, n]) => n > 0).map(([k]) => sent.get(k)!);
    if (waiting.length > 1) expect(Math.max(...waiting) - Math.min(...waiting)).toBeLessThanOrEqual(1);
  }
}

describe('FairShare', () => {
  it('sends every call, one an interval, organisations in turn and each organisation’s callers in turn, whatever the flood', async () => {
    await fc.assert(
      fc.asyncProperty(flood, async (calls) => {
        const sent = await sendAll(calls);
        expect(sent).toHaveLength(calls.length);
        for (let i = 1; i < sent.length; i++) expect(sent[i]!.at - sent[i - 1]!.at).toBeGreaterThanOrEqual(INTERVAL);
        // The first call takes the free slot as it arrives, before the others do; from then on all wait their turn.
        const waited = sent.slice(1);
        takesTurns(waited.map((s) => s.share.organisation));
        for (const organisation of new Set(calls.map((c) => c.organisation))) {
          takesTurns(waited.filter((s) => s.share.organisation === organisation).map((s) => s.share.caller ?? ''));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('sends a newcomer’s call within one round of the organisations waiting, however long another’s queue', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 5, max: 200 }), fc.integer({ min: 0, max: 2000 }), async (others, queued, arrivesAfter) => {
        const share = new FairShare({ perSecond: PER_SECOND, now: () => Date.now() });
        const start = Date.now();
        const floods = Array.from({ length: queued }, (_, i) => share.take({ organisation: `flood-${i % others}`, caller: `w${i % 4}` }, undefined, { unbounded: true }));
        await vi.advanceTimersByTimeAsync(arrivesAfter);
        let sentAt = -1;
        const arrived = Date.now();
        const newcomer = share.take({ organisation: 'quiet', caller: 'w' }).then(() => (sentAt = Date.now()));
        await vi.advanceTimersByTimeAsync((others + 2) * INTERVAL);
        await newcomer;
        expect(sentAt - arrived).toBeLessThanOrEqual((others + 1) * INTERVAL);
        await vi.advanceTimersByTimeAsync(queued * INTERVAL + 1000);
        await Promise.all(floods);
        expect(Date.now()).toBeGreaterThan(start);
      }),
      { numRuns: 40 },
    );
  });

  it('refuses at once, with a Retry-After, a caller past their waiting calls and an organisation past its wait, and queues nothing of theirs', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 500, max: 8000 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 6 }), async (perCaller, maxWaitMs, attempts, callers) => {
        const share = new FairShare({ perSecond: PER_SECOND, perCallerWaiting: perCaller, maxWaitMs, now: () => Date.now() });
        // Another organisation waits too (its first call takes the free slot), so each of this one's calls expects two intervals.
        const others = [share.take({ organisation: 'other', caller: 'x' }, undefined, { unbounded: true }), share.take({ organisation: 'other', caller: 'x' }, undefined, { unbounded: true })];
        const queued: Promise<void>[] = [];
        const refusals: Promise<unknown>[] = [];
        const perName = new Map<string, number>();
        for (let i = 0; i < attempts; i++) {
          const caller = `w${i % callers}`;
          const before = share.waiting.la ?? 0;
          const call = share.take({ organisation: 'la', caller });
          if ((share.waiting.la ?? 0) > before) {
            queued.push(call);
            perName.set(caller, (perName.get(caller) ?? 0) + 1);
            expect(perName.get(caller)).toBeLessThanOrEqual(perCaller);
            expect((before + 1) * 2 * INTERVAL).toBeLessThanOrEqual(maxWaitMs);
          } else {
            // Refused, having queued nothing: the caller had their calls waiting, or the organisation its wait.
            const callerFull = (perName.get(caller) ?? 0) >= perCaller;
            const organisationFull = (before + 1) * 2 * INTERVAL > maxWaitMs;
            expect(callerFull || organisationFull).toBe(true);
            refusals.push(
              call.then(
                () => expect.unreachable('a refused call was sent'),
                (error: unknown) => {
                  expect(error).toBeInstanceOf(QuotaExceeded);
                  expect((error as QuotaExceeded).by).toBe(callerFull ? 'caller' : 'organisation');
                  expect((error as QuotaExceeded).retryAfterSeconds).toBeGreaterThanOrEqual(1);
                },
              ),
            );
          }
        }
        await Promise.all(refusals);
        await vi.advanceTimersByTimeAsync(attempts * 3 * INTERVAL + 1000);
        await Promise.all([...others, ...queued]);
        expect(share.waiting).toEqual({});
      }),
      { numRuns: 50 },
    );
  });

  it('says who was refused and when to come back, and takes a retry (unbounded) whatever the bounds', async () => {
    const share = new FairShare({ perSecond: PER_SECOND, perCallerWaiting: 2, maxWaitMs: 1000, now: () => Date.now() });
    // Takes the free slot, so that what follows waits.
    const sentAtOnce = share.take({ organisation: 'la', caller: 'z' });
    const first = [share.take({ organisation: 'la', caller: 'w' }), share.take({ organisation: 'la', caller: 'w' })];
    const byCaller = await share.take({ organisation: 'la', caller: 'w' }).catch((e: unknown) => e);
    expect(byCaller).toBeInstanceOf(QuotaExceeded);
    expect(byCaller).toMatchObject({ by: 'caller' });
    expect((byCaller as QuotaExceeded).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    const more = [share.take({ organisation: 'la', caller: 'v' }), share.take({ organisation: 'la', caller: 'u' }), share.take({ organisation: 'la', caller: 't' })];
    const byOrganisation = await share.take({ organisation: 'la', caller: 's' }).catch((e: unknown) => e);
    expect(byOrganisation).toMatchObject({ by: 'organisation' });
    const retry = share.take({ organisation: 'la', caller: 'w' }, undefined, { unbounded: true });
    expect(share.waiting).toEqual({ la: 6 });
    await vi.advanceTimersByTimeAsync(10 * INTERVAL);
    await Promise.all([sentAtOnce, ...first, ...more, retry]);
    expect(share.waiting).toEqual({});
  });

  it('refuses a call its caller would not wait for: at once when its turn is further off, or when its time runs out while it waits', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 3000 }), fc.boolean(), async (ahead, willWaitMs, unbounded) => {
        const share = new FairShare({ perSecond: PER_SECOND, perCallerWaiting: 100, maxWaitMs: 60_000, now: () => Date.now() });
        const queue = Array.from({ length: ahead }, (_, i) => share.take({ organisation: 'la', caller: `w${i}` }));
        const start = Date.now();
        const outcome = share.take({ organisation: 'la', caller: 'late' }, undefined, { unbounded, maxWaitMs: willWaitMs }).then(
          () => ({ sent: Date.now() - start }),
          (error: unknown) => ({ refused: Date.now() - start, error }),
        );
        await vi.advanceTimersByTimeAsync((ahead + 2) * INTERVAL);
        const result = await outcome;
        // Its turn comes after the one sent at once and the others waiting, one an interval.
        const turnMs = ahead * INTERVAL;
        if (turnMs !== willWaitMs) expect('refused' in result).toBe(turnMs > willWaitMs);
        if ('sent' in result) {
          expect(result.sent).toBeLessThanOrEqual(willWaitMs);
        } else {
          expect(result.error).toBeInstanceOf(QuotaExceeded);
          // Refused at once by its bound, or (taken without bounds) when its time ran out, never after.
          expect(result.refused).toBe(unbounded ? willWaitMs : 0);
          expect(turnMs).toBeGreaterThanOrEqual(unbounded ? willWaitMs : 0);
        }
        await Promise.all(queue);
        expect(share.waiting).toEqual({});
      }),
      { numRuns: 60 },
    );
  });

  it('forgets a call whose caller gave up, and sends the next in its place', async () => {
    await fc.assert(
      fc.asyncProperty(flood, fc.array(fc.nat(), { maxLength: 20 }), async (calls, giveUps) => {
        const share = new FairShare({ perSecond: PER_SECOND, now: () => Date.now() });
        const controllers = calls.map(() => new AbortController());
        const outcomes = calls.map((c, i) => share.take(c, controllers[i]!.signal, { unbounded: true }).then(() => 'sent', () => 'gave up'));
        const abandoned = new Set(giveUps.map((g) => g % calls.length));
        for (const i of abandoned) controllers[i]!.abort(new Error('gave up'));
        const start = Date.now();
        await vi.advanceTimersByTimeAsync(calls.length * INTERVAL + 1000);
        const results = await Promise.all(outcomes);
        // The first call takes the free slot at once; every other abandoned one was still waiting, so was never sent.
        for (const [i, result] of results.entries()) expect(result).toBe(abandoned.has(i) && i !== 0 ? 'gave up' : 'sent');
        expect(share.waiting).toEqual({});
        expect(Date.now()).toBeGreaterThan(start);
      }),
      { numRuns: 40 },
    );
  });
});
