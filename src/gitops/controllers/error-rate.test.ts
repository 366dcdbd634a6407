import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../api/kind.ts';
import type { ApiTraffic } from '../../api/kinds/api-definition/index.ts';
import { excessiveErrorRate, MIN_REQUESTS, readTraffic, trafficBetween } from './error-rate.ts';

const since = '2025-01-01T00:00:00Z';
const ORDERS = 'default_orders_gatehouse.dev_ApiDefinition';
const PAY = 'default_pay_gatehouse.dev_ApiDefinition';
const policy = { maxErrorRate: 0.1, window: '30s' };

function api(traffic?: ApiTraffic): KubeObject {
  return { apiVersion: 'gatehouse.dev/v1alpha1', kind: 'ApiDefinition', metadata: {}, status: { traffic } };
}

test('the traffic of a window is the difference of two readings of the same counters', () => {
  const start = { requests: 100, serverErrors: 3, since };
  assert.deepEqual(trafficBetween(start, { requests: 150, serverErrors: 8, since }), { requests: 50, serverErrors: 5 });
  // A new writer's counters began after the first reading: all of them are the window's.
  const other = { requests: 20, serverErrors: 4, since: '2025-01-01T00:05:00Z' };
  assert.deepEqual(trafficBetween(start, other), { requests: 20, serverErrors: 4 });
  assert.deepEqual(trafficBetween(undefined, other), { requests: 20, serverErrors: 4 });
  assert.deepEqual(trafficBetween(start, undefined), { requests: 0, serverErrors: 0 });
});

test('an API whose 5xx share exceeds maxErrorRate is named with its share; too few requests are not judged', () => {
  const checked = [{ id: ORDERS }, { id: PAY }];
  const before = new Map([
    [ORDERS, api({ requests: 100, serverErrors: 0, since })],
    [PAY, api()],
  ]);
  const starts = readTraffic(checked, (id) => before.get(id));
  const now = new Map([
    [ORDERS, api({ requests: 150, serverErrors: 21, since })],
    [PAY, api({ requests: MIN_REQUESTS - 1, serverErrors: MIN_REQUESTS - 1, since })],
  ]);
  assert.equal(
    excessiveErrorRate(checked, starts, (id) => now.get(id), policy),
    '5xx share 0.42 over 30s on ApiDefinition default/orders exceeded maxErrorRate 0.1',
  );
  // At the limit is not above it.
  now.set(ORDERS, api({ requests: 200, serverErrors: 10, since }));
  assert.equal(
    excessiveErrorRate(checked, starts, (id) => now.get(id), policy),
    undefined,
  );
  now.set(PAY, api({ requests: MIN_REQUESTS, serverErrors: 2, since }));
  assert.equal(
    excessiveErrorRate(checked, starts, (id) => now.get(id), policy),
    '5xx share 0.20 over 30s on ApiDefinition default/pay exceeded maxErrorRate 0.1',
  );
});
