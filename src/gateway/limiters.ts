// The limiters of one config. Counts live in the process's SharedCounters, keyed by what
// is limited and the window length, so they outlive config swaps on their own: editing an
// API resets no count, and changing a limit's number keeps counting in the same windows.
// Limiter objects are carried into the next config too when their settings are unchanged,
// so the compile of a large config makes few new ones; each compile builds a new Limiters
// from the previous one, and limiters not asked for are dropped.
import type { Quota } from '../api/kinds/security-policy/types.ts';
import type { RateLimit } from '../api/kinds/shared.ts';
import { parseDuration } from '../api/duration.ts';
import { QuotaLimiter, RateLimiter, type Limiter } from './rate-limit.ts';
import type { SharedCounters } from './shared-counters.ts';

export class Limiters {
  private readonly current = new Map<string, Limiter>();

  constructor(
    readonly counters: SharedCounters,
    private previous?: Limiters,
  ) {}

  /** The rate limit `limit` of `subject` ("api:ns/name", "consumer:ns/name/policy"). */
  rate(subject: string, limit: RateLimit, description: string): Limiter {
    const per = windowMs(limit.per);
    return this.reuse(`rate:${subject}:${per}`, limit.requests, description, (key) => new RateLimiter(this.counters, key, limit.requests, per, description));
  }

  /** The quota `quota` of `subject`. */
  quota(subject: string, quota: Quota, description: string): Limiter {
    const per = windowMs(quota.per);
    return this.reuse(`quota:${subject}:${per}`, quota.max, description, (key) => new QuotaLimiter(this.counters, key, quota.max, per, description));
  }

  /** Ends the carry-over once the config using this set is built, so old sets are freed. */
  release(): void {
    this.previous = undefined;
  }

  private reuse(key: string, limit: number, description: string, make: (key: string) => Limiter): Limiter {
    const id = `${key}|${limit}|${description}`;
    let limiter = this.current.get(id) ?? this.previous?.current.get(id);
    if (!limiter) limiter = make(key);
    this.current.set(id, limiter);
    return limiter;
  }
}

/** Window length in whole milliseconds (a spec may say "1500us"). */
function windowMs(per: string): number {
  return Math.max(1, Math.round(parseDuration(per)));
}
