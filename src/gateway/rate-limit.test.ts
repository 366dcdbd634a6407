import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStorage } from '../storage/memory/memory-storage.ts';
import { QuotaLimiter, RateLimiter, type LimitDecision, type Limiter } from './rate-limit.ts';
import { SharedCounters } from './shared-counters.ts';

const HOUR = 3_600_000;
/** The next day boundary, so windows of 10 s, 1 h and 24 h start here; in the future, so
 * counters stored with the real clock have not expired. */
const T0 = (Math.floor(Date.now() / (24 * HOUR)) + 1) * 24 * HOUR;

/** The decision of a limiter whose counters are not shared, so it never waits. */
function checked(limiter: Limiter, now: number): LimitDecision {
  const decision = limiter.check(now);
  assert.ok(!(decision instanceof Promise), 'counters that share nothing decide at once');
  return decision;
}

/** Admits requests at `now` until one is refused; returns how many were admitted. */
function drain(limiter: Limiter, now: number, max = 1000): number {
  for (let admitted = 0; admitted < max; admitted++) {
    const decision = checked(limiter, now);
    if (!decision.allowed) return admitted;
    limiter.count(decision);
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
    const first = checked(limiter, now);
    assert.deepEqual(first, { allowed: true, limit: 2, remaining: 1, resetSeconds: 8, retryAfterSeconds: 0 });
    limiter.count(first);
    assert.equal(checked(limiter, now).remaining, 0);
    limiter.count(first);
    // 2 × (1 - f) + 1 <= 2 in the next window from f = 0.5: 12.5 s from now.
    assert.deepEqual(checked(limiter, now), {
      allowed: false,
      limit: 2,
      remaining: 0,
      resetSeconds: 8,
      retryAfterSeconds: 13,
    });
    now = T0 + 9_999;
    assert.equal(checked(limiter, now).allowed, false, 'the window is full on its own');
  });

  it('weighs the previous window by its overlap, so a boundary does not double the limit', () => {
    let now = T0 + 9_000;
    const limiter = new RateLimiter(new SharedCounters({ now: () => now }), 'k', 10, 10_000, 'r');
    assert.equal(drain(limiter, now), 10);
    now = T0 + 10_000;
    const refused = checked(limiter, now);
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
    const wait = checked(limiter, now).retryAfterSeconds;
    assert.ok(wait > 60 && wait <= 120, `retry after ${wait}s: in the next window, once this one weighs less`);
    now += (wait - 1) * 1000;
    assert.equal(checked(limiter, now).allowed, false);
    now += 1000;
    assert.equal(checked(limiter, now).allowed, true);
  });

  it('changes nothing when it only checks', () => {
    const now = T0;
    const limiter = new RateLimiter(new SharedCounters({ now: () => now }), 'k', 1, 60_000, 'r');
    for (let i = 0; i < 3; i++) assert.equal(checked(limiter, now).allowed, true);
  });
});

describe('QuotaLimiter (fixed window)', () => {
  it('admits max requests per window aligned to the epoch, then refuses until the window ends', () => {
    let now = T0 + 20 * HOUR + 1_800_000;
    const quota = new QuotaLimiter(new SharedCounters({ now: () => now }), 'q', 3, 24 * HOUR, 'quota');
    assert.deepEqual(checked(quota, now), {
      allowed: true,
      limit: 3,
      remaining: 2,
      resetSeconds: 3 * 3600 + 1800,
      retryAfterSeconds: 0,
    });
    assert.equal(drain(quota, now), 3);
    assert.deepEqual(checked(quota, now), {
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
  const now = T0 + 60_000;
  /** A process's counters, exchanging with `storage` only when a limiter asks. */
  const gateway = (storage: MemoryStorage) =>
    new SharedCounters({
      exchange: (increments) => storage.addCounters(increments),
      flushEveryMs: HOUR,
      now: () => now,
    });
  /** Checks `limiters` together, as the request path does: counted when all admit, released when one refuses. */
  const request = async (limiters: Limiter[]) => {
    const decisions = await Promise.all(limiters.map((l) => l.check(now)));
    const allowed = decisions.every((d) => d.allowed);
    decisions.forEach((d, i) => {
      if (allowed) limiters[i].count(d);
      else if (d.allowed) limiters[i].release(d);
    });
    return allowed;
  };

  it('admit exactly the limit together, however many requests arrive at once', async () => {
    const storage = new MemoryStorage();
    const [a, b] = [gateway(storage), gateway(storage)];
    const [la, lb] = [new RateLimiter(a, 'api', 100, HOUR, 'r'), new RateLimiter(b, 'api', 100, HOUR, 'r')];
    await Promise.all([a.flush(), b.flush()]);
    let admitted = 0;
    // Bursts of 40 requests at once, 20 to each process: none waits for the other's exchange.
    for (let round = 0; round < 10; round++) {
      const burst = Array.from({ length: 40 }, (_, i) => request([i % 2 === 0 ? la : lb]));
      admitted += (await Promise.all(burst)).filter(Boolean).length;
    }
    assert.equal(admitted, 100);
    const alone = new RateLimiter(new SharedCounters({ now: () => now }), 'api', 100, HOUR, 'r');
    assert.equal(drain(alone, now), 100, 'a process that shares nothing admits the whole limit on its own');
    await Promise.all([a.close(), b.close()]);
  });

  it('give back the slot of a request another limit refused, to the next request', async () => {
    const storage = new MemoryStorage();
    const counters = gateway(storage);
    const api = new RateLimiter(counters, 'api', 10, HOUR, 'r');
    const quota = new QuotaLimiter(counters, 'quota', 3, 24 * HOUR, 'q');
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await request([api, quota]));
    assert.deepEqual(results, [true, true, true, false, false]);
    let others = 0;
    while ((await request([api])) && others < 20) others++;
    assert.equal(others, 7, 'the API admits its whole limit: the refused requests held no slot');
    await counters.close();
  });
});
