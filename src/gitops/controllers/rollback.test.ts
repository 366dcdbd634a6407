import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Sync, SyncHistoryEntry, SyncRollback } from '../../api/kinds/sync/index.ts';
import { SubresourceRefusal } from '../../controller/runtime/index.ts';
import { lastHealthy, rollbackTarget } from './rollback.ts';

const entry = (revision: string, status: SyncHistoryEntry['status']): SyncHistoryEntry => ({
  revision,
  status,
  time: '2026-01-01T00:00:00Z',
});

function syncWith(history: SyncHistoryEntry[], lastAppliedRevision: string, rolledBackTo?: SyncRollback): Sync {
  return {
    apiVersion: 'gatehouse.dev/v1alpha1',
    kind: 'Sync',
    metadata: { name: 'apis', namespace: 'default' },
    spec: {
      sourceRef: { kind: 'GitRepository', name: 'platform' },
      path: './',
      interval: '5m',
      prune: true,
      suspend: false,
    },
    status: { history, lastAppliedRevision, ...(rolledBackTo ? { rolledBackTo } : {}) },
  };
}

const refused = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SubresourceRefusal);
    return `${err.reason}: ${err.message}`;
  }
  assert.fail('not refused');
};

describe('rollbackTarget', () => {
  it('counts steps over distinct revisions applied before the current one, failures left out', () => {
    const sync = syncWith(
      [
        entry('c', 'Succeeded'),
        entry('c', 'Succeeded'),
        entry('x', 'Failed'),
        entry('b', 'Succeeded'),
        entry('a', 'Succeeded'),
      ],
      'c',
    );
    assert.equal(rollbackTarget(sync, { steps: 1 }).revision, 'b');
    assert.equal(rollbackTarget(sync, { steps: 2 }).revision, 'a');
    assert.equal(
      refused(() => rollbackTarget(sync, { steps: 3 })),
      'Invalid: Sync default/apis: steps: 3 goes beyond status.history, which holds 2 revisions applied before c',
    );
  });

  it('counts from the first apply of the revision a rollback holds, not from the re-apply', () => {
    const rolledBackTo = { revision: 'b', from: 'c', time: '', by: 'alice', reason: 'r' };
    const history = [
      entry('b', 'RolledBack'),
      entry('c', 'Succeeded'),
      entry('b', 'Succeeded'),
      entry('a', 'Succeeded'),
    ];
    const sync = syncWith(history, 'b', rolledBackTo);
    assert.equal(rollbackTarget(sync, { steps: 1 }).revision, 'a');
  });

  it('names a revision only when it applied and is not the current one', () => {
    const sync = syncWith([entry('c', 'Succeeded'), entry('x', 'Failed'), entry('a', 'Succeeded')], 'c');
    assert.equal(rollbackTarget(sync, { revision: 'a' }).revision, 'a');
    assert.match(
      refused(() => rollbackTarget(sync, { revision: 'zz' })),
      /^NotFound: .*revision: zz is not in status/,
    );
    assert.match(
      refused(() => rollbackTarget(sync, { revision: 'x' })),
      /^Invalid: .*revision: x never applied/,
    );
    assert.match(
      refused(() => rollbackTarget(sync, { revision: 'c' })),
      /^Invalid: .*is the revision applied now$/,
    );
  });
});

describe('lastHealthy', () => {
  it('is the newest applied revision other than the failed one', () => {
    const history = [entry('c', 'Failed'), entry('c', 'Succeeded'), entry('b', 'RolledBack'), entry('a', 'Succeeded')];
    assert.equal(lastHealthy(history, 'c')?.revision, 'b');
    assert.equal(lastHealthy([entry('c', 'Succeeded')], 'c'), undefined);
  });
});
