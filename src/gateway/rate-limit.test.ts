import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenBucket } from './rate-limit.ts';

test('allows a burst up to the limit, then refuses until tokens refill', () => {
  let now = 0;
  const bucket = new TokenBucket(2, 10_000, () => now);
  assert.deepEqual(bucket.take(), { allowed: true, limit: 2, remaining: 1, resetSeconds: 5, retryAfterSeconds: 0 });
  assert.equal(bucket.take().allowed, true);
  const refused = bucket.take();
  assert.deepEqual(refused, { allowed: false, limit: 2, remaining: 0, resetSeconds: 10, retryAfterSeconds: 5 });
  now = 5_000;
  assert.equal(bucket.take().allowed, true);
  assert.equal(bucket.take().allowed, false);
});
