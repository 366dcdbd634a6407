import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../errors.ts';
import { applyPatch, mergePatch, patchTypeOf } from './patch.ts';

test('JSON merge patch follows RFC 7386', () => {
  assert.deepEqual(mergePatch({ a: 'b', c: { d: 'e', f: 'g' } }, { a: 'z', c: { f: null } }), {
    a: 'z',
    c: { d: 'e' },
  });
  assert.deepEqual(mergePatch({ a: [1, 2] }, { a: [3] }), { a: [3] });
  assert.deepEqual(mergePatch({ a: 1 }, { b: { c: null } }), { a: 1, b: {} });
});

test('JSON patch applies operations and refuses ones that do not apply', () => {
  const doc = { spec: { listenPath: '/a', hosts: ['x'] } };
  assert.deepEqual(
    applyPatch(
      'json',
      doc,
      [
        { op: 'add', path: '/spec/hosts/-', value: 'y' },
        { op: 'replace', path: '/spec/listenPath', value: '/b' },
      ],
      'shop',
    ),
    {
      spec: { listenPath: '/b', hosts: ['x', 'y'] },
    },
  );
  assert.deepEqual(doc.spec.hosts, ['x'], 'the input is not mutated');
  assert.throws(
    () => applyPatch('json', doc, [{ op: 'test', path: '/spec/listenPath', value: '/nope' }], 'shop'),
    (e: unknown) => e instanceof ApiError && e.code === 400 && /"shop"/.test(e.message),
  );
  assert.throws(
    () => applyPatch('json', doc, [{ op: 'remove', path: '/spec/missing' }], 'shop'),
    (e: unknown) => e instanceof ApiError && e.code === 400,
  );
  assert.throws(() => applyPatch('json', doc, { op: 'add' }, 'shop'), /JSON array/);
});

test('JSON patch refuses hostile operations as a bad request naming the object, never an internal error', () => {
  const doc = { spec: { listenPath: '/a' } };
  const refused = (patch: unknown, reason: RegExp) =>
    assert.throws(
      () => applyPatch('json', doc, patch, 'shop'),
      (e: unknown) =>
        e instanceof ApiError &&
        e.code === 400 &&
        /the json patch for "shop" does not apply/.test(e.message) &&
        reason.test(e.message),
    );
  refused([{ op: 'move', from: '/spec', path: '/spec/x' }], /cannot be moved into one of its children/);
  refused([null], /./);
  refused([{ op: 'move', from: 5, path: 7 }], /./);
  refused([{ op: 'copy', from: '/nowhere', path: '/spec/x' }], /./);
  assert.deepEqual(doc, { spec: { listenPath: '/a' } }, 'the input is not mutated');
});

test('strategic merge patch is served only for core kinds, honouring kubectl directives', () => {
  assert.throws(
    () => patchTypeOf('application/strategic-merge-patch+json', false),
    (e: unknown) => e instanceof ApiError && e.code === 415,
  );
  assert.equal(patchTypeOf('application/strategic-merge-patch+json', true), 'strategic');
  assert.equal(patchTypeOf('application/merge-patch+json; charset=utf-8', false), 'merge');
  assert.throws(
    () => patchTypeOf('text/plain', false),
    (e: unknown) => e instanceof ApiError && e.code === 415,
  );
  const out = applyPatch(
    'strategic',
    { data: { a: '1', b: '2' }, metadata: { labels: { x: 'y' } } },
    { data: { b: null, c: '3' }, '$setElementOrder/items': [], metadata: { labels: { $patch: 'replace', z: 'w' } } },
    'cfg',
  );
  assert.deepEqual(out, { data: { a: '1', c: '3' }, metadata: { labels: { z: 'w' } } });
});
