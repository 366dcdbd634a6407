// Sessions run the real git. The failing commands here are git aliases that print what a
// careless tool might print — the secrets themselves — to check that no GitError carries them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import type { GitAuth } from './credentials.ts';
import { GitError } from './errors.ts';
import { withGitSession } from './session.ts';
import { parseGitUrl } from './url.ts';

const KEY =
  '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\nAAAAMwAAAAtzc2gtZWQyNTUxOQAAACBR9Kpe0mBFxY\n-----END OPENSSH PRIVATE KEY-----\n';
const HTTPS = parseGitUrl('https://127.0.0.1/app');
const SSH = parseGitUrl('ssh://git@127.0.0.1:2222/app');

/** Runs `git -c alias.x=!<shell> x` in a session and resolves with the GitError it fails with. */
async function failWith(url: typeof HTTPS, auth: GitAuth, shell: string): Promise<GitError> {
  return withGitSession(url, auth, 20_000, async (session) => {
    try {
      await session.git(['-c', `alias.x=!${shell}; exit 1`, 'x']);
    } catch (err) {
      assert.ok(err instanceof GitError);
      return err;
    }
    assert.fail('the command succeeded');
  });
}

test('a password, the basic auth header value and a long username printed by git are scrubbed', async () => {
  const username = 'ghp_ThisUsernameIsAToken123';
  const password = 'pa55-word-xyz';
  const basic = Buffer.from(`${username}:${password}`).toString('base64');
  const err = await failWith(
    HTTPS,
    { secretName: 's', username, password },
    `echo "u=$GATEHOUSE_GIT_USERNAME p=$GATEHOUSE_GIT_PASSWORD b=${basic}" >&2`,
  );
  assert.equal(err.code, 'GIT_FAILED');
  assert.match(err.message, /u=\*\*\* p=\*\*\* b=\*\*\*/);
  for (const secret of [username, password, basic]) assert.ok(!err.message.includes(secret), secret);
});

test('a bearer token printed by git is scrubbed', async () => {
  const err = await failWith(HTTPS, { bearerToken: 'tok-0123456789' }, 'git config --get http.extraHeader >&2');
  assert.match(err.message, /Authorization: Bearer \*\*\*/);
  assert.ok(!err.message.includes('tok-0123456789'));
});

test('a private key printed by a tool is scrubbed, whole or in lines', async () => {
  const err = await failWith(
    SSH,
    { identity: KEY, knownHosts: '[127.0.0.1]:2222 ssh-ed25519 AAAA' },
    'echo "line: $(sed -n 2p "$HOME/../identity")" >&2; cat "$HOME/../identity" >&2',
  );
  // Each secret piece becomes ***, in place: the rest of what was printed is kept.
  assert.equal(err.message, 'git -c: failed: line: ***; ***');
  for (const line of KEY.trim().split('\n').slice(1, -1)) assert.ok(!err.message.includes(line), line);
});

test('credential files live in a private directory, mode 0600, removed when the session ends', async () => {
  let dir = '';
  await withGitSession(SSH, { identity: KEY, knownHosts: 'x' }, 20_000, async (session) => {
    const out = await session.git([
      '-c',
      'alias.x=!echo "$HOME"; stat -c %a "$HOME/.." "$HOME/../identity" "$HOME/../known_hosts"',
      'x',
    ]);
    const [home, ...modes] = out.trim().split('\n');
    dir = home.replace(/\/home$/, '');
    assert.deepEqual(modes, ['700', '600', '600']);
    // The host's global configuration is not read: the private HOME has none.
    assert.equal(await session.succeeds(['config', '--global', '--list']), false);
  });
  await assert.rejects(stat(dir), { code: 'ENOENT' });
});

test('a command still running at the deadline is killed: TIMEOUT', { timeout: 30_000 }, async () => {
  await withGitSession(HTTPS, {}, 500, async (session) => {
    await assert.rejects(session.git(['-c', 'alias.x=!sleep 60', 'x']), {
      code: 'TIMEOUT',
      message: 'git -c: did not finish within 500 ms (spec.timeout)',
    });
  });
});
