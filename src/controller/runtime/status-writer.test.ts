import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergePatch } from './status-writer.ts';

// The stored-side behaviour of writeStatus (conditional write, 404, 409) is covered
// against a real API server in test/controller-runtime.test.ts.
describe('mergePatch', () => {
  it('sets changed fields, nulls removed ones, recurses into objects and replaces arrays', () => {
    const before = { a: 1, gone: 'x', nested: { keep: 1, drop: 2, change: 'old' }, list: [1, 2], same: { k: [1] } };
    const after = { a: 2, nested: { keep: 1, change: 'new' }, list: [1], same: { k: [1] }, added: { v: true } };
    assert.deepEqual(mergePatch(before, after), {
      a: 2,
      gone: null,
      nested: { drop: null, change: 'new' },
      list: [1],
      added: { v: true },
    });
  });

  it('is empty for equal values and treats inherited names as absent', () => {
    assert.deepEqual(mergePatch({ a: { b: [1] } }, { a: { b: [1] } }), {});
    assert.deepEqual(mergePatch({ constructor: 1 }, {}), { constructor: null });
  });
});
