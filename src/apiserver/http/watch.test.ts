import assert from 'node:assert/strict';
import { test } from 'node:test';
import { watchTimeoutMs } from './watch.ts';

test('a watch lasts what it asked for, up to twice the minimum request timeout', () => {
  assert.equal(watchTimeoutMs(300, 1800), 300_000);
  assert.equal(watchTimeoutMs(3600, 1800), 3_600_000);
  assert.equal(watchTimeoutMs(3601, 1800), 3_600_000);
  assert.equal(watchTimeoutMs(Number.MAX_SAFE_INTEGER, 1800), 3_600_000);
});

test('without timeoutSeconds, a random time between the minimum and twice it, as kube-apiserver', () => {
  for (let i = 0; i < 100; i++) {
    for (const requested of [undefined, 0]) {
      const ms = watchTimeoutMs(requested, 1800);
      assert.ok(ms >= 1_800_000 && ms < 3_600_000, String(ms));
    }
  }
});

test('never more than a Node timer holds', () => {
  assert.equal(watchTimeoutMs(undefined, 10_000_000), 2 ** 31 - 1);
  assert.equal(watchTimeoutMs(5_000_000, 10_000_000), 2 ** 31 - 1);
});
