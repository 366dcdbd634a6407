import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configMapKind } from '../../api/core/config-map/index.ts';
import { namespaceKind } from '../../api/core/namespace/index.ts';
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
