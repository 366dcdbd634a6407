// The webhook caches' contract: each entry lives its own lifetime, a full cache drops the least recently
// used entry, and a lifetime of 0 keeps nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExpiringCache } from './expiring-cache.ts';

test('an entry is answered until its lifetime ends, by the clock given', () => {
  let now = 1_000;
  const cache = new ExpiringCache<string>(10, () => now);
  cache.set('allowed', 'yes', 300_000);
  cache.set('denied', 'no', 30_000);
  now += 29_999;
  assert.deepEqual([cache.get('allowed'), cache.get('denied')], ['yes', 'no']);
  now += 1;
  assert.deepEqual([cache.get('allowed'), cache.get('denied')], ['yes', undefined]);
  assert.equal(cache.size, 1);
});

test('a full cache drops the least recently used entry; a lifetime of 0 keeps nothing', () => {
  const cache = new ExpiringCache<number>(2);
  cache.set('a', 1, 1_000);
  cache.set('b', 2, 1_000);
  assert.equal(cache.get('a'), 1);
  cache.set('c', 3, 1_000);
  assert.deepEqual([cache.get('a'), cache.get('b'), cache.get('c')], [1, undefined, 3]);
  cache.set('a', 4, 0);
  assert.equal(cache.get('a'), undefined);
});
