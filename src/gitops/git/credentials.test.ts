import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authFromSecretData, configEnv, planCredentials, type GitAuth } from './credentials.ts';
import { GitError, scrub } from './errors.ts';
import { parseGitUrl } from './url.ts';

const SSH = parseGitUrl('ssh://git@127.0.0.1:2222/app');
const HTTPS = parseGitUrl('https://127.0.0.1/app');
const KEY =
  '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\nAAAAMwAAAAtzc2gtZWQyNTUxOQAAACBR9Kpe0mBFxY\n-----END OPENSSH PRIVATE KEY-----';
const KNOWN = '[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKSZYIX/bE8+vVKsBr9lpIgExSKpoiciFvYox+W+RM0E';

function plan(url = HTTPS, auth?: GitAuth) {
  return planCredentials(url, auth, '/private/dir', 30_000);
}

function refused(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof GitError);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

test('ssh needs known_hosts and identity, named by Secret and key; host keys are never trusted on first use', () => {
  refused(
    () => plan(SSH),
    'MISSING_CREDENTIALS',
    /^spec\.secretRef: an ssh URL needs a Secret with identity and known_hosts/,
  );
  refused(() => plan(SSH, {}), 'MISSING_CREDENTIALS', /^spec\.secretRef: /);
  refused(
    () => plan(SSH, { secretName: 'git-auth', identity: KEY }),
    'MISSING_CREDENTIALS',
    /^secret "git-auth": known_hosts is required for ssh URLs \(host keys are never trusted on first use\)/,
  );
  refused(
    () => plan(SSH, { secretName: 'git-auth', knownHosts: KNOWN }),
    'MISSING_CREDENTIALS',
    /^secret "git-auth": identity \(a private key\) is required/,
  );
});

test("ssh runs with strict host checking against the Secret's known_hosts only, files 0600, no secret on the command line", () => {
  const p = plan(SSH, { identity: KEY, knownHosts: KNOWN });
  assert.deepEqual(
    p.files.map((f) => [f.path, f.mode]),
    [
      ['/private/dir/identity', 0o600],
      ['/private/dir/known_hosts', 0o600],
    ],
  );
  assert.equal(p.files[0].content, `${KEY}\n`);
  const ssh = p.env.GIT_SSH_COMMAND;
  for (const option of [
    '-F /dev/null',
    "-i '/private/dir/identity'",
    'IdentitiesOnly=yes',
    "UserKnownHostsFile='/private/dir/known_hosts'",
    'GlobalKnownHostsFile=/dev/null',
    'StrictHostKeyChecking=yes',
    'BatchMode=yes',
    'ConnectTimeout=31',
  ]) {
    assert.ok(ssh.includes(option), option);
  }
  assert.ok(!ssh.includes('BEGIN') && !ssh.includes('AAAAC3'));
  assert.deepEqual(p.secrets, [KEY]);
});

test('every plan isolates git from the host configuration and disables prompts and credential helpers', () => {
  const p = plan(HTTPS);
  assert.equal(p.env.HOME, '/private/dir/home');
  assert.equal(p.env.XDG_CONFIG_HOME, '/private/dir/home/.config');
  assert.equal(p.env.GIT_CONFIG_NOSYSTEM, '1');
  assert.equal(p.env.GIT_TERMINAL_PROMPT, '0');
  assert.deepEqual(p.config, [['credential.helper', '']]);
  assert.equal(p.source, undefined);
  assert.deepEqual(
    configEnv([
      ['a.b', '1'],
      ['c.d', ''],
    ]),
    {
      GIT_CONFIG_COUNT: '2',
      GIT_CONFIG_KEY_0: 'a.b',
      GIT_CONFIG_VALUE_0: '1',
      GIT_CONFIG_KEY_1: 'c.d',
      GIT_CONFIG_VALUE_1: '',
    },
  );
});

test('basic auth goes through an askpass script reading the environment', () => {
  const p = plan(HTTPS, { secretName: 's', username: 'deploy', password: 'pa55word' });
  assert.deepEqual(
    p.files.map((f) => [f.path, f.mode]),
    [['/private/dir/askpass', 0o700]],
  );
  assert.ok(!p.files[0].content.includes('pa55word'));
  assert.equal(p.env.GIT_ASKPASS, '/private/dir/askpass');
  assert.equal(p.env.GATEHOUSE_GIT_PASSWORD, 'pa55word');
  assert.deepEqual(p.secrets, ['pa55word', Buffer.from('deploy:pa55word').toString('base64')]);
  assert.equal(p.source, 'secret "s"');
  // A username long enough to be a token is scrubbed too.
  assert.ok(
    plan(HTTPS, { username: 'ghp_0123456789abcdefghij', password: 'x-oauth-basic' }).secrets.includes(
      'ghp_0123456789abcdefghij',
    ),
  );
});

test('a bearer token becomes an extra header through GIT_CONFIG_*; ca.crt a CA file', () => {
  const p = plan(HTTPS, { bearerToken: 'tok-123', caCert: '-----BEGIN CERTIFICATE-----\n' });
  assert.deepEqual(p.config, [
    ['credential.helper', ''],
    ['http.extraHeader', 'Authorization: Bearer tok-123'],
    ['http.sslCAInfo', '/private/dir/ca.crt'],
  ]);
  assert.deepEqual(
    p.files.map((f) => [f.path, f.mode]),
    [['/private/dir/ca.crt', 0o600]],
  );
  assert.deepEqual(p.secrets, ['tok-123']);
});

test('inconsistent http credentials are refused naming the Secret and key', () => {
  refused(
    () => plan(HTTPS, { secretName: 's', username: 'u' }),
    'MISSING_CREDENTIALS',
    /^secret "s": password is required with username/,
  );
  refused(
    () => plan(HTTPS, { secretName: 's', password: 'p' }),
    'MISSING_CREDENTIALS',
    /^secret "s": username is required with password/,
  );
  refused(
    () => plan(HTTPS, { secretName: 's', username: 'u', password: 'p', bearerToken: 't' }),
    'INVALID_CREDENTIALS',
    /^secret "s": set username and password, or bearerToken, not both/,
  );
  refused(
    () => plan(HTTPS, { secretName: 's', bearerToken: 'tok\n' }),
    'INVALID_CREDENTIALS',
    /^secret "s": bearerToken contains a line break/,
  );
});

test('file URLs ignore credentials', () => {
  const p = plan(parseGitUrl('file:///srv/app'), { username: 'u', password: 'p' });
  assert.deepEqual(p.files, []);
  assert.deepEqual(p.secrets, []);
});

test("authFromSecretData maps Flux's Secret keys and ignores the rest", () => {
  assert.deepEqual(
    authFromSecretData(
      { identity: 'k', known_hosts: 'h', 'ca.crt': 'c', 'identity.pub': 'p', password: '' },
      'git-auth',
    ),
    {
      secretName: 'git-auth',
      identity: 'k',
      knownHosts: 'h',
      caCert: 'c',
    },
  );
});

test('scrub removes every secret, longest first, and private keys line by line', () => {
  assert.equal(scrub('token abcdef and abc', ['abc', 'abcdef']), 'token *** and ***');
  const leaked = `first line of the key: ${KEY.split('\n')[1]}`;
  assert.equal(scrub(leaked, [KEY]), 'first line of the key: ***');
  assert.equal(scrub('nothing secret', ['', 'zzz']), 'nothing secret');
});
