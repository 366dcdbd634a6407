import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../api/kind.ts';
import { contentChanged, generationChanged } from './predicates.ts';

const obj = (generation: number, extra: Partial<KubeObject['metadata']> = {}, status?: unknown): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Thing',
  metadata: { name: 'a', namespace: 'ns', generation, ...extra },
  ...(status === undefined ? {} : { status }),
});

describe('generationChanged', () => {
  it('passes additions, deletions and modifications without a previous object', () => {
    assert.equal(generationChanged({ type: 'ADDED', object: obj(1) }), true);
    assert.equal(generationChanged({ type: 'DELETED', object: obj(1), old: obj(1) }), true);
    assert.equal(generationChanged({ type: 'MODIFIED', object: obj(1) }), true);
  });

  it('passes a spec change or the start of a deletion, drops status and metadata changes', () => {
    assert.equal(generationChanged({ type: 'MODIFIED', object: obj(2), old: obj(1) }), true);
    assert.equal(
      generationChanged({
        type: 'MODIFIED',
        object: obj(1, { deletionTimestamp: '2025-01-01T00:00:00Z' }),
        old: obj(1),
      }),
      true,
    );
    assert.equal(
      generationChanged({ type: 'MODIFIED', object: obj(1, {}, { observedGeneration: 1 }), old: obj(1) }),
      false,
    );
    assert.equal(generationChanged({ type: 'MODIFIED', object: obj(1, { labels: { a: 'b' } }), old: obj(1) }), false);
  });
});

describe('contentChanged', () => {
  it('passes what was applied changing: spec, labels, annotations; drops status writes', () => {
    assert.equal(contentChanged({ type: 'MODIFIED', object: obj(2), old: obj(1) }), true);
    assert.equal(contentChanged({ type: 'MODIFIED', object: obj(1, { labels: { a: 'b' } }), old: obj(1) }), true);
    assert.equal(
      contentChanged({ type: 'MODIFIED', object: obj(1, { annotations: { hand: 'edit' } }), old: obj(1) }),
      true,
    );
    assert.equal(
      contentChanged({
        type: 'MODIFIED',
        object: obj(1, { annotations: { a: '1' } }),
        old: obj(1, { annotations: { a: '1' } }),
      }),
      false,
    );
    assert.equal(
      contentChanged({ type: 'MODIFIED', object: obj(1, {}, { observedGeneration: 1 }), old: obj(1) }),
      false,
    );
  });
});
