import assert from 'node:assert/strict';
import { it } from 'node:test';
import { RecentEvents } from './recent.ts';

it('lets an event through once per window', () => {
  let now = 0;
  const recent = new RecentEvents(1_000, () => now);
  assert.equal(recent.seen('a'), false);
  assert.equal(recent.seen('b'), false);
  now = 999;
  assert.equal(recent.seen('a'), true);
  now = 1_000;
  assert.equal(recent.seen('a'), false);
  assert.equal(recent.seen('a'), true);
});
