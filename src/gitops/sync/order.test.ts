import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyStage, sortForApply, sortForPrune, type GroupKind } from './order.ts';

const items: Array<GroupKind & { name: string }> = [
  { group: 'gatehouse.dev', kind: 'ApiKey', name: 'key' },
  { group: 'gatehouse.dev', kind: 'Sync', name: 'other' },
  { group: 'gatehouse.dev', kind: 'ApiDefinition', name: 'api' },
  { group: 'gatehouse.dev', kind: 'Consumer', name: 'consumer' },
  { group: '', kind: 'ConfigMap', name: 'config' },
  { group: 'gatehouse.dev', kind: 'SecurityPolicy', name: 'policy' },
  { group: '', kind: 'Secret', name: 'secret' },
  { group: '', kind: 'Namespace', name: 'ns' },
];

test('applies Namespaces, then Secrets and ConfigMaps, policies and consumers, APIs, keys, the rest', () => {
  assert.deepEqual(
    sortForApply(items, (i) => i).map((i) => i.name),
    ['ns', 'config', 'secret', 'consumer', 'policy', 'api', 'key', 'other'],
  );
});

test('prunes in reverse order, so a Namespace goes after its contents', () => {
  assert.deepEqual(
    sortForPrune(items, (i) => i).map((i) => i.name),
    ['other', 'key', 'api', 'policy', 'consumer', 'secret', 'config', 'ns'],
  );
});

test('the group counts: a Namespace kind of another group is not a Namespace', () => {
  assert.equal(applyStage({ group: '', kind: 'Namespace' }), 0);
  assert.equal(
    applyStage({ group: 'example.com', kind: 'Namespace' }),
    applyStage({ group: 'gatehouse.dev', kind: 'Sync' }),
  );
});

test('keeps the given order within a stage', () => {
  const secrets = ['b', 'a', 'c'].map((name) => ({ group: '', kind: 'Secret', name }));
  assert.deepEqual(
    sortForApply(secrets, (i) => i).map((i) => i.name),
    ['b', 'a', 'c'],
  );
});
