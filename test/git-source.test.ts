// The Git layer against real servers on 127.0.0.1: git http-backend over HTTP and HTTPS,
// OpenSSH's sshd running git upload-pack, and file:// — through the system git and ssh.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  authFromSecretData,
  checkout,
  digestDirectory,
  GitError,
  type CheckoutOptions,
  type GitAuth,
  type GitErrorCode,
} from '../src/gitops/git/index.ts';
import { ensureSelfSignedCert } from '../src/apiserver/tls.ts';
import { closedPortUrl } from './support/gateway.ts';
import {
  commit,
  fileUrl,
  makeClientKey,
  makeRepo,
  startHttpGitServer,
  startSilentServer,
  startSshGitServer,
  switchBranch,
  tag,
  type HttpGitServer,
  type SshGitServer,
} from './support/git-servers.ts';

const PASSWORD = 'correct-horse-battery-staple';
const TOKEN = 'bearer-0123456789abcdef';
const clientKey = makeClientKey();
const strangerKey = makeClientKey();
/** Every value no error message may contain. */
const SECRETS = [
  PASSWORD,
  TOKEN,
  'wrong-password-42',
  'wrong-token-42',
  ...[clientKey, strangerKey].flatMap((k) => k.privateKey.trim().split('\n').slice(1, -1)),
];

let root: string;
let repos: string;
let ssh: SshGitServer;
let basic: HttpGitServer;
let bearer: HttpGitServer;
let https: HttpGitServer;
let oldHttp: HttpGitServer;
let work = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'gatehouse-git-source-'));
  repos = join(root, 'repos');
  ssh = await startSshGitServer({ repoRoot: repos, authorizedKeys: [clientKey.publicKey] });
  basic = await startHttpGitServer({ repoRoot: repos, auth: { username: 'deploy', password: PASSWORD } });
  bearer = await startHttpGitServer({ repoRoot: repos, auth: { bearerToken: TOKEN } });
  https = await startHttpGitServer({ repoRoot: repos, tls: true });
  oldHttp = await startHttpGitServer({ repoRoot: repos, protocolV2: false });
});

after(async () => {
  for (const server of [ssh, basic, bearer, https, oldHttp]) await server?.close();
  await rm(root, { recursive: true, force: true });
});

/** `text` as a regular expression source that matches it literally. */
const literally = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function sshAuth(server: SshGitServer = ssh, identity = clientKey.privateKey): GitAuth {
  return authFromSecretData({ identity, known_hosts: server.knownHostsLine }, 'git-auth');
}

function run(options: Omit<CheckoutOptions, 'workDir' | 'timeoutMs'> & { workDir?: string; timeoutMs?: number }) {
  return checkout({ timeoutMs: 30_000, workDir: join(root, 'work', String(work++)), ...options });
}

/** Asserts the checkout fails with `code` and a message matching `message`, free of secrets. */
async function failsWith(pending: Promise<unknown>, code: GitErrorCode, message: RegExp): Promise<GitError> {
  try {
    await pending;
  } catch (err) {
    assert.ok(err instanceof GitError, String(err));
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    for (const secret of SECRETS) assert.ok(!err.message.includes(secret), `message carries a secret: ${err.message}`);
    return err;
  }
  return assert.fail(`expected ${code}`);
}

async function artifacts(workDir: string): Promise<string[]> {
  return (await readdir(join(workDir, 'artifacts'))).sort();
}

describe('file://', () => {
  test('the default branch becomes an artifact with exactly the committed files', async () => {
    const repo = join(repos, 'plain');
    await makeRepo(repo, {
      'apis/orders.yaml': 'kind: ApiDefinition\n',
      'notes.txt': 'line one\nline two\n',
      '.gitattributes': 'notes.txt text eol=crlf\nhidden.txt export-ignore\n',
      'hidden.txt': 'still here\n',
    });
    await symlink('/etc/hostname', join(repo, 'escape'));
    await commit(repo, { 'bin/run.sh': '#!/bin/sh\n' }, 'script and link');
    await chmod(join(repo, 'bin/run.sh'), 0o755);
    const sha = await commit(repo, {}, 'executable');

    const workDir = join(root, 'work', 'plain');
    const result = await checkout({ url: fileUrl(repo), timeoutMs: 30_000, workDir });
    assert.deepEqual(result, {
      revision: `main@sha1:${sha}`,
      commit: sha,
      digest: await digestDirectory(result.path),
      path: join(workDir, 'artifacts', sha),
      changed: true,
      // Read as the commit is fetched: what an ApiDefinition's history names for a Sync's write.
      commitInfo: { author: 'Gatehouse Test <test@gatehouse.invalid>', subject: 'executable' },
    });
    assert.equal(await readFile(join(result.path, 'apis/orders.yaml'), 'utf8'), 'kind: ApiDefinition\n');
    // Committed bytes: no eol conversion, no export-ignore.
    assert.equal(await readFile(join(result.path, 'notes.txt'), 'utf8'), 'line one\nline two\n');
    assert.equal(await readFile(join(result.path, 'hidden.txt'), 'utf8'), 'still here\n');
    assert.ok((await stat(join(result.path, 'bin/run.sh'))).mode & 0o100);
    // Symbolic links are left out: they could point outside the artifact.
    await assert.rejects(stat(join(result.path, 'escape')), { code: 'ENOENT' });
    assert.deepEqual(await readdir(join(workDir)), ['artifacts']);

    // The digest depends on the tree only: another data directory gets the same.
    assert.equal((await run({ url: fileUrl(repo) })).digest, result.digest);
  });

  test('checkouts of one data directory wait for each other', async () => {
    // One repository under two names, so the server's log tells the two checkouts' requests apart.
    await makeRepo(join(repos, 'concurrent'), { 'a.yaml': 'a\n' });
    await symlink(join(repos, 'concurrent'), join(repos, 'concurrent-too'));
    const workDir = join(root, 'work', 'concurrent');
    const [one, two] = await Promise.all(
      ['concurrent', 'concurrent-too'].map((repo) => checkout({ url: oldHttp.url(repo), timeoutMs: 30_000, workDir })),
    );
    assert.equal(one.commit, two.commit);
    assert.equal(one.digest, two.digest);
    // Serialised: every request of one checkout ended before the other's first started.
    const log = oldHttp.requestLog.filter((entry) => /^[+-]concurrent(-too)?$/.test(entry));
    const firstRepo = log[0].slice(1);
    const switched = log.findIndex((entry) => entry.slice(1) !== firstRepo);
    assert.ok(switched > 0, `both checkouts reached the server: ${log.join(' ')}`);
    const overlapped = log.slice(switched).some((entry) => entry.slice(1) === firstRepo);
    assert.ok(!overlapped, `the checkouts overlapped: ${log.join(' ')}`);
  });
});

describe('http and https', () => {
  before(() => makeRepo(join(repos, 'web'), { 'api.yaml': 'web\n' }));

  test('basic auth with username and password', async () => {
    const result = await run({
      url: basic.url('web'),
      auth: { secretName: 'git-auth', username: 'deploy', password: PASSWORD },
    });
    assert.equal(await readFile(join(result.path, 'api.yaml'), 'utf8'), 'web\n');
  });

  test('a wrong password is AUTH_FAILED naming the Secret; no Secret at all asks for spec.secretRef', async () => {
    await failsWith(
      run({
        url: basic.url('web'),
        auth: { secretName: 'git-auth', username: 'deploy', password: 'wrong-password-42' },
      }),
      'AUTH_FAILED',
      /authentication failed with the credentials of secret "git-auth"/,
    );
    await failsWith(run({ url: basic.url('web') }), 'AUTH_FAILED', /authentication required: set spec\.secretRef/);
  });

  test('a bearer token', async () => {
    const result = await run({ url: bearer.url('web'), auth: { bearerToken: TOKEN } });
    assert.equal(await readFile(join(result.path, 'api.yaml'), 'utf8'), 'web\n');
    await failsWith(
      run({ url: bearer.url('web'), auth: { bearerToken: 'wrong-token-42' } }),
      'AUTH_FAILED',
      /^git ls-remote http:\/\/127\.0\.0\.1:\d+\/web: authentication failed/,
    );
  });

  test('https verifies the server against ca.crt; without it the certificate is refused', async () => {
    const result = await run({ url: https.url('web'), auth: authFromSecretData({ 'ca.crt': https.ca! }) });
    assert.equal(await readFile(join(result.path, 'api.yaml'), 'utf8'), 'web\n');
    await failsWith(
      run({ url: https.url('web') }),
      'TLS_FAILED',
      /certificate does not verify \(for a private CA, put its certificate in ca\.crt/,
    );
  });

  test('a ca.crt that does not verify the server is named as such, in the same words on every attempt', async () => {
    const other = await ensureSelfSignedCert(join(root, 'other-ca'), ['127.0.0.1']);
    const attempt = () =>
      failsWith(
        run({ url: https.url('web'), auth: authFromSecretData({ 'ca.crt': other.cert }, 'git-auth') }),
        'TLS_FAILED',
        /does not verify against ca\.crt of secret "git-auth"/,
      );
    const [first, second] = [await attempt(), await attempt()];
    assert.doesNotMatch(first.message, /put its certificate in ca\.crt|gatehouse-git-/);
    assert.equal(second.message, first.message);
  });

  test('a repository the server does not have is REPOSITORY_NOT_FOUND', async () => {
    await failsWith(run({ url: oldHttp.url('missing') }), 'REPOSITORY_NOT_FOUND', /repository not found/);
  });
});

describe('ssh', () => {
  test('identity and known_hosts; a poll without change fetches nothing; a moved branch makes a new artifact', async () => {
    const repo = join(repos, 'ssh-app');
    await makeRepo(repo, { 'api.yaml': 'v: 1\n' });
    const workDir = join(root, 'work', 'ssh-app');
    const first = await checkout({ url: ssh.url('ssh-app'), auth: sshAuth(), timeoutMs: 30_000, workDir });
    assert.equal(await readFile(join(first.path, 'api.yaml'), 'utf8'), 'v: 1\n');

    // The poll asks the server (an upload-pack advertisement) but wants no objects.
    const { uploadPackCount, fetchCount } = ssh;
    const poll = await checkout({
      url: ssh.url('ssh-app'),
      auth: sshAuth(),
      timeoutMs: 30_000,
      workDir,
      lastRevision: first.revision,
    });
    // Nothing was fetched, so the commit was not read: its author and subject are the first checkout's.
    const { commitInfo, ...unfetched } = first;
    assert.equal(commitInfo?.subject, 'initial');
    assert.deepEqual(poll, { ...unfetched, changed: false });
    assert.equal(ssh.uploadPackCount, uploadPackCount + 1);
    assert.equal(ssh.fetchCount, fetchCount);

    const sha2 = await commit(repo, { 'api.yaml': 'v: 2\n' }, 'two');
    const second = await checkout({
      url: ssh.url('ssh-app'),
      auth: sshAuth(),
      timeoutMs: 30_000,
      workDir,
      lastRevision: poll.revision,
    });
    assert.equal(second.changed, true);
    assert.equal(second.revision, `main@sha1:${sha2}`);
    assert.notEqual(second.digest, first.digest);
    assert.equal(await readFile(join(second.path, 'api.yaml'), 'utf8'), 'v: 2\n');
    assert.equal(ssh.fetchCount, fetchCount + 1);
    // The previous artifact stays for readers that still use it.
    assert.equal(await readFile(join(first.path, 'api.yaml'), 'utf8'), 'v: 1\n');

    const sha3 = await commit(repo, { 'api.yaml': 'v: 3\n' }, 'three');
    await checkout({
      url: ssh.url('ssh-app'),
      auth: sshAuth(),
      timeoutMs: 30_000,
      workDir,
      lastRevision: second.revision,
    });
    assert.deepEqual(await artifacts(workDir), [sha2, sha3].sort());
  });

  test('a key the server does not know is AUTH_FAILED', async () => {
    await makeRepo(join(repos, 'ssh-auth'), { 'a.yaml': 'a\n' });
    await failsWith(
      run({ url: ssh.url('ssh-auth'), auth: sshAuth(ssh, strangerKey.privateKey) }),
      'AUTH_FAILED',
      /authentication failed with the credentials of secret "git-auth": .*Permission denied \(publickey\)/,
    );
  });

  test('a changed host key is HOST_KEY_MISMATCH naming the host and the fingerprint offered', async () => {
    const server = await startSshGitServer({ repoRoot: repos, authorizedKeys: [clientKey.publicKey] });
    try {
      await makeRepo(join(repos, 'rekeyed'), { 'a.yaml': 'a\n' });
      const auth = sshAuth(server);
      const workDir = join(root, 'work', 'rekeyed');
      const good = await checkout({ url: server.url('rekeyed'), auth, timeoutMs: 30_000, workDir });
      const oldFingerprint = server.fingerprint;
      await server.restart();
      assert.notEqual(server.fingerprint, oldFingerprint);
      const err = await failsWith(
        checkout({ url: server.url('rekeyed'), auth, timeoutMs: 30_000, workDir, lastRevision: good.revision }),
        'HOST_KEY_MISMATCH',
        new RegExp(
          `the host key of \\[127\\.0\\.0\\.1\\]:${server.port} does not match known_hosts of secret "git-auth": the server offered ${server.fingerprint.replace(/[+/]/g, '\\$&')}`,
        ),
      );
      assert.equal(err.fingerprint, server.fingerprint);
      // The failure leaves the artifact that was there.
      assert.deepEqual(await artifacts(workDir), [good.commit]);
      assert.equal(await digestDirectory(good.path), good.digest);
    } finally {
      await server.close();
    }
  });

  test('known_hosts without the host is HOST_KEY_UNKNOWN naming the host and the fingerprint offered', async () => {
    await makeRepo(join(repos, 'unknown-host'), { 'a.yaml': 'a\n' });
    const otherHost = ssh.knownHostsLine.replace('[127.0.0.1]', '[127.0.0.2]');
    const err = await failsWith(
      run({
        url: ssh.url('unknown-host'),
        auth: authFromSecretData({ identity: clientKey.privateKey, known_hosts: otherHost }, 'git-auth'),
      }),
      'HOST_KEY_UNKNOWN',
      new RegExp(
        `known_hosts of secret "git-auth" has no key for \\[127\\.0\\.0\\.1\\]:${ssh.port}; refusing to connect: the server offers ${ssh.fingerprint.replace(/[+/]/g, '\\$&')}`,
      ),
    );
    assert.equal(err.fingerprint, ssh.fingerprint);
  });

  test('no known_hosts is refused before connecting', async () => {
    const before = ssh.uploadPackCount;
    await failsWith(
      run({ url: ssh.url('ssh-app'), auth: authFromSecretData({ identity: clientKey.privateKey }, 'git-auth') }),
      'MISSING_CREDENTIALS',
      /^secret "git-auth": known_hosts is required for ssh URLs/,
    );
    await failsWith(
      run({ url: ssh.url('ssh-app') }),
      'MISSING_CREDENTIALS',
      /^spec\.secretRef: an ssh URL needs a Secret with identity and known_hosts/,
    );
    assert.equal(ssh.uploadPackCount, before);
  });
});

describe('refs', () => {
  const shas: Record<string, string> = {};
  before(async () => {
    const repo = join(repos, 'versions');
    shas.v100 = await makeRepo(repo, { 'version.txt': '1.0.0\n' });
    await tag(repo, 'v1.0.0', { message: 'release 1.0.0' });
    shas.v120 = await commit(repo, { 'version.txt': '1.2.0\n' }, '1.2.0');
    await tag(repo, 'v1.2.0');
    shas.v200 = await commit(repo, { 'version.txt': '2.0.0\n' }, '2.0.0');
    await tag(repo, 'v2.0.0', { message: 'release 2.0.0' });
    shas.main = await commit(repo, { 'version.txt': 'next\n' }, 'next');
    await switchBranch(repo, 'release');
    shas.release = await commit(repo, { 'version.txt': 'release branch\n' }, 'release');
    await switchBranch(repo, 'main');
  });

  const content = async (path: string) => readFile(join(path, 'version.txt'), 'utf8');

  test('a branch', async () => {
    const result = await run({ url: ssh.url('versions'), auth: sshAuth(), ref: { branch: 'release' } });
    assert.equal(result.revision, `release@sha1:${shas.release}`);
    assert.equal(await content(result.path), 'release branch\n');
  });

  test('an annotated tag resolves to its commit', async () => {
    const result = await run({ url: ssh.url('versions'), auth: sshAuth(), ref: { tag: 'v1.0.0' } });
    assert.equal(result.revision, `v1.0.0@sha1:${shas.v100}`);
    assert.equal(await content(result.path), '1.0.0\n');
  });

  test('a SemVer range takes the highest matching tag', async () => {
    const result = await run({
      url: basic.url('versions'),
      auth: { username: 'deploy', password: PASSWORD },
      ref: { semver: '^1.0.0' },
    });
    assert.equal(result.revision, `v1.2.0@sha1:${shas.v120}`);
    assert.equal(await content(result.path), '1.2.0\n');
    assert.equal(
      (
        await run({
          url: fileUrl(join(repos, 'versions')),
          ref: { semver: '>=1.0.0', tag: 'v1.0.0', branch: 'release' },
        })
      ).revision,
      `v2.0.0@sha1:${shas.v200}`,
    );
  });

  test('a pinned commit; polling it again asks nothing of the server', async () => {
    const workDir = join(root, 'work', 'pinned');
    const result = await checkout({
      url: ssh.url('versions'),
      auth: sshAuth(),
      ref: { commit: shas.v120 },
      timeoutMs: 30_000,
      workDir,
    });
    assert.equal(result.revision, `sha1:${shas.v120}`);
    assert.equal(await content(result.path), '1.2.0\n');
    const { uploadPackCount } = ssh;
    const poll = await checkout({
      url: ssh.url('versions'),
      auth: sshAuth(),
      ref: { commit: shas.v120 },
      timeoutMs: 30_000,
      workDir,
      lastRevision: result.revision,
    });
    const { commitInfo: _read, ...unfetched } = result;
    assert.deepEqual(poll, { ...unfetched, changed: false });
    assert.equal(ssh.uploadPackCount, uploadPackCount);
  });

  test('a pinned commit from a server that refuses unadvertised objects (no protocol v2)', async () => {
    const fetches = oldHttp.fetchCount;
    const result = await run({ url: oldHttp.url('versions'), ref: { commit: shas.v200 } });
    assert.equal(result.revision, `sha1:${shas.v200}`);
    assert.equal(await content(result.path), '2.0.0\n');
    // A v0 client does not even send a want the server would refuse: the objects come
    // from the one full fetch of every branch and tag.
    assert.equal(oldHttp.fetchCount, fetches + 1);
  });

  test('a pinned commit with a branch must be on that branch', async () => {
    const result = await run({ url: ssh.url('versions'), auth: sshAuth(), ref: { branch: 'main', commit: shas.v100 } });
    assert.equal(result.revision, `main@sha1:${shas.v100}`);
    await failsWith(
      run({ url: ssh.url('versions'), auth: sshAuth(), ref: { branch: 'main', commit: shas.release } }),
      'REF_NOT_FOUND',
      new RegExp(`commit ${shas.release} on branch "main" not found`),
    );
  });

  test('refs the remote does not have are REF_NOT_FOUND naming them', async () => {
    await failsWith(
      run({ url: ssh.url('versions'), auth: sshAuth(), ref: { branch: 'nope' } }),
      'REF_NOT_FOUND',
      new RegExp(`^git ls-remote ${literally(ssh.url('versions'))}: branch "nope" not found$`),
    );
    await failsWith(
      run({ url: ssh.url('versions'), auth: sshAuth(), ref: { tag: 'v9' } }),
      'REF_NOT_FOUND',
      /tag "v9" not found/,
    );
    await failsWith(
      run({ url: ssh.url('versions'), auth: sshAuth(), ref: { semver: '>=3.0.0' } }),
      'REF_NOT_FOUND',
      /a tag matching SemVer range ">=3\.0\.0" not found/,
    );
    await failsWith(
      run({ url: ssh.url('versions'), auth: sshAuth(), ref: { commit: 'f'.repeat(40) } }),
      'REF_NOT_FOUND',
      /commit f{40} not found/,
    );
    await failsWith(
      run({ url: ssh.url('versions'), auth: sshAuth(), ref: { commit: 'abc' } }),
      'INVALID_REF',
      /^spec\.ref\.commit "abc"/,
    );
  });
});

describe('unreachable servers', () => {
  test('a closed port is HOST_UNREACHABLE', async () => {
    const port = new URL(await closedPortUrl()).port;
    await failsWith(run({ url: `http://127.0.0.1:${port}/app` }), 'HOST_UNREACHABLE', /cannot reach 127\.0\.0\.1/);
    await failsWith(
      run({ url: `ssh://git@127.0.0.1:${port}/app`, auth: sshAuth() }),
      'HOST_UNREACHABLE',
      new RegExp(
        `cannot reach \\[127\\.0\\.0\\.1\\]:${port}: ssh: connect to host 127\\.0\\.0\\.1 port ${port}: Connection refused`,
      ),
    );
  });

  test('a server that never answers is TIMEOUT at spec.timeout', async () => {
    const silent = await startSilentServer();
    try {
      await failsWith(
        run({ url: `http://127.0.0.1:${silent.port}/app`, timeoutMs: 1_000 }),
        'TIMEOUT',
        /did not finish within 1000 ms \(spec\.timeout\)/,
      );
      await failsWith(
        run({ url: `ssh://git@127.0.0.1:${silent.port}/app`, auth: sshAuth(), timeoutMs: 1_000 }),
        'TIMEOUT',
        /did not finish within 1000 ms/,
      );
    } finally {
      await silent.close();
    }
  });

  test('a failed poll keeps the previous artifact', async () => {
    const server = await startHttpGitServer({ repoRoot: repos });
    const workDir = join(root, 'work', 'kept');
    await makeRepo(join(repos, 'kept'), { 'a.yaml': 'a\n' });
    const good = await checkout({ url: server.url('kept'), timeoutMs: 30_000, workDir });
    await commit(join(repos, 'kept'), { 'a.yaml': 'b\n' }, 'moved');
    await server.close();
    await failsWith(
      checkout({ url: server.url('kept'), timeoutMs: 30_000, workDir, lastRevision: good.revision }),
      'HOST_UNREACHABLE',
      /cannot reach/,
    );
    assert.deepEqual(await artifacts(workDir), [good.commit]);
    assert.equal(await digestDirectory(good.path), good.digest);
  });
});

test('spec.url outside the supported forms is INVALID_URL naming the field', async () => {
  await failsWith(
    run({ url: 'git://example.com/repo' }),
    'INVALID_URL',
    /^spec\.url "git:\/\/example\.com\/repo": unsupported scheme "git"/,
  );
  await failsWith(
    run({ url: `https://deploy:${PASSWORD}@example.com/repo` }),
    'INVALID_URL',
    /must not contain a password/,
  );
});
