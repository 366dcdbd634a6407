import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStorage } from '../storage/memory/memory-storage.ts';
import { QuotaLimiter, RateLimiter, type Limiter } from './rate-limit.ts';
import { SharedCounters } from './shared-counters.ts';

const HOUR = 3_600_000;
/** The next day boundary, so windows of 10 s, 1 h and 24 h start here; in the future, so
 * counters stored with the real clock have not expired. */
const T0 = (Math.floor(Date.now() / (24 * HOUR)) + 1) * 24 * HOUR;

/** Admits requests at `now` until one is refused; returns how many were admitted. */
function drain(limiter: Limiter, now: number, max = 1000): number {
  for (let admitted = 0; admitted < max; admitted++) {
    if (!limiter.check(now).allowed) return admitted;
    limiter.count();
  }
  return max;
}

describe('RateLimiter (sliding window)', () => {
  it('admits a burst up to the limit, then refuses with the headers of the window', () => {
    let now = T0 + 2_500;
    const limiter = new RateLimiter(
      new SharedCounters({ now: () => now }),
      'k',
      2,
      10_000,
      'rate limit of the API (2 per 10s)',
    );
    const first = limiter.check(now);
    assert.deepEqual(first, { allowed: true, limit: 2, remaining: 1, resetSeconds: 8, retryAfterSeconds: 0 });
    limiter.count();
    assert.equal(limiter.check(now).remaining, 0);
    limiter.count();
    // 2 × (1 - f) + 1 <= 2 in the next window from f = 0.5: 12.5 s from now.
    assert.deepEqual(limiter.check(now), {
      allowed: false,
      limit: 2,
      remaining: 0,
      resetSeconds: 8,
      retryAfterSeconds: 13,
    });
    now = T0 + 9_999;
    assert.equal(limiter.check(now).allowed, false, 'the window is full on its own');
  });

  it('weighs the previous window by its overlap, so a boundary does not double the limit', () => {
    let now = T0 + 9_000;
    const limiter = new RateLimiter(new SharedCounters({ now: () => now }), 'k', 10, 10_000, 'r');
    assert.equal(drain(limiter, now), 10);
    now = T0 + 10_000;
    const refused = limiter.check(now);
    assert.equal(refused.allowed, false, 'just after the boundary the previous window still weighs fully');
    // 10 × (1 - f) + 0 + 1 <= 10 from f = 0.1: one second into the window.
    assert.equal(refused.retryAfterSeconds, 1);
    now = T0 + 11_000;
    assert.equal(drain(limiter, now), 1);
    now = T0 + 15_000;
    assert.equal(drain(limiter, now), 4, 'half the previous window left: 5 + the 1 counted + 4 = 10');
    now = T0 + 30_000;
    assert.equal(drain(limiter, now), 10, 'two windows later nothing weighs');
  });

  it('tells a refused caller when to come back, and admits it then', () => {
    let now = T0 + 1_000;
    const limiter = new RateLimiter(new SharedCounters({ now: () => now }), 'k', 5, 60_000, 'r');
    drain(limiter, now);
    const wait = limiter.check(now).retryAfterSeconds;
    assert.ok(wait > 60 && wait <= 120, `retry after ${wait}s: in the next window, once this one weighs less`);
    now += (wait - 1) * 1000;
    assert.equal(limiter.check(now).allowed, false);
    now += 1000;
    assert.equal(limiter.check(now).allowed, true);
  });

  it('changes nothing when it only checks', () => {
    const now = T0;
    const limiter = new RateLimiter(new SharedCounters({ now: () => now }), 'k', 1, 60_000, 'r');
    for (let i = 0; i < 3; i++) assert.equal(limiter.check(now).allowed, true);
  });
});

describe('QuotaLimiter (fixed window)', () => {
  it('admits max requests per window aligned to the epoch, then refuses until the window ends', () => {
    let now = T0 + 20 * HOUR + 1_800_000;
    const quota = new QuotaLimiter(new SharedCounters({ now: () => now }), 'q', 3, 24 * HOUR, 'quota');
    assert.deepEqual(quota.check(now), {
      allowed: true,
      limit: 3,
      remaining: 2,
      resetSeconds: 3 * 3600 + 1800,
      retryAfterSeconds: 0,
    });
    assert.equal(drain(quota, now), 3);
    assert.deepEqual(quota.check(now), {
      allowed: false,
      limit: 3,
      remaining: 0,
      resetSeconds: 3 * 3600 + 1800,
      retryAfterSeconds: 3 * 3600 + 1800,
    });
    now = T0 + 24 * HOUR;
    assert.equal(drain(quota, now), 3, 'a new window starts from zero');
  });
});

describe('limits shared by two gateway processes', () => {
  it('admit about the limit together when each exchanges now and then', async () => {
    const storage = new MemoryStorage();
    const now = T0 + 60_000;
    const gateway = () =>
      new SharedCounters({
        exchange: (increments) => storage.addCounters(increments),
        flushEveryMs: HOUR,
        now: () => now,
      });
    const [a, b] = [gateway(), gateway()];
    const [la, lb] = [new RateLimiter(a, 'api', 100, HOUR, 'r'), new RateLimiter(b, 'api', 100, HOUR, 'r')];
    await Promise.all([a.flush(), b.flush()]);
    let admitted = 0;
    // Both hammered, each exchanging after every 4 requests it receives.
    for (let i = 0; i < 400; i++) {
      const [counters, limiter] = i % 2 === 0 ? [a, la] : [b, lb];
      if (limiter.check(now).allowed) {
        limiter.count();
        admitted++;
      }
      if (i % 8 >= 6) await counters.flush();
    }
    assert.ok(admitted >= 100 && admitted <= 104, `admitted ${admitted}`);
    const alone = new RateLimiter(new SharedCounters({ now: () => now }), 'api', 100, HOUR, 'r');
    assert.equal(drain(alone, now), 100, 'a process that shares nothing admits the whole limit on its own');
    await Promise.all([a.close(), b.close()]);
  });
});
