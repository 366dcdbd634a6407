import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Sync, SyncStatus } from '../../api/kinds/sync/index.ts';
import { gateOf, recordHealth } from './environments.ts';

const NOW = Date.parse('2026-01-01T00:10:00Z');
const REVISION = 'main@sha1:abc';

function sync(name: string, spec: Partial<Sync['spec']> = {}, status?: SyncStatus, generation = 1): Sync {
  return {
    apiVersion: 'gatehouse.dev/v1alpha1',
    kind: 'Sync',
    metadata: { name, namespace: 'default', generation },
    spec: {
      sourceRef: { kind: 'GitRepository', name: 'platform' },
      path: './',
      interval: '5m',
      prune: false,
      suspend: false,
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

const ready = (reason = 'ReconciliationSucceeded', status: 'True' | 'False' = 'True') => [
  { type: 'Ready', status, reason, message: 'm', lastTransitionTime: '2026-01-01T00:00:00Z' },
];
const reader =
  (...syncs: Sync[]) =>
  async ({ name }: { name: string }) =>
    syncs.find((s) => s.metadata.name === name);

test('dependsOn: a dependency Ready for an older generation still holds the Sync back', async () => {
  const policies = sync('policies', {}, { observedGeneration: 1, conditions: ready() }, 2);
  const consumers = sync('consumers', { dependsOn: [{ name: 'policies' }, { name: 'absent' }] });
  const gate = await gateOf(consumers, REVISION, reader(policies), NOW);
  assert.deepEqual(gate && [gate.reason, gate.message], [
    'DependencyNotReady',
    'dependencies not ready: Sync default/policies (its latest generation is not reconciled yet), ' +
      'Sync default/absent (not found)',
  ]);
  policies.status!.observedGeneration = 2;
  assert.equal(
    await gateOf(sync('c', { dependsOn: [{ name: 'policies' }] }), REVISION, reader(policies), NOW),
    undefined,
  );
});

test('promotion: the same commit by another branch counts; the time left is the requeue', async () => {
  const healthy = { revision: 'release@sha1:abc', since: '2026-01-01T00:09:00Z' };
  const staging = sync('staging', {}, { observedGeneration: 1, conditions: ready(), healthy });
  const promoted = (healthyFor: string) => sync('production', { promotion: { from: { name: 'staging', healthyFor } } });
  const waits = `revision ${REVISION} waits for promotion from Sync default/staging`;
  const gate = await gateOf(promoted('90s'), REVISION, reader(staging), NOW);
  assert.deepEqual(gate, {
    reason: 'PromotionPending',
    message: `${waits}: Ready at it for 60s of 90s, 30s to go`,
    requeueAfterMs: 30_000,
  });
  assert.equal(await gateOf(promoted('1m'), REVISION, reader(staging), NOW), undefined);
  // Already applied here: it stays, whatever staging does.
  const applied = sync('production', promoted('1h').spec, { lastAppliedRevision: REVISION });
  assert.equal(await gateOf(applied, REVISION, reader(staging), NOW), undefined);
});

test('status.healthy: kept while Ready at the same revision and while waiting, dropped by a failure', () => {
  const at = (iso: string) => new Date(iso);
  const status: SyncStatus = { lastAppliedRevision: REVISION, conditions: ready() };
  assert.deepEqual(recordHealth(status, at('2026-01-01T00:00:00Z')).healthy, {
    revision: REVISION,
    since: '2026-01-01T00:00:00.000Z',
  });
  recordHealth(status, at('2026-01-01T00:05:00Z'));
  assert.equal(status.healthy?.since, '2026-01-01T00:00:00.000Z');
  status.conditions = ready('PromotionPending', 'False');
  assert.equal(recordHealth(status, at('2026-01-01T00:06:00Z')).healthy?.since, '2026-01-01T00:00:00.000Z');
  status.conditions = ready('ApplyFailed', 'False');
  assert.equal(recordHealth(status, at('2026-01-01T00:07:00Z')).healthy, undefined);
});
