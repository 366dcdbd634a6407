import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isServerError, TrafficCounts } from './traffic.ts';

test('every 5xx answer is a server error, 4xx refusals and redirects are not', () => {
  assert.deepEqual([200, 302, 401, 429, 499, 500, 502, 503, 504, 599].map(isServerError), [
    false,
    false,
    false,
    false,
    false,
    true,
    true,
    true,
    true,
    true,
  ]);
});

test('counts requests and 5xx answers per API since one start; a snapshot does not move', () => {
  const traffic = new TrafficCounts(new Date('2025-01-01T00:00:00Z'));
  const before = traffic.changes;
  for (const status of [200, 500, 503, 429]) traffic.count('default/orders', status);
  traffic.count('', 404);
  traffic.count('default/pay', 200);
  assert.notEqual(traffic.changes, before);
  const since = '2025-01-01T00:00:00.000Z';
  const snapshot = traffic.snapshot();
  assert.deepEqual(
    [...snapshot],
    [
      ['default/orders', { requests: 4, serverErrors: 2, since }],
      ['default/pay', { requests: 1, serverErrors: 0, since }],
    ],
  );
  const read = traffic.changes;
  traffic.count('default/orders', 502);
  assert.deepEqual(snapshot.get('default/orders'), { requests: 4, serverErrors: 2, since });
  assert.deepEqual(traffic.snapshot().get('default/orders'), { requests: 5, serverErrors: 3, since });
  assert.notEqual(traffic.changes, read);
});
