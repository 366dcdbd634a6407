import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from './errors.ts';
import { assertWithinBounds, MAX_NESTING_DEPTH, MAX_OBJECT_BYTES } from './object-bounds.ts';

test('the size bound is the exact length of the JSON the server writes', () => {
  const escaped = `${'é'.repeat(10)}\n"\\\u0000`;
  const base = { a: [1, null, true, 'x', { b: escaped, c: [] }], d: {}, e: -1.5e-7, u: undefined };
  const room = MAX_OBJECT_BYTES - Buffer.byteLength(JSON.stringify({ ...base, f: '' }));
  assertWithinBounds({ ...base, f: 'y'.repeat(room) }, 'the object');
  assert.throws(
    () => assertWithinBounds({ ...base, f: 'y'.repeat(room + 1) }, 'the object'),
    (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.reason, 'RequestEntityTooLarge');
      assert.equal(err.message, 'the object is larger than 3145728 bytes as JSON');
      return true;
    },
  );
});

test('a shared subtree counts once per place it appears, as in the JSON', () => {
  const shared = { s: 'z'.repeat(1024 * 1024) };
  assertWithinBounds({ a: shared, b: shared }, 'the object');
  const thrice = { a: shared, b: shared, c: shared };
  assert.throws(() => assertWithinBounds(thrice, 'the object'), /larger than 3145728 bytes/);
});

test('the nesting bound counts objects and arrays alike', () => {
  let value: unknown = 1;
  for (let i = 0; i < MAX_NESTING_DEPTH; i++) value = i % 2 ? [value] : { k: value };
  assertWithinBounds(value, 'the object');
  const tooDeep = /^ApiError: the object is nested too deeply: \[0\]\[0\]\.k\[0\]/;
  assert.throws(() => assertWithinBounds([value], 'the object'), tooDeep);
});
