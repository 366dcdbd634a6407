// The limiters of a gateway, carried from one config to the next. Counts live in the
// process's SharedCounters, keyed by what is limited and the window length, so they outlive
// config swaps on their own: editing an API resets no count, and changing a limit's number
// keeps counting in the same windows. Limiter objects are carried too while their settings
// are unchanged and a part of the config uses them; a dropped one leaves its counts behind.
import type { Quota } from '../api/kinds/security-policy/types.ts';
import type { RateLimit } from '../api/kinds/shared.ts';
import { parseDuration } from '../api/duration.ts';
import { Carried } from './carried.ts';
import { QuotaLimiter, RateLimiter, type Limiter } from './rate-limit.ts';
import type { SharedCounters } from './shared-counters.ts';

export class Limiters {
  private readonly kept = new Carried<Limiter>(() => undefined);

  constructor(readonly counters: SharedCounters) {}

  /** The rate limit `limit` of `subject` ("api:ns/name", "consumer:ns/name/policy"). */
  rate(subject: string, limit: RateLimit, description: string): Limiter {
    const per = windowMs(limit.per);
    const key = `rate:${subject}:${per}`;
    return this.kept.get(
      `${key}|${limit.requests}|${description}`,
      () => new RateLimiter(this.counters, key, limit.requests, per, description),
    );
  }

  /** The quota `quota` of `subject`. */
  quota(subject: string, quota: Quota, description: string): Limiter {
    const per = windowMs(quota.per);
    const key = `quota:${subject}:${per}`;
    return this.kept.get(
      `${key}|${quota.max}|${description}`,
      () => new QuotaLimiter(this.counters, key, quota.max, per, description),
    );
  }
}

/** Window length in whole milliseconds (a spec may say "1500us"). */
function windowMs(per: string): number {
  return Math.max(1, Math.round(parseDuration(per)));
}
