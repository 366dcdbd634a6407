// The two limits of the request path, over shared windowed counters (shared-counters.ts).
// Windows are aligned to the epoch, so every gateway process counts into the same ones.
//
// - Rate limit: a sliding window approximated from two fixed windows (Cloudflare's and
//   nginx's scheme): the requests counted in the previous window, weighted by how much of
//   it still overlaps the sliding window, plus those of the current one. It admits bursts
//   up to the limit and, unlike fixed windows, not twice the limit across a boundary; it
//   is exact when the previous window's requests were spread evenly.
// - Quota: a fixed window of `per` (aligned to the epoch: "24h" resets at 00:00 UTC); the
//   count restarts at each window.
//
// A check decides on this process's view; count() records an admitted request, so a request
// refused by one limit is not counted by the others. While counts are shared, a check that
// admits holds a slot reserved at the API server (shared-counters.ts), waiting for one when
// it has none: count() then has nothing left to send, and release() gives the slot back when
// another limit refused the request. Decisions carry what the RateLimit-* response headers
// (IETF httpapi-ratelimit-headers) need.
import type { Counter, SharedCounters } from './shared-counters.ts';

/** A counter outlives its window by this much, for gateways whose clocks run behind. */
const CLOCK_SKEW_MS = 60_000;

export interface LimitDecision {
  allowed: boolean;
  limit: number;
  /** Requests left after this one. */
  remaining: number;
  /** Seconds until the current window ends. */
  resetSeconds: number;
  /** Seconds until one request would be admitted, if nothing else is counted; 0 when allowed. */
  retryAfterSeconds: number;
  /** The counter whose reserved slot this admission holds. */
  slot?: Counter;
}

export interface Limiter {
  readonly kind: 'rate' | 'quota';
  /** Names the limit in a refusal, e.g. "quota of consumer acme (policy gold: 1000 per 24h)". */
  readonly description: string;
  /** A promise when the admission waits for a slot; it never rejects. */
  check(now: number): LimitDecision | Promise<LimitDecision>;
  /** Counts one request `decision` admitted. */
  count(decision: LimitDecision): void;
  /** Undoes what check held for a request `decision` admitted and another limit refused. */
  release(decision: LimitDecision): void;
}

abstract class WindowedLimiter implements Limiter {
  abstract readonly kind: 'rate' | 'quota';
  protected index = Number.NaN;
  protected current!: Counter;
  /** The window before the current one, for limiters that look back. */
  protected previous: Counter | undefined;
  /** What was left of the limit at the last check. */
  protected headroom = 0;

  constructor(
    protected readonly counters: SharedCounters,
    protected readonly key: string,
    readonly limit: number,
    /** Window length, whole milliseconds. */
    protected readonly per: number,
    readonly description: string,
  ) {
    // Counters are read from the API server now, so a restarted gateway knows the counts
    // before its first request. (roll() may only set fields declared here: subclass fields
    // are initialised after this constructor.)
    this.enter(counters.now());
  }

  check(now: number): LimitDecision | Promise<LimitDecision> {
    const decision = this.decide(now);
    if (!decision.allowed || !this.counters.reserving) return decision;
    const counter = this.current;
    if (this.counters.take(counter)) {
      decision.slot = counter;
      return decision;
    }
    return this.counters.wait(counter).then((reservation) => {
      const held = reservation === 'slot' ? 1 : 0;
      const settled = this.decide(this.counters.now(), held);
      if (held) return { ...settled, allowed: true, slot: counter };
      // A full limit refuses even when this process's view, older than the answer, would not.
      if (reservation === 'full' && settled.allowed)
        return { ...settled, allowed: false, remaining: 0, retryAfterSeconds: 1 };
      return settled;
    });
  }

  /** The decision of this process's view at `now`, its own unused slots, and the `held` ones
   * the request holds already, not counted as used. */
  protected abstract decide(now: number, held?: number): LimitDecision;

  count(decision: LimitDecision): void {
    // With a slot, the count is at the API server already.
    if (!decision.slot) this.counters.count(this.current, this.headroom);
  }

  release(decision: LimitDecision): void {
    if (decision.slot) this.counters.giveBack(decision.slot);
  }

  /** Moves to the window holding `now`; returns its start. */
  protected enter(now: number): number {
    const index = Math.floor(now / this.per);
    if (index !== this.index) {
      this.index = index;
      this.roll(index);
    }
    this.counters.refreshIfStale(this.current, now);
    return index * this.per;
  }

  protected abstract roll(index: number): void;

  protected windowCounter(index: number, lifetime: number): Counter {
    const start = index * this.per;
    return this.counters.counter(this.key, start, start + lifetime + CLOCK_SKEW_MS);
  }
}

export class RateLimiter extends WindowedLimiter {
  readonly kind = 'rate';

  protected decide(now: number, held = 0): LimitDecision {
    const start = this.enter(now);
    const { limit, per } = this;
    const before = this.previous!.value;
    const current = this.current.value - this.current.slots - held;
    const estimate = before * (1 - (now - start) / per) + current;
    this.headroom = limit - estimate;
    const resetSeconds = Math.ceil((start + per - now) / 1000);
    if (estimate + 1 <= limit)
      return { allowed: true, limit, remaining: Math.floor(limit - estimate - 1), resetSeconds, retryAfterSeconds: 0 };
    // When the previous window's weight has shrunk enough, or (when the current window is
    // full on its own) when the next window's weight of this one has.
    const wait =
      current + 1 <= limit
        ? start + per * (1 - (limit - 1 - current) / before) - now
        : start + per + per * (1 - (limit - 1) / current) - now;
    return {
      allowed: false,
      limit,
      remaining: 0,
      resetSeconds,
      retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)),
    };
  }

  protected roll(index: number): void {
    // The window that just ended is read once more, for the counts other processes sent late.
    const wasCurrent = this.current?.window === (index - 1) * this.per;
    const previous = this.windowCounter(index - 1, 2 * this.per);
    if (wasCurrent) this.counters.refresh(previous);
    const start = index * this.per;
    this.previous = previous;
    this.current = this.windowCounter(index, 2 * this.per);
    this.current.room = (total) => this.limit - total - previous.value * (1 - (this.counters.now() - start) / this.per);
  }
}

export class QuotaLimiter extends WindowedLimiter {
  readonly kind = 'quota';

  protected decide(now: number, held = 0): LimitDecision {
    const start = this.enter(now);
    const { limit } = this;
    const used = this.current.value - this.current.slots - held;
    this.headroom = limit - used;
    const resetSeconds = Math.ceil((start + this.per - now) / 1000);
    if (used + 1 <= limit)
      return { allowed: true, limit, remaining: limit - used - 1, resetSeconds, retryAfterSeconds: 0 };
    return { allowed: false, limit, remaining: 0, resetSeconds, retryAfterSeconds: Math.max(1, resetSeconds) };
  }

  protected roll(index: number): void {
    this.current = this.windowCounter(index, this.per);
    this.current.room = (total) => this.limit - total;
  }
}
