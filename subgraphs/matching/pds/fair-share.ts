// MATCH's PDS allowance (PDS lets an application send 5 requests a second) divided fairly. Calls wait
// in one queue per organisation and, inside it, one per caller (a caseworker, as the LA's router names
// them); each time the allowance frees a slot, the next organisation in turn sends the oldest call of
// its next caller in turn (round robin at both levels: deficit round robin with equal, one-call quanta).
// An organisation with calls waiting therefore gets at least 1/k of the allowance when k organisations
// are waiting, however many calls the others queue; a caseworker likewise within their organisation.
//
// Two bounds turn "wait" into "refused, come back later" before a wait becomes a timeout:
//  - a caller may have at most `perCallerWaiting` calls waiting at once;
//  - an organisation's newest call must expect to be sent within `maxWaitMs` at its share of the
//    allowance, or within the time its caller will wait, when that is shorter (a call still waiting then
//    is refused then: a router gives up at its deadline, and a wait must never look like a failure).
// A refusal is a QuotaExceeded with the seconds after which a call would be taken; nothing is queued.
// A call taken `unbounded` (a retry of one already admitted, after PDS answered 429 or 5xx) is queued
// without the bounds.

export interface Share {
  /** The organisation the call is made for (its DfE code). */
  organisation: string;
  /** Who in the organisation asked (an opaque name the organisation chooses); one queue when absent. */
  caller?: string;
}

export class QuotaExceeded extends Error {
  override name = 'QuotaExceeded';
  constructor(
    message: string,
    /** Whole seconds after which a call of this organisation or caller would be taken. */
    readonly retryAfterSeconds: number,
    readonly by: 'caller' | 'organisation',
  ) {
    super(message);
  }
}

export interface FairShareOptions {
  /** Calls a second, for everyone together. */
  perSecond: number;
  /** Calls one caller may have waiting at once (default 3). */
  perCallerWaiting?: number;
  /** Longest an organisation's newest call may expect to wait at its share (default 5 s). */
  maxWaitMs?: number;
  /** Sub-millisecond time by default. */
  now?: () => number;
}

interface Waiter {
  resolve(): void;
  detach(): void;
}

interface OrganisationQueue {
  /** Callers with calls waiting, in turn order (the next to send first). */
  callers: Map<string, Waiter[]>;
  waiting: number;
}

const ANONYMOUS = '';

export class FairShare {
  readonly #perSecond: number;
  readonly #perCallerWaiting: number;
  readonly #maxWaitMs: number;
  readonly #now: () => number;
  /** Organisations with calls waiting, in turn order. */
  readonly #organisations = new Map<string, OrganisationQueue>();
  /** When the next call may be sent (one every 1/perSecond seconds: no bursts past PDS's limit). */
  #nextSlot: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: FairShareOptions) {
    if (!(options.perSecond > 0)) throw new RangeError('perSecond must be positive');
    this.#perSecond = options.perSecond;
    this.#perCallerWaiting = options.perCallerWaiting ?? 3;
    this.#maxWaitMs = options.maxWaitMs ?? 5000;
    if (!(this.#perCallerWaiting >= 1)) throw new RangeError('perCallerWaiting must be at least 1');
    if (!(this.#maxWaitMs > 0)) throw new RangeError('maxWaitMs must be positive');
    this.#now = options.now ?? (() => performance.now());
    this.#nextSlot = this.#now();
  }

  /** Calls waiting, by organisation (for tests and operators). */
  get waiting(): Record<string, number> {
    return Object.fromEntries([...this.#organisations].map(([code, queue]) => [code, queue.waiting]));
  }

  /**
   * Resolves when this call may be sent; rejects with QuotaExceeded at once when the caller or the
   * organisation is past its bound (never when `unbounded`), or with the signal's reason when it aborts.
   */
  take(share: Share, signal?: AbortSignal, options: { unbounded?: boolean; maxWaitMs?: number } = {}): Promise<void> {
    try {
      signal?.throwIfAborted();
      if (options.maxWaitMs !== undefined && !(options.maxWaitMs > 0)) throw new QuotaExceeded('no time is left to wait for the PDS allowance', 1, share.caller === undefined ? 'organisation' : 'caller');
      if (!options.unbounded) this.#admit(share, options.maxWaitMs);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<void>((resolve, reject) => this.#enqueue(share, resolve, reject, signal, options.maxWaitMs));
  }

  /** Throws QuotaExceeded when this caller, or this organisation, may queue no more. */
  #admit(share: Share, callerMaxWaitMs?: number): void {
    const queue = this.#organisations.get(share.organisation);
    const interval = 1000 / this.#perSecond;
    const active = this.#organisations.size + (queue ? 0 : 1);
    const callerWaiting = queue?.callers.get(share.caller ?? ANONYMOUS)?.length ?? 0;
    if (callerWaiting >= this.#perCallerWaiting) {
      // This caller's calls go once a round of the organisation's callers, each round once a round of organisations.
      const seconds = Math.ceil((callerWaiting * (queue?.callers.size ?? 1) * active * interval) / 1000);
      throw new QuotaExceeded(`too many calls to PDS waiting for this caller (at most ${this.#perCallerWaiting})`, Math.max(1, seconds), 'caller');
    }
    const expectedMs = ((queue?.waiting ?? 0) + 1) * active * interval;
    const maxWaitMs = Math.min(this.#maxWaitMs, callerMaxWaitMs ?? Infinity);
    if (expectedMs > maxWaitMs) {
      throw new QuotaExceeded(`${share.organisation} is past its share of the PDS allowance`, Math.max(1, Math.ceil((expectedMs - maxWaitMs) / 1000)), 'organisation');
    }
  }

  #enqueue(share: Share, resolve: () => void, reject: (reason: unknown) => void, signal?: AbortSignal, maxWaitMs?: number): void {
    const caller = share.caller ?? ANONYMOUS;
    const onAbort = () => {
      this.#remove(share.organisation, caller, waiter);
      clearTimeout(timer);
      reject(signal!.reason);
    };
    // A call that would still be waiting when its caller stops waiting is refused then, not sent too late.
    const timer =
      maxWaitMs === undefined
        ? undefined
        : setTimeout(() => {
            this.#remove(share.organisation, caller, waiter);
            signal?.removeEventListener('abort', onAbort);
            reject(new QuotaExceeded(`${share.organisation}'s call waited for the PDS allowance as long as its caller would`, 1, 'organisation'));
          }, maxWaitMs);
    const waiter: Waiter = {
      resolve,
      detach: () => {
        signal?.removeEventListener('abort', onAbort);
        clearTimeout(timer);
      },
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let organisation = this.#organisations.get(share.organisation);
    if (!organisation) {
      organisation = { callers: new Map(), waiting: 0 };
      this.#organisations.set(share.organisation, organisation);
    }
    const calls = organisation.callers.get(caller);
    if (calls) calls.push(waiter);
    else organisation.callers.set(caller, [waiter]);
    organisation.waiting++;
    this.#schedule();
  }

  #remove(code: string, caller: string, waiter: Waiter): void {
    const organisation = this.#organisations.get(code);
    const calls = organisation?.callers.get(caller);
    const index = calls?.indexOf(waiter) ?? -1;
    if (!organisation || !calls || index < 0) return;
    calls.splice(index, 1);
    organisation.waiting--;
    if (calls.length === 0) organisation.callers.delete(caller);
    if (organisation.waiting === 0) this.#organisations.delete(code);
  }

  #schedule(): void {
    if (this.#timer || this.#organisations.size === 0) return;
    const delay = this.#nextSlot - this.#now();
    if (delay <= 0) return this.#send();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#send();
    }, Math.ceil(delay));
  }

  /** Sends the next call in turn, and moves that organisation and that caller to the back of their turns. */
  #send(): void {
    const first = this.#organisations.entries().next();
    if (first.done) return;
    const [code, organisation] = first.value;
    const [caller, calls] = organisation.callers.entries().next().value as [string, Waiter[]];
    const waiter = calls.shift()!;
    organisation.waiting--;
    organisation.callers.delete(caller);
    if (calls.length > 0) organisation.callers.set(caller, calls);
    this.#organisations.delete(code);
    if (organisation.waiting > 0) this.#organisations.set(code, organisation);
    // A slot left unused for a while is not saved up: at most one call is sent at once.
    this.#nextSlot = Math.max(this.#nextSlot, this.#now()) + 1000 / this.#perSecond;
    waiter.detach();
    waiter.resolve();
    this.#schedule();
  }
}
