import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatRevision, isValidRefName, parseLsRemote, refTarget, selectSemverTag } from './refs.ts';

const SHA = 'a'.repeat(40);

test("precedence is Flux's: commit, semver, tag, branch, then the default branch", () => {
  const all = { branch: 'main', tag: 'v1', semver: '^1.0.0', commit: SHA };
  assert.deepEqual(refTarget(all), { kind: 'commit', commit: SHA, branch: 'main' });
  assert.deepEqual(refTarget({ ...all, commit: undefined }), { kind: 'semver', range: '^1.0.0' });
  assert.deepEqual(refTarget({ branch: 'main', tag: 'v1' }), { kind: 'tag', tag: 'v1' });
  assert.deepEqual(refTarget({ branch: 'release/1.x' }), { kind: 'branch', branch: 'release/1.x' });
  assert.deepEqual(refTarget({}), { kind: 'default' });
  assert.deepEqual(refTarget(undefined), { kind: 'default' });
  assert.deepEqual(refTarget({ commit: SHA.toUpperCase() }), { kind: 'commit', commit: SHA });
});

test('malformed refs are INVALID_REF naming the field', () => {
  assert.throws(() => refTarget({ commit: 'abc123' }), {
    code: 'INVALID_REF',
    message: 'spec.ref.commit "abc123": must be a full 40-character SHA-1',
  });
  assert.throws(() => refTarget({ semver: 'not a range' }), {
    code: 'INVALID_REF',
    message: /^spec\.ref\.semver "not a range": not a valid SemVer range/,
  });
  assert.throws(() => refTarget({ branch: '-upload-pack=x' }), {
    code: 'INVALID_REF',
    message: /^spec\.ref\.branch "-upload-pack=x"/,
  });
  assert.throws(() => refTarget({ tag: 'a..b' }), { code: 'INVALID_REF', message: /^spec\.ref\.tag/ });
  assert.throws(() => refTarget({ commit: SHA, branch: 'bad name' }), {
    code: 'INVALID_REF',
    message: /^spec\.ref\.branch/,
  });
});

test('ref names follow git check-ref-format', () => {
  for (const good of ['main', 'release/1.x', 'v1.0.0', 'feature_x-y', 'a@b'])
    assert.equal(isValidRefName(good), true, good);
  for (const bad of [
    '',
    '@',
    '-x',
    '/a',
    'a/',
    'a.',
    'a..b',
    'a//b',
    'a@{1}',
    'a b',
    'a~1',
    'a^',
    'a:b',
    'a?',
    'a*',
    'a[',
    'a\\b',
    '.hidden',
    'a/.b',
    'x.lock',
    'a/x.lock/b',
    'tab\there',
  ]) {
    assert.equal(isValidRefName(bad), false, JSON.stringify(bad));
  }
});

test('ls-remote output: annotated tags resolve to the commit they point to; symrefs are read', () => {
  const out = [
    'ref: refs/heads/main\tHEAD',
    `${'1'.repeat(40)}\tHEAD`,
    `${'1'.repeat(40)}\trefs/heads/main`,
    `${'2'.repeat(40)}\trefs/tags/v1.0.0`,
    `${'3'.repeat(40)}\trefs/tags/v1.0.0^{}`,
    `${'4'.repeat(40)}\trefs/tags/light`,
    '',
  ].join('\n');
  const { refs, symrefs } = parseLsRemote(out);
  assert.equal(symrefs.get('HEAD'), 'refs/heads/main');
  assert.equal(refs.get('HEAD'), '1'.repeat(40));
  assert.equal(refs.get('refs/tags/v1.0.0'), '3'.repeat(40));
  assert.equal(refs.get('refs/tags/light'), '4'.repeat(40));
  assert.equal(refs.has('refs/tags/v1.0.0^{}'), false);
});

test('semver picks the highest satisfying tag; prereleases only when the range asks', () => {
  const refs = new Map<string, string>([
    ['refs/tags/v1.0.0', 'c100'],
    ['refs/tags/v1.2.0', 'c120'],
    ['refs/tags/1.3.0-rc.1', 'c130rc'],
    ['refs/tags/v2.0.0', 'c200'],
    ['refs/tags/latest', 'cl'],
    ['refs/tags/1.1', 'c11'],
    ['refs/heads/v9.0.0', 'branch'],
  ]);
  assert.deepEqual(selectSemverTag(refs, '^1.0.0'), { tag: 'v1.2.0', commit: 'c120' });
  assert.deepEqual(selectSemverTag(refs, '>=1.3.0-rc.0 <2.0.0'), { tag: '1.3.0-rc.1', commit: 'c130rc' });
  assert.deepEqual(selectSemverTag(refs, '*'), { tag: 'v2.0.0', commit: 'c200' });
  assert.equal(selectSemverTag(refs, '>=3'), undefined);
  // Equal versions: the first tag in byte order wins, whatever the listing order.
  const twins = new Map([
    ['refs/tags/v1.0.0', 'b'],
    ['refs/tags/1.0.0', 'a'],
  ]);
  assert.deepEqual(selectSemverTag(twins, '1.x'), { tag: '1.0.0', commit: 'a' });
});

test('revisions are written as Flux writes them', () => {
  assert.equal(formatRevision('main', SHA), `main@sha1:${SHA}`);
  assert.equal(formatRevision('v1.0.0', SHA), `v1.0.0@sha1:${SHA}`);
  assert.equal(formatRevision(undefined, SHA), `sha1:${SHA}`);
});
