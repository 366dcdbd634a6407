import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDuration, parseDuration, tryParseDuration } from './duration.ts';

test('parseDuration reads Go duration strings into milliseconds', () => {
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('2h45m0.5s'), 9_900_500);
  assert.equal(parseDuration('1500us'), 1.5);
  assert.equal(parseDuration('1000000ns'), 1);
  assert.equal(parseDuration('-1s'), -1000);
  assert.equal(parseDuration('.5s'), 500);
});

test('parseDuration rejects what Go rejects, naming the value', () => {
  for (const bad of ['', '1', '10', 's', '1d', '1 s', '1s ', '--1s', '1.s.5', 'abc', '5 m']) {
    assert.equal(tryParseDuration(bad), undefined, bad);
  }
  assert.throws(() => parseDuration('1d'), { name: 'RangeError', message: /"1d"/ });
});

test('isDuration accepts only non-negative durations', () => {
  assert.equal(isDuration('1m'), true);
  assert.equal(isDuration('0s'), true);
  assert.equal(isDuration('-1m'), false);
  assert.equal(isDuration('1y'), false);
});
