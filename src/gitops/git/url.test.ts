import { test } from 'node:test';
import assert from 'node:assert/strict';
import { knownHostsName, parseGitUrl, redactUrl } from './url.ts';

test('https and http URLs pass through as written', () => {
  assert.deepEqual(parseGitUrl('https://github.com/org/repo.git'), {
    transport: 'https',
    url: 'https://github.com/org/repo.git',
    host: 'github.com',
    port: undefined,
  });
  assert.deepEqual(parseGitUrl('http://127.0.0.1:8080/app'), {
    transport: 'http',
    url: 'http://127.0.0.1:8080/app',
    host: '127.0.0.1',
    port: undefined,
  });
  assert.equal(parseGitUrl('https://user@host/repo').url, 'https://user@host/repo');
});

test('ssh URLs get the user git when they name none, and port 22 unless given', () => {
  assert.deepEqual(parseGitUrl('ssh://git@example.com:2222/org/repo.git'), {
    transport: 'ssh',
    url: 'ssh://git@example.com:2222/org/repo.git',
    host: 'example.com',
    port: 2222,
  });
  assert.deepEqual(parseGitUrl('ssh://example.com/org/repo'), {
    transport: 'ssh',
    url: 'ssh://git@example.com/org/repo',
    host: 'example.com',
    port: 22,
  });
  assert.equal(parseGitUrl('ssh://git@[::1]:2222/repo').host, '::1');
});

test('scp-like addresses are rewritten to ssh:// with the path from the root', () => {
  assert.deepEqual(parseGitUrl('git@github.com:org/repo.git'), {
    transport: 'ssh',
    url: 'ssh://git@github.com/org/repo.git',
    host: 'github.com',
    port: 22,
  });
  assert.equal(parseGitUrl('deploy@host:/srv/git/repo').url, 'ssh://deploy@host/srv/git/repo');
  assert.equal(parseGitUrl('host:repo').url, 'ssh://git@host/repo');
});

test('file URLs name a local path', () => {
  assert.deepEqual(parseGitUrl('file:///srv/repo'), {
    transport: 'file',
    url: 'file:///srv/repo',
    host: '',
    port: undefined,
  });
  assert.throws(() => parseGitUrl('file://otherhost/srv/repo'), {
    code: 'INVALID_URL',
    message: /^spec\.url "file:\/\/otherhost\/srv\/repo": a file URL names a local path/,
  });
});

test('everything else is refused with INVALID_URL naming spec.url', () => {
  for (const bad of [
    '',
    'git://example.com/repo',
    'ext::sh -c touch% /tmp/pwned',
    'ext::sh',
    'fd::0',
    '/srv/repo',
    'relative/path',
    'ftp://host/repo',
    'https://',
    'ssh://host/',
    'ssh://-oProxyCommand=x/repo',
    'ssh://-x@host/repo',
    'https://host/repo with space',
  ]) {
    assert.throws(
      () => parseGitUrl(bad),
      (err: Error & { code?: string }) => err.code === 'INVALID_URL' && err.message.startsWith('spec.url '),
      bad,
    );
  }
});

test('a password in the URL is refused and never repeated', () => {
  assert.throws(
    () => parseGitUrl('https://user:hunter2secret@host/repo'),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, 'INVALID_URL');
      assert.match(err.message, /must not contain a password/);
      assert.doesNotMatch(err.message, /hunter2secret/);
      return true;
    },
  );
  assert.equal(redactUrl('https://user:pw@host/repo'), 'https://user:***@host/repo');
  assert.equal(redactUrl('https://host/repo'), 'https://host/repo');
});

test('known_hosts names a host off port 22 as [host]:port', () => {
  assert.equal(knownHostsName('example.com', 22), 'example.com');
  assert.equal(knownHostsName('127.0.0.1', 2222), '[127.0.0.1]:2222');
});
