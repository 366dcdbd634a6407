// Windowed counters shared by every gateway process through the API server's counters
// endpoint (api/counters.ts). A background exchange sends every count not yet sent in one
// batch, every FLUSH_EVERY_MS and sooner when a limiter asks, and adopts the totals that
// come back.
//
// While exchanges work, admissions are reserved before they are made: a limiter admits a
// request only with a slot, a count this process added at the API server and found within
// the limit in its answer (the endpoint adds a batch atomically and answers the total after
// it, so the slots of all processes never add up past the limit). Slots are asked for ahead
// of need, about twice what the counter used since its last request for them, and at most
// 1/SLICE_SHARE of what is left, so a process at full speed rarely waits; a request that
// finds no slot waits for the next exchange (near a limit, that is every request). The
// price: requests wait a round trip near a limit, and slots a process holds but does not use
// (its traffic stopped, it was killed) are counted without having been served. A request
// refused by another limit gives its slot back.
//
// When the API server cannot be reached, each process decides on its own view (the totals
// last answered plus what it counted since: fail open to the local count), keeps its counts,
// and sends them once it answers again; it says so once in the log and in /metrics. Counts
// the API server refuses outright (a 4xx, such as the counter budget of the gateway's
// identity) are dropped, logged and counted, never retried: retrying could never succeed.
import type { Logger } from 'pino';
import {
  COUNTERS_PATH,
  MAX_COUNTER_INCREMENTS,
  type CounterIncrementBody,
  type CountersResponse,
} from '../api/counters.ts';
import { ApiStatusError } from '../client/errors.ts';
import type { KubeClient } from '../client/rest.ts';

/** Sends increments and answers with each counter's total after them, in order. */
export type CounterExchange = (increments: CounterIncrementBody[]) => Promise<number[]>;

const FLUSH_EVERY_MS = 50;
/** A counter not refreshed for this long is read again when next used. */
const STALE_AFTER_MS = 1000;
/** Pause after a failed exchange before the next attempt. */
const RETRY_AFTER_MS = 1000;
/** One exchange may not hang the counters longer than this. */
const EXCHANGE_TIMEOUT_MS = 2000;
/** Every this many ticks, counters past their expiry are forgotten. */
const SWEEP_EVERY_TICKS = 200;
/** A limiter asks for an exchange at once when its unsent count reaches this fraction of
 * what was left of its limit (counting on the local view only, while exchanges fail). */
const URGENT_FRACTION = 0.25;
/** One request for slots takes at most 1/SLICE_SHARE of what is left of a limit, so the other
 * processes find room too... */
const SLICE_SHARE = 8;
/** ...and at most this many: what a killed process can leave counted but unserved, per limit. */
const MAX_SLICE = 500;

/** What a request waiting for a slot is told: it holds one; the limit is reached; or exchanges
 * failed meanwhile, so it is decided on the local view. */
export type Reservation = 'slot' | 'full' | 'local';

/** The counters endpoint of the API server `client` talks to. */
export function apiServerExchange(client: KubeClient): CounterExchange {
  return async (increments) => {
    const answer = await client.post<CountersResponse>(
      COUNTERS_PATH,
      { increments },
      AbortSignal.timeout(EXCHANGE_TIMEOUT_MS),
    );
    if (!Array.isArray(answer.totals) || answer.totals.length !== increments.length) {
      throw new Error(
        `the counters endpoint answered ${answer.totals?.length ?? 'no'} totals for ${increments.length} increments`,
      );
    }
    return answer.totals;
  };
}

/** One counter (a key in one window) as this process sees it. */
export class Counter {
  /** The total every process had reached at the API server's last answer. */
  synced = 0;
  /** Counted here and sent, not yet answered. */
  inFlight = 0;
  /** Counted here, not yet sent. */
  pending = 0;
  /** Epoch milliseconds of the last answer; 0 before the first. */
  syncedAt = 0;
  /** Whether the next exchange sends this counter. */
  queued = false;
  /** Counted here and refused by the API server (dropped): kept in this process's view only. */
  unshared = 0;
  /** Admissions reserved at the API server (counted there, within the limit) not used yet. */
  slots = 0;
  /** Slots to ask for with the next exchange. */
  wanted = 0;
  /** Slots asked for with the exchange in flight. */
  reserving = 0;
  /** Slots taken since slots were last asked for: about what the next request for them needs. */
  taken = 0;
  /** Requests waiting for a slot, in arrival order. */
  readonly waiters: Array<(reservation: Reservation) => void> = [];
  /** How many more admissions the limit holds when this counter stands at `total` (set by the
   * limiter counting in it). */
  room: (total: number) => number = () => Number.POSITIVE_INFINITY;

  constructor(
    readonly key: string,
    /** Window start, epoch milliseconds. */
    readonly window: number,
    readonly expiresAt: number,
  ) {}

  /** This process's view of the total. */
  get value(): number {
    return this.synced + this.inFlight + this.pending + this.unshared;
  }
}

export interface SharedCountersOptions {
  /** Where counts are shared; absent, counts stay in this process. */
  exchange?: CounterExchange;
  logger?: Pick<Logger, 'warn' | 'info'>;
  /** Period of the background exchange and of forgetting expired counters. */
  flushEveryMs?: number;
  now?: () => number;
}

export interface CounterStats {
  /** False from a failed exchange until the next one succeeds. */
  shared: boolean;
  failures: number;
  /** Counts not yet sent. */
  unsent: number;
  /** Counts the API server refused, dropped. */
  dropped: number;
}

export class SharedCounters {
  readonly now: () => number;
  private readonly counters = new Map<string, Counter>();
  private queue: Counter[] = [];
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | undefined;
  private again = false;
  private soon = false;
  private retryAt = 0;
  private ticks = 0;
  private shared = true;
  private failures = 0;
  private dropped = 0;

  constructor(private readonly options: SharedCountersOptions = {}) {
    this.now = options.now ?? Date.now;
    this.timer = setInterval(() => this.tick(), options.flushEveryMs ?? FLUSH_EVERY_MS);
    this.timer.unref();
  }

  /** The counter `key` of the window starting at `window`; a counter this process has not
   * seen yet is read from the API server at the next exchange, which is asked for at once. */
  counter(key: string, window: number, expiresAt: number): Counter {
    const id = `${window}\u0000${key}`;
    let counter = this.counters.get(id);
    if (!counter) {
      this.counters.set(id, (counter = new Counter(key, window, expiresAt)));
      this.enqueue(counter);
      this.flushSoon();
    }
    return counter;
  }

  /** Whether admissions are reserved (take, wait): while counts are shared through the API server. */
  get reserving(): boolean {
    return this.options.exchange !== undefined && this.shared;
  }

  /** Takes one of `counter`'s slots for a request, asking for more ahead of need; false when it
   * holds none. */
  take(counter: Counter): boolean {
    if (counter.slots === 0) return false;
    counter.slots--;
    counter.taken++;
    const slice = this.slice(counter);
    if (counter.slots * 2 < slice && counter.wanted + counter.reserving === 0) this.ask(counter, slice);
    return true;
  }

  /** Gives back a slot taken for a request that another limit refused. */
  giveBack(counter: Counter): void {
    counter.slots++;
    counter.taken--;
    this.serve(counter, false);
  }

  /** Waits for a slot of `counter`, asking for enough with the next exchange. Never rejects. */
  wait(counter: Counter): Promise<Reservation> {
    return new Promise((resolve) => {
      counter.waiters.push(resolve);
      this.askForWaiters(counter);
    });
  }

  /** Counts one request in `counter` on the local view (no slot); `headroom` is what was left
   * of its limit before it. */
  count(counter: Counter, headroom: number): void {
    counter.pending++;
    this.enqueue(counter);
    if (counter.pending >= headroom * URGENT_FRACTION) this.flushSoon();
  }

  /** Reads `counter` again at the next exchange when its view is older than STALE_AFTER_MS,
   * so a process that counts nothing in it still learns what the others counted. */
  refreshIfStale(counter: Counter, now: number): void {
    if (!counter.queued && now - counter.syncedAt >= STALE_AFTER_MS) this.enqueue(counter);
  }

  /** Reads `counter` again at the next exchange. */
  refresh(counter: Counter): void {
    this.enqueue(counter);
  }

  /** Asks for an exchange as soon as the current one (if any) is answered; not during the
   * pause after a failure. */
  flushSoon(): void {
    if (!this.options.exchange) return;
    if (this.flushing) {
      this.again = true;
      return;
    }
    if (this.soon || this.now() < this.retryAt) return;
    this.soon = true;
    setImmediate(() => {
      this.soon = false;
      void this.flush();
    });
  }

  /** Exchanges everything queued, again while more gets queued during an exchange; resolves
   * once done or after a failed exchange. Never rejects. */
  flush(): Promise<void> {
    if (!this.options.exchange) return Promise.resolve();
    this.again = true;
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Stops the background exchange and sends what is left (one attempt). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  stats(): CounterStats {
    let unsent = 0;
    for (const counter of this.queue) unsent += counter.pending;
    return { shared: this.shared, failures: this.failures, unsent, dropped: this.dropped };
  }

  /** About twice what `counter` used since it last asked, within SLICE_SHARE and MAX_SLICE. */
  private slice(counter: Counter): number {
    const share = Math.floor(counter.room(counter.value) / SLICE_SHARE);
    return Math.max(1, Math.min(2 * counter.taken, share, MAX_SLICE));
  }

  private ask(counter: Counter, slots: number): void {
    counter.wanted += slots;
    counter.taken = 0;
    this.enqueue(counter);
    this.flushSoon();
  }

  private askForWaiters(counter: Counter): void {
    const coming = counter.wanted + counter.reserving;
    if (coming < counter.waiters.length)
      this.ask(counter, Math.max(counter.waiters.length - coming, this.slice(counter)));
  }

  /** Hands slots to the waiting requests; when the limit is reached (`full`), the rest are
   * refused. */
  private serve(counter: Counter, full: boolean): void {
    const { waiters } = counter;
    while (waiters.length > 0 && counter.slots > 0) {
      counter.slots--;
      counter.taken++;
      waiters.shift()!('slot');
    }
    if (waiters.length === 0) return;
    if (full) {
      counter.wanted = 0;
      for (const waiter of waiters.splice(0)) waiter('full');
    } else this.askForWaiters(counter);
  }

  private enqueue(counter: Counter): void {
    if (counter.queued || !this.options.exchange) return;
    counter.queued = true;
    this.queue.push(counter);
  }

  private tick(): void {
    const now = this.now();
    if (++this.ticks % SWEEP_EVERY_TICKS === 0) {
      for (const [id, counter] of this.counters) {
        const idle = !counter.queued && counter.inFlight + counter.reserving + counter.waiters.length === 0;
        if (counter.expiresAt <= now && idle) this.counters.delete(id);
      }
    }
    if (this.options.exchange && this.queue.length > 0 && now >= this.retryAt) void this.flush();
  }

  private async drain(): Promise<void> {
    while (this.again && this.queue.length > 0) {
      this.again = false;
      if (!(await this.exchangeQueued())) break;
    }
    this.again = false;
  }

  /** One exchange of every queued counter, in batches the endpoint accepts. */
  private async exchangeQueued(): Promise<boolean> {
    const exchange = this.options.exchange!;
    const batch = this.queue;
    this.queue = [];
    for (const counter of batch) {
      counter.queued = false;
      counter.inFlight = counter.pending;
      counter.pending = 0;
      counter.reserving = counter.wanted;
      counter.wanted = 0;
    }
    let done = 0;
    try {
      while (done < batch.length) {
        const part = batch.slice(done, done + MAX_COUNTER_INCREMENTS);
        const totals = await exchange(
          part.map((c) => ({ key: c.key, window: c.window, delta: c.inFlight + c.reserving, expiresAt: c.expiresAt })),
        );
        const at = this.now();
        part.forEach((counter, i) => {
          // The batch's counts were admitted before its reservations: the slots are the last
          // `reserving` of the total, and those the limit still held are this process's.
          const fit = Math.max(0, Math.min(counter.reserving, Math.floor(counter.room(totals[i] - counter.reserving))));
          const full = fit < counter.reserving;
          counter.slots += fit;
          counter.reserving = 0;
          counter.synced = totals[i];
          counter.inFlight = 0;
          counter.syncedAt = at;
          this.serve(counter, full);
        });
        done += part.length;
      }
    } catch (err) {
      this.exchangeFailed(batch.slice(done), err);
      return false;
    }
    if (!this.shared) {
      this.shared = true;
      this.options.logger?.info(
        'exchanging limit counts with the API server works again: rate limits and quotas are shared again',
      );
    }
    return true;
  }

  /** Unsent and unanswered counts go back to pending, sent again with the next exchange (an
   * increment the server applied but whose answer was lost is then counted twice, erring
   * towards refusing), unless the server refused them: then they are dropped, kept in this
   * process's view only. Reservations are not asked again: waiting requests are decided on the
   * local view. */
  private exchangeFailed(unanswered: Counter[], err: unknown): void {
    const refused = err instanceof ApiStatusError && err.code >= 400 && err.code < 500 && err.code !== 429;
    let dropped = 0;
    for (const counter of unanswered) {
      if (refused) {
        counter.unshared += counter.inFlight;
        dropped += counter.inFlight;
      } else {
        counter.pending += counter.inFlight;
        this.enqueue(counter);
      }
      counter.inFlight = 0;
      counter.reserving = 0;
    }
    this.failed(err);
    for (const counter of [...unanswered, ...this.queue]) {
      counter.wanted = 0;
      for (const waiter of counter.waiters.splice(0)) waiter('local');
    }
    if (dropped === 0) return;
    this.dropped += dropped;
    this.options.logger?.warn(
      { err, dropped },
      'the API server refused limit counts: dropped, kept here (gatehouse_gateway_limit_counts_dropped_total)',
    );
  }

  private failed(err: unknown): void {
    this.failures++;
    this.retryAt = this.now() + RETRY_AFTER_MS;
    if (!this.shared) return;
    this.shared = false;
    this.options.logger?.warn(
      { err },
      "exchanging limit counts with the API server failed: rate limits and quotas are decided on this process's own counts until it works again",
    );
  }
}
