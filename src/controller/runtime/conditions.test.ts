import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findCondition } from '../../api/status.ts';
import {
  ConditionType,
  markFailed,
  markReady,
  markReconciling,
  markStalled,
  removeCondition,
  setCondition,
  type Conditioned,
} from './conditions.ts';

const t0 = new Date('2025-01-02T03:04:05.678Z');
const t1 = new Date('2025-01-02T04:00:00.000Z');

const object = (generation: number): Conditioned => ({ metadata: { name: 'x', generation } });
const types = (obj: Conditioned) => (obj.status?.conditions ?? []).map((c) => `${c.type}=${c.status}`).sort();

describe('setCondition', () => {
  it('appends a new type with whole-second transition time and observedGeneration', () => {
    const list = setCondition(undefined, { type: 'Ready', status: 'True', reason: 'Done', message: 'ok' }, 3, t0);
    assert.deepEqual(list, [
      {
        type: 'Ready',
        status: 'True',
        reason: 'Done',
        message: 'ok',
        lastTransitionTime: '2025-01-02T03:04:05Z',
        observedGeneration: 3,
      },
    ]);
  });

  it('keeps lastTransitionTime when the status does not change, and moves it when it does', () => {
    const first = setCondition([], { type: 'Ready', status: 'False', reason: 'A', message: 'a' }, 1, t0);
    const same = setCondition(first, { type: 'Ready', status: 'False', reason: 'B', message: 'b' }, 2, t1);
    assert.equal(same[0].lastTransitionTime, '2025-01-02T03:04:05Z');
    assert.equal(same[0].reason, 'B');
    assert.equal(same[0].observedGeneration, 2);
    const flipped = setCondition(same, { type: 'Ready', status: 'True', reason: 'C', message: 'c' }, 2, t1);
    assert.equal(flipped[0].lastTransitionTime, '2025-01-02T04:00:00Z');
  });

  it('replaces in place, leaves other types and its input untouched', () => {
    const input = setCondition(
      setCondition([], { type: 'A', status: 'True', reason: 'r', message: '' }, 1, t0),
      { type: 'B', status: 'True', reason: 'r', message: '' },
      1,
      t0,
    );
    const out = setCondition(input, { type: 'A', status: 'False', reason: 'r', message: '' }, 1, t1);
    assert.deepEqual(
      out.map((c) => `${c.type}=${c.status}`),
      ['A=False', 'B=True'],
    );
    assert.equal(input[0].status, 'True');
    assert.deepEqual(
      removeCondition(out, 'A').map((c) => c.type),
      ['B'],
    );
  });

  it('setting an equal condition again yields an equal list', () => {
    const list = setCondition([], { type: 'Ready', status: 'True', reason: 'Done', message: 'ok' }, 1, t0);
    assert.deepEqual(setCondition(list, { type: 'Ready', status: 'True', reason: 'Done', message: 'ok' }, 1, t1), list);
  });
});

describe('mark helpers (kstatus)', () => {
  it('markReconciling: Reconciling=True, Ready Unknown when absent and kept when present', () => {
    const obj = object(1);
    markReconciling(obj, 'Progressing', 'fetching', t0);
    assert.deepEqual(types(obj), ['Ready=Unknown', 'Reconciling=True']);
    assert.equal(obj.status?.observedGeneration, undefined, 'not concluded');
    markReady(obj, 'Succeeded', 'applied', t0);
    obj.metadata.generation = 2;
    markReconciling(obj, 'Progressing', 'fetching', t1);
    assert.deepEqual(types(obj), ['Ready=True', 'Reconciling=True']);
    assert.equal(
      findCondition(obj.status, ConditionType.Ready)?.observedGeneration,
      1,
      'Ready still describes generation 1',
    );
  });

  it('markReady: Ready=True, no Reconciling or Stalled, generation observed', () => {
    const obj = object(4);
    markStalled(obj, 'Invalid', 'bad path', t0);
    markReady(obj, 'Succeeded', 'applied', t1);
    assert.deepEqual(types(obj), ['Ready=True']);
    assert.equal(obj.status?.observedGeneration, 4);
    assert.equal(findCondition(obj.status, ConditionType.Ready)?.lastTransitionTime, '2025-01-02T04:00:00Z');
  });

  it('markFailed: Ready=False with Reconciling=True (retrying), generation not yet observed', () => {
    const obj = object(2);
    obj.status = { observedGeneration: 1 };
    markFailed(obj, 'FetchFailed', 'connection refused', t0);
    assert.deepEqual(types(obj), ['Ready=False', 'Reconciling=True']);
    assert.equal(findCondition(obj.status, ConditionType.Reconciling)?.reason, 'ProgressingWithRetry');
    assert.equal(findCondition(obj.status, ConditionType.Ready)?.reason, 'FetchFailed');
    assert.equal(obj.status?.observedGeneration, 1);
  });

  it('markStalled: Ready=False and Stalled=True, no Reconciling, generation observed', () => {
    const obj = object(3);
    markFailed(obj, 'FetchFailed', 'x', t0);
    markStalled(obj, 'InvalidPath', 'path escapes the artifact', t1);
    assert.deepEqual(types(obj), ['Ready=False', 'Stalled=True']);
    assert.equal(findCondition(obj.status, ConditionType.Stalled)?.message, 'path escapes the artifact');
    assert.equal(obj.status?.observedGeneration, 3);
  });
});
