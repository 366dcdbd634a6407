// Windowed counters shared by every gateway process through the API server's counters
// endpoint (api/counters.ts), with a local fast path: a request is decided on this
// process's view (the totals the API server last answered, plus what this process counted
// since) and never waits for the network. A background exchange sends every count not yet
// sent in one batch, every FLUSH_EVERY_MS and sooner when a limiter asks (when its local
// count nears what is left of its limit), and adopts the totals that come back.
//
// What this costs in accuracy: another process's counts are seen at most one exchange
// late, so at the moment a limit is reached all processes together may have admitted up
// to what the other processes admit during one exchange (at most their request rate ×
// the exchange period) more than the limit. When the API server cannot be reached,
// each process keeps deciding on its own view (fail open to the local count), keeps its
// counts, and sends them once it answers again; it says so once in the log and in
// /metrics. Counts not yet sent when a process is killed (not stopped) are lost.
import type { Logger } from 'pino';
import {
  COUNTERS_PATH,
  MAX_COUNTER_INCREMENTS,
  type CounterIncrementBody,
  type CountersResponse,
} from '../api/counters.ts';
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
 * what was left of its limit: rarely while far from the limit, at every request close to
 * it, so processes near a shared limit learn each other's counts within a round trip. */
const URGENT_FRACTION = 0.25;

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

  constructor(
    readonly key: string,
    /** Window start, epoch milliseconds. */
    readonly window: number,
    readonly expiresAt: number,
  ) {}

  /** This process's view of the total. */
  get value(): number {
    return this.synced + this.inFlight + this.pending;
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

  /** Counts one request in `counter`; `headroom` is what was left of its limit before it. */
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
    return { shared: this.shared, failures: this.failures, unsent };
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
        if (counter.expiresAt <= now && !counter.queued && counter.inFlight === 0) this.counters.delete(id);
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
    }
    let done = 0;
    try {
      while (done < batch.length) {
        const part = batch.slice(done, done + MAX_COUNTER_INCREMENTS);
        const totals = await exchange(
          part.map((c) => ({ key: c.key, window: c.window, delta: c.inFlight, expiresAt: c.expiresAt })),
        );
        const at = this.now();
        part.forEach((counter, i) => {
          counter.synced = totals[i];
          counter.inFlight = 0;
          counter.syncedAt = at;
        });
        done += part.length;
      }
    } catch (err) {
      // Unsent and unanswered counts go back to pending: sent again with the next exchange.
      // An increment the server applied but whose answer was lost is then counted twice,
      // erring towards refusing.
      for (const counter of batch.slice(done)) {
        counter.pending += counter.inFlight;
        counter.inFlight = 0;
        this.enqueue(counter);
      }
      this.failed(err);
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
