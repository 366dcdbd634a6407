import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Sync, SyncSpec } from '../../api/kinds/sync/index.ts';
import type { ChangeSet } from '../sync/index.ts';
import { checkedApis } from './health.ts';

const ORDERS = 'default_orders_gatehouse.dev_ApiDefinition';
const PAY = 'default_pay_gatehouse.dev_ApiDefinition';
const changes = {
  entries: [],
  counts: { created: 0, configured: 0, unchanged: 2, deleted: 0 },
  inventory: [
    { id: ORDERS, v: 'v1alpha1' },
    { id: PAY, v: 'v1alpha1' },
    { id: 'default_web_gatehouse.dev_SecurityPolicy', v: 'v1alpha1' },
  ],
  skipped: [],
  overridden: [],
} as unknown as ChangeSet;
const sync = (spec: Partial<SyncSpec>) =>
  ({ metadata: { name: 'apis', namespace: 'default' }, spec: { sourceRef: { name: 'apis' }, ...spec } }) as Sync;
const ids = (spec: Partial<SyncSpec>) => checkedApis(sync(spec), changes).map((c) => c.id);
const rollback = { maxErrorRate: 0.1, window: '30s' };

test('spec.rollback checks every applied ApiDefinition without healthChecks, the named ones with them', () => {
  assert.deepEqual(ids({}), []);
  assert.deepEqual(ids({ rollback }), [ORDERS, PAY]);
  assert.deepEqual(ids({ rollback, healthChecks: [{ kind: 'ApiDefinition', name: 'pay' }] }), [PAY]);
  assert.deepEqual(ids({ wait: true }), [ORDERS, PAY]);
});
