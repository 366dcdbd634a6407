import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { configMapKind } from '../../api/core/config-map/index.ts';
import { namespaceKind } from '../../api/core/namespace/index.ts';
import { clusterRoleBindingKind } from '../../api/rbac/kinds.ts';
import { MemoryStorage } from '../../storage/memory/memory-storage.ts';
import { Registry } from './registry.ts';
import type { WriteOptions } from './store.ts';

test('a delete racing another write is tried again on the current object, unless pinned to its version', async () => {
  const registry = new Registry([namespaceKind, configMapKind], new MemoryStorage());
  await registry.bootstrap();
  const store = registry.store('', 'configmaps')!;
  const plain: WriteOptions = { dryRun: false, fieldValidation: 'Strict' };
  const create = (name: string) =>
    store.create('default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1' } }, plain);
  // Admission runs between the read and the delete; the write it makes stands for one racing the delete.
  let writes = 0;
  const racing = (name: string): WriteOptions => ({
    ...plain,
    admit: async () => {
      if (writes++ === 0) await store.patch('default', name, 'merge', { data: { a: '2' } }, plain);
    },
  });
  await create('raced');
  const deleted = await store.delete('default', 'raced', {}, racing('raced'));
  assert.equal(deleted.pending, false);
  await assert.rejects(store.get('default', 'raced'), { reason: 'NotFound' });

  writes = 0;
  const { object } = await create('pinned');
  const pinned = { preconditions: { resourceVersion: object.metadata.resourceVersion } };
  await assert.rejects(store.delete('default', 'pinned', pinned, racing('pinned')), { reason: 'Conflict' });
  registry.close();
});

test('an apply that changes nothing writes nothing, in whichever second it comes', async (t) => {
  mock.timers.enable({ apis: ['Date'], now: Date.parse('2026-01-01T00:00:00.400Z') });
  t.after(() => mock.timers.reset());
  const registry = new Registry([namespaceKind, clusterRoleBindingKind], new MemoryStorage());
  await registry.bootstrap();
  const store = registry.store('rbac.authorization.k8s.io', 'clusterrolebindings')!;
  // subjects is an atomic list whose apiGroup is defaulted: the applied list replaces the stored one, and only
  // the defaulting makes them the same again.
  const config = () => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'same' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [{ kind: 'ServiceAccount', name: 'flux', namespace: 'default' }],
  });
  const apply: WriteOptions = { dryRun: false, fieldValidation: 'Strict', fieldManager: 'flux', force: true };
  const first = await store.patch('', 'same', 'apply', config(), apply);
  mock.timers.tick(1000);
  for (const dryRun of [true, false]) {
    const again = await store.patch('', 'same', 'apply', config(), { ...apply, dryRun });
    assert.deepEqual(again.object, first.object, `dryRun ${dryRun}: the stored object, its manager's time kept`);
  }
  registry.close();
});
