import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRequestTarget } from './path.ts';

test('splits path, query and decoded segments', () => {
  assert.deepEqual(parseRequestTarget('/v1//users/j%C3%BCrgen?x=1&y=/..'), {
    path: '/v1//users/j%C3%BCrgen',
    query: '?x=1&y=/..',
    segments: ['v1', 'users', 'jürgen'],
  });
  assert.deepEqual(parseRequestTarget('/'), { path: '/', query: '', segments: [] });
  assert.deepEqual(parseRequestTarget('/a/.well-known/...;x/b;v=1'), {
    path: '/a/.well-known/...;x/b;v=1',
    query: '',
    segments: ['a', '.well-known', '...;x', 'b;v=1'],
  });
});

test('refuses traversal in every spelling, encoded separators and non-origin forms, saying why', () => {
  const cases: Array<[string, RegExp]> = [
    ['/a/../b', /dot segment "\.\."/],
    ['/..', /dot segment/],
    ['/a/./b', /dot segment "\."/],
    ['/a/%2e%2e/b', /dot segment "%2e%2e"/],
    ['/a/%2E./b', /dot segment/],
    ['/a/.%2e', /dot segment/],
    ['/a/..;/b', /dot segment "\.\.;"/],
    ['/a/.;x=1/b', /dot segment/],
    ['/a/%2e%2e%3bjsessionid=1/b', /dot segment/],
    ['/a%2fb', /%2f \(an encoded separator\)/],
    ['/a/%2E%2E%2Fadmin', /%2F \(an encoded separator\)/],
    ['/a/..%2fadmin', /%2f/],
    ['/a%5cb', /%5c/],
    ['/a\\b', /backslash/],
    ['/a\\..\\b', /backslash/],
    ['/a%00', /NUL/],
    ['/a%zz', /malformed percent-encoding/],
    ['/a/%c0%ae%c0%ae/b', /malformed percent-encoding/],
    ['/a#frag', /fragment/],
    ['*', /asterisk-form/],
    ['http://evil.example/x', /absolute-form .* not a forward proxy/],
    ['evil.example:443', /must be a path/],
  ];
  for (const [target, reason] of cases) {
    const parsed = parseRequestTarget(target);
    assert.equal(typeof parsed, 'string', target);
    assert.match(parsed as string, reason, target);
  }
});
