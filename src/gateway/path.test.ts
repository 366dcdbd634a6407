import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRequestTarget } from './path.ts';

test('splits path, query and decoded segments', () => {
  assert.deepEqual(parseRequestTarget('/v1//users/j%C3%BCrgen?x=1&y=/..'), { path: '/v1//users/j%C3%BCrgen', query: '?x=1&y=/..', segments: ['v1', 'users', 'jürgen'] });
  assert.deepEqual(parseRequestTarget('/'), { path: '/', query: '', segments: [] });
});

test('refuses traversal in every spelling, encoded separators and non-origin forms', () => {
  for (const bad of ['/a/../b', '/..', '/a/./b', '/a/%2e%2e/b', '/a/%2E./b', '/a/.%2e', '/a%2fb', '/a%2Fb', '/a%5cb', '/a\\b', '/a%00', '/a%zz', '*', 'http://evil/x']) {
    assert.equal(parseRequestTarget(bad), undefined, bad);
  }
});
