// GitRepository spec.verify end to end: keys made here with gpg (batch, a private GNUPGHOME,
// no passphrase) and ssh-keygen, commits and tags signed with them by the system git, served
// by a real HTTP Git server, reconciled by the controller against a real API server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import pino from 'pino';
import type { KindDefinition, KubeObject } from '../src/api/kind.ts';
import { secretKind } from '../src/api/core/secret/index.ts';
import { apiDefinitionKind, type ApiDefinition } from '../src/api/kinds/api-definition/index.ts';
import {
  gitRepositoryKind,
  type ArtifactSignature,
  type GitRepository,
} from '../src/api/kinds/git-repository/index.ts';
import { syncKind, type Sync } from '../src/api/kinds/sync/index.ts';
import { findCondition } from '../src/api/status.ts';
import { isStatusError } from '../src/client/errors.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { KubeClient } from '../src/client/rest.ts';
import { startController, type GitOpsController } from '../src/gitops/manager.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { eventually } from './support/eventually.ts';
import { commit, gitIn, makeRepo, startHttpGitServer, type HttpGitServer } from './support/git-servers.ts';
import { apiManifest } from './support/manifests.ts';

const exec = promisify(execFile);
const UPSTREAM = 'http://127.0.0.1:9';

describe('verified commits (GitRepository spec.verify)', () => {
  let t: TestApiServer;
  let client: KubeClient;
  let controller: GitOpsController;
  let git: HttpGitServer;
  let dir: string;
  let gnupgHome: string;
  const keys = { alice: '', eve: '', aliceSsh: '', eveSsh: '' };

  const gpg = (args: string[]) =>
    exec('gpg', ['--batch', '--no-tty', '--quiet', ...args], { env: { ...process.env, GNUPGHOME: gnupgHome } });
  async function gpgKey(uid: string): Promise<string> {
    await gpg(['--passphrase', '', '--quick-gen-key', uid, 'ed25519', 'sign', 'never']);
    const { stdout } = await gpg(['--with-colons', '--list-keys', uid]);
    return /^fpr:+([0-9A-F]{40}):/m.exec(stdout)![1];
  }
  async function sshKey(name: string): Promise<string> {
    await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', join(dir, name)]);
    const { stdout } = await exec('ssh-keygen', ['-l', '-f', join(dir, `${name}.pub`)]);
    return stdout.split(' ')[1];
  }
  /** Runs git in `repo` signing with `signer`: an OpenPGP fingerprint, or the name of an SSH key file. */
  const signing = (repo: string, signer: string, args: string[]) => {
    const ssh = !/^[0-9A-F]{40}$/.test(signer);
    const config = [
      '-c',
      `user.signingkey=${ssh ? join(dir, signer) : signer}`,
      '-c',
      `gpg.format=${ssh ? 'ssh' : 'openpgp'}`,
    ];
    return exec('git', ['-C', repo, ...config, ...args], {
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        GNUPGHOME: gnupgHome,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_COMMITTER_NAME: 'Gatehouse Test',
        GIT_COMMITTER_EMAIL: 'test@gatehouse.invalid',
      },
    });
  };
  /** Commits `files` signed by `signer` (unsigned without one); resolves with the SHA. */
  async function commitAs(repo: string, files: Record<string, string>, signer?: string): Promise<string> {
    const sha = await commit(repo, files, `change ${Object.keys(files).join(', ')}`);
    if (!signer) return sha;
    await signing(repo, signer, ['commit', '--quiet', '--amend', '--no-edit', '--gpg-sign']);
    return gitIn(repo, ['rev-parse', 'HEAD']);
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-verify-'));
    gnupgHome = join(dir, 'gnupg');
    await mkdir(gnupgHome, { mode: 0o700 });
    keys.alice = await gpgKey('Alice <alice@example.com>');
    keys.eve = await gpgKey('Eve <eve@example.com>');
    keys.aliceSsh = await sshKey('alice_ssh');
    keys.eveSsh = await sshKey('eve_ssh');
    t = await startTestApiServer();
    client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    git = await startHttpGitServer({ repoRoot: join(dir, 'repos') });
    // Reconciles come from the test (reconcileSync with its source), not from retries or intervals.
    controller = await startController({
      kubeconfig: t.kubeconfigPath,
      dataDir: join(dir, 'controller'),
      logger: pino({ level: 'silent' }),
      backoff: { baseDelayMs: 600_000 },
    });
    const { stdout: armored } = await gpg(['--armor', '--export', keys.alice]);
    const stringData = { 'alice.asc': armored, 'alice.pub': await readFile(join(dir, 'alice_ssh.pub'), 'utf8') };
    await create(secretKind, 'trusted', { type: 'Opaque', stringData });
  });
  after(async () => {
    await controller?.close();
    await git?.close();
    await client?.close();
    await t?.stop();
    await exec('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: gnupgHome } }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  function create(kind: KindDefinition, name: string, body: Record<string, unknown>) {
    const apiVersion = kind.group ? `${kind.group}/${kind.version}` : kind.version;
    const metadata = { name, namespace: 'default' };
    return client.create(kind, { apiVersion, kind: kind.kind, metadata, ...body } as KubeObject);
  }
  async function sourceAndSync(name: string, spec: Record<string, unknown>): Promise<void> {
    await create(gitRepositoryKind, name, { spec: { url: git.url(name), interval: '10m', ...spec } });
    await create(syncKind, name, {
      spec: { sourceRef: { kind: 'GitRepository', name }, path: './apis', interval: '10m', prune: true },
    });
  }
  /** Reconciles the Sync and its source now; a refused source fails the reconcile, which is expected here. */
  const reconcile = (name: string) => controller.reconcileSync('default', name, true).catch(() => undefined);
  const source = (name: string) => client.get<GitRepository>(gitRepositoryKind, name, 'default');
  const sync = (name: string) => client.get<Sync>(syncKind, name, 'default');
  const listenPath = async (name: string) =>
    (await client.get<ApiDefinition>(apiDefinitionKind, name, 'default')).spec.listenPath;

  /** Waits until `name` serves `revision` with `path`, the artifact and the Sync's history showing `signature`. */
  async function applied(name: string, revision: string, path: string, signature: ArtifactSignature): Promise<void> {
    await eventually(
      async () => {
        await reconcile(name);
        const repo = await source(name);
        const ready = findCondition(repo.status, 'Ready');
        assert.equal(ready?.status, 'True', ready?.message);
        assert.equal(repo.status?.artifact?.revision, revision);
        assert.deepEqual(repo.status?.artifact?.signature, signature);
        const s = await sync(name);
        assert.equal(s.status?.lastAppliedRevision, revision);
        assert.deepEqual(s.status?.history?.[0].signature, signature);
        assert.equal(await listenPath(name), path);
      },
      { attempts: 100 },
    );
  }
  /** Waits until `name` refuses the new revision with `message`, while `revision` and `path` stay. */
  async function refused(name: string, message: string, revision: string, path: string): Promise<void> {
    await eventually(
      async () => {
        await reconcile(name);
        const ready = findCondition((await source(name)).status, 'Ready');
        assert.equal(`${ready?.status}/${ready?.reason}`, 'False/SourceVerificationFailed', ready?.message);
        assert.equal(ready?.message, message);
      },
      { attempts: 100 },
    );
    assert.equal((await source(name)).status?.artifact?.revision, revision);
    assert.equal((await sync(name)).status?.lastAppliedRevision, revision);
    assert.equal(await listenPath(name), path);
  }
  const trusted = 'trusted keys: Secret "trusted" (spec.verify.secretRef)';

  it('HEAD: unsigned and untrusted commits are refused, the last verified one serving; signed ones apply', async () => {
    const repo = join(dir, 'repos', 'head');
    await makeRepo(repo, { 'README.md': 'signed APIs\n' });
    const first = await commitAs(repo, { 'apis/orders.yaml': apiManifest('head', '/v1', UPSTREAM) }, keys.alice);
    await sourceAndSync('head', { ref: { branch: 'main' }, verify: { mode: 'HEAD', secretRef: { name: 'trusted' } } });
    const alice = { of: 'commit', type: 'openpgp', key: keys.alice, signer: 'Alice <alice@example.com>' } as const;
    await applied('head', `main@sha1:${first}`, '/v1', alice);

    const unsigned = await commitAs(repo, { 'apis/orders.yaml': apiManifest('head', '/unsigned', UPSTREAM) });
    await refused('head', `commit ${unsigned} is not signed; ${trusted}`, `main@sha1:${first}`, '/v1');

    const eve = await commitAs(repo, { 'apis/orders.yaml': apiManifest('head', '/eve', UPSTREAM) }, keys.eve);
    const eveMessage = `commit ${eve} is signed with untrusted openpgp key ${keys.eve}; ${trusted}`;
    await refused('head', eveMessage, `main@sha1:${first}`, '/v1');

    const eveSsh = await commitAs(repo, { 'apis/orders.yaml': apiManifest('head', '/eve-ssh', UPSTREAM) }, 'eve_ssh');
    const eveSshMessage = `commit ${eveSsh} is signed with untrusted ssh key ${keys.eveSsh}; ${trusted}`;
    await refused('head', eveSshMessage, `main@sha1:${first}`, '/v1');

    const signed = await commitAs(repo, { 'apis/orders.yaml': apiManifest('head', '/v2', UPSTREAM) }, 'alice_ssh');
    const aliceSsh = { of: 'commit', type: 'ssh', key: keys.aliceSsh, signer: 'alice' } as const;
    await applied('head', `main@sha1:${signed}`, '/v2', aliceSsh);

    // Trusting Eve's key is a change of the Secret: the source is fetched and verified again at once, by watch.
    const later = await commitAs(repo, { 'apis/orders.yaml': apiManifest('head', '/v3', UPSTREAM) }, keys.eve);
    await refused(
      'head',
      `commit ${later} is signed with untrusted openpgp key ${keys.eve}; ${trusted}`,
      `main@sha1:${signed}`,
      '/v2',
    );
    const { stdout: eveKey } = await gpg(['--armor', '--export', keys.eve]);
    await client.patch(secretKind, 'trusted', { stringData: { 'eve.asc': eveKey } }, 'merge', 'default');
    await eventually(async () => assert.equal(await listenPath('head'), '/v3'), { attempts: 600 });
    const eveSigned = { of: 'commit', type: 'openpgp', key: keys.eve, signer: 'Eve <eve@example.com>' };
    assert.deepEqual((await source('head')).status?.artifact?.signature, eveSigned);
  });

  it('Tag: a signed tag applies, an unsigned one is refused', async () => {
    const repo = join(dir, 'repos', 'tags');
    await makeRepo(repo, { 'apis/orders.yaml': apiManifest('tags', '/v1', UPSTREAM) });
    const v1 = await gitIn(repo, ['rev-parse', 'HEAD']);
    await signing(repo, keys.alice, ['tag', '--sign', '--message=v1.0.0', 'v1.0.0']);
    await sourceAndSync('tags', {
      ref: { semver: '>=1.0.0' },
      verify: { mode: 'Tag', secretRef: { name: 'trusted' } },
    });
    const alice = { of: 'tag', type: 'openpgp', key: keys.alice, signer: 'Alice <alice@example.com>' } as const;
    await applied('tags', `v1.0.0@sha1:${v1}`, '/v1', alice);

    // An unsigned commit is fine in Tag mode; the unsigned tag on it is not.
    const v2 = await commitAs(repo, { 'apis/orders.yaml': apiManifest('tags', '/v2', UPSTREAM) });
    await gitIn(repo, ['tag', '--annotate', '--message=v1.1.0', 'v1.1.0']);
    await refused('tags', `tag "v1.1.0" (commit ${v2}) is not signed; ${trusted}`, `v1.0.0@sha1:${v1}`, '/v1');

    // TagAndHEAD wants the commit signed too: v1.0.0's tag is, its commit is not.
    const verify = { mode: 'TagAndHEAD', secretRef: { name: 'trusted' } };
    const spec = { url: git.url('tags'), ref: { tag: 'v1.0.0' }, interval: '10m', verify };
    await create(gitRepositoryKind, 'both', { spec });
    await eventually(
      async () => {
        await controller.reconcileSource('default', 'both').catch(() => undefined);
        const repo = await source('both');
        const ready = findCondition(repo.status, 'Ready');
        assert.equal(`${ready?.status}/${ready?.reason}`, 'False/SourceVerificationFailed', ready?.message);
        assert.equal(ready?.message, `commit ${v1} is not signed; ${trusted}`);
        assert.equal(repo.status?.artifact, undefined);
      },
      { attempts: 100 },
    );
  });

  it('Tag mode on a branch is refused at admission, naming the field', async () => {
    const spec = { url: git.url('tags'), ref: { branch: 'main' }, verify: { mode: 'Tag', secretRef: { name: 't' } } };
    await assert.rejects(create(gitRepositoryKind, 'branch-tag', { spec }), (err: unknown) => {
      assert.ok(isStatusError(err, 'Invalid'), String(err));
      assert.match((err as Error).message, /spec\.verify\.mode.*needs spec\.ref\.tag or spec\.ref\.semver/);
      return true;
    });
  });
});
