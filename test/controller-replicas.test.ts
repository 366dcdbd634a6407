// GitOps controller replicas on one API server: one leader reconciles on a Lease, a standby
// takes over and rebuilds the revision status names from Git, a leader that loses its Lease
// stops, and a replica's no-op never overwrites another replica's history entry.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import pino from 'pino';
import { configMapKind, type ConfigMap } from '../src/api/core/config-map/index.ts';
import { leaseKind, type Lease } from '../src/api/core/lease/index.ts';
import { secretKind } from '../src/api/core/secret/index.ts';
import type { KubeObject } from '../src/api/kind.ts';
import { gitRepositoryKind, type GitRepository } from '../src/api/kinds/git-repository/index.ts';
import { receiverKind } from '../src/api/kinds/receiver/index.ts';
import { syncKind, type Sync } from '../src/api/kinds/sync/index.ts';
import { findCondition } from '../src/api/status.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { KubeClient } from '../src/client/rest.ts';
import { EventRecorder } from '../src/controller/runtime/index.ts';
import { SyncReconciler } from '../src/gitops/controllers/sync.ts';
import { startController, type GitOpsController, type LeaderElectionSettings } from '../src/gitops/manager.ts';
import { Redactor } from '../src/gitops/redact.ts';
import { writeArtifact } from '../src/gitops/sync/testing.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { eventually } from './support/eventually.ts';
import { commit, fileUrl, makeRepo } from './support/git-servers.ts';

const silent = pino({ level: 'silent' });
const patient = { attempts: 300, intervalMs: 100 };

const configMap = (name: string, value: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
data:
  value: "${value}"
`;

describe('GitOps controller replicas', () => {
  let t: TestApiServer;
  let client: KubeClient;
  let dir: string;
  const running: GitOpsController[] = [];

  before(async () => {
    t = await startTestApiServer();
    client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-replicas-'));
  });
  // Each test's replicas stop with it: a leader of one test's Lease would reconcile the next test's Syncs.
  afterEach(async () => {
    await Promise.all(running.splice(0).map((c) => c.close()));
  });
  after(async () => {
    await client.close();
    await t.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const election = (name: string): LeaderElectionSettings => ({
    namespace: 'default',
    name,
    leaseDurationMs: 3000,
    renewDeadlineMs: 2000,
    retryPeriodMs: 200,
  });
  const replica = async (lease: string, data: string, onLostLeadership?: () => void) => {
    const controller = await startController({
      kubeconfig: t.kubeconfigPath,
      dataDir: join(dir, data),
      hookPort: 0,
      logger: silent,
      leaderElection: election(lease),
      onLostLeadership,
    });
    running.push(controller);
    return controller;
  };
  const holder = async (lease: string) => (await client.get<Lease>(leaseKind, lease, 'default')).spec?.holderIdentity;
  const value = async (name: string) => (await client.get<ConfigMap>(configMapKind, name, 'default')).data?.value;

  async function sourceAndSync(name: string, repo: string): Promise<void> {
    await client.create(gitRepositoryKind, {
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'GitRepository',
      metadata: { name, namespace: 'default' },
      spec: { url: fileUrl(repo), ref: { branch: 'main' }, interval: '10m', timeout: '60s' },
    } as KubeObject);
    await client.create(syncKind, {
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'Sync',
      metadata: { name, namespace: 'default' },
      spec: { sourceRef: { name }, path: './', interval: '10m', prune: true, substitute: { suffix: 'one' } },
    } as KubeObject);
  }

  it('one leader reconciles; a standby takes over and fetches the revision status names by its commit', async () => {
    const repo = join(dir, 'repo-takeover');
    const first = await makeRepo(repo, { 'cm.yaml': configMap('takeover', 'first-${suffix}') });
    const a = await replica('takeover', 'a');
    await eventually(async () => assert.equal(await holder('takeover'), a.identity), patient);
    const b = await replica('takeover', 'b');
    await sourceAndSync('takeover', repo);
    await eventually(async () => assert.equal(await value('takeover'), 'first-one'), patient);
    assert.ok(a.leading);
    assert.equal(b.leading, false, 'the standby does not reconcile');

    // The source stops fetching, and Git moves on: the revision in status is no longer what the branch names.
    await client.patch(gitRepositoryKind, 'takeover', { spec: { suspend: true } }, 'merge', 'default');
    await commit(repo, { 'cm.yaml': configMap('takeover', 'second-${suffix}') }, 'second');
    await a.close();
    running.splice(running.indexOf(a), 1);
    await eventually(() => assert.ok(b.leading), patient);
    assert.equal(await holder('takeover'), b.identity);

    // b never fetched; a new substitution makes it build the revision status names again.
    await client.patch(syncKind, 'takeover', { spec: { substitute: { suffix: 'two' } } }, 'merge', 'default');
    await eventually(async () => assert.equal(await value('takeover'), 'first-two'), patient);
    const sync = await client.get<Sync>(syncKind, 'takeover', 'default');
    assert.equal(sync.status?.lastAppliedRevision, `main@sha1:${first}`);
    assert.equal(findCondition(sync.status, 'Ready')?.status, 'True', JSON.stringify(sync.status?.conditions));
    assert.deepEqual(
      sync.status?.history?.map((h) => h.status),
      ['Succeeded', 'Succeeded'],
      'no ApplyFailed entry from a missing artifact',
    );
  });

  it("a standby's Receiver webhook hands the push to the leader", async () => {
    const repo = join(dir, 'repo-hook');
    await makeRepo(repo, { 'cm.yaml': configMap('hook', 'first-${suffix}') });
    const a = await replica('hook', 'hook-a');
    await eventually(async () => assert.equal(await holder('hook'), a.identity), patient);
    const b = await replica('hook', 'hook-b');
    await sourceAndSync('hook', repo);
    await client.create(secretKind, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'hook-token', namespace: 'default' },
      stringData: { token: 'hook-token-5q' },
    } as KubeObject);
    await client.create(receiverKind, {
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'Receiver',
      metadata: { name: 'push', namespace: 'default' },
      spec: { type: 'github', secretRef: { name: 'hook-token' }, resources: [{ name: 'hook' }] },
    } as KubeObject);
    await eventually(async () => assert.equal(await value('hook'), 'first-one'), patient);

    // The source polls every 10 minutes: only the webhook brings the commit in.
    await commit(repo, { 'cm.yaml': configMap('hook', 'second-${suffix}') }, 'second');
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    const signature = `sha256=${createHmac('sha256', 'hook-token-5q').update(body).digest('hex')}`;
    await eventually(async () => {
      const res = await fetch(`${b.hookUrl}/hook/default/push`, {
        method: 'POST',
        body,
        headers: { 'x-github-event': 'push', 'x-hub-signature-256': signature, 'content-type': 'application/json' },
      });
      assert.equal(res.status, 202, 'the standby has the Receiver and its token in its caches');
    }, patient);
    assert.equal(b.leading, false);
    await eventually(async () => assert.equal(await value('hook'), 'second-one'), patient);
  });

  it('a leader that loses its Lease stops reconciling and says so', async () => {
    const repo = join(dir, 'repo-lost');
    await makeRepo(repo, { 'cm.yaml': configMap('lost', 'first-${suffix}') });
    let lost = false;
    const a = await replica('lost', 'lost-a', () => {
      lost = true;
    });
    await eventually(async () => assert.equal(await holder('lost'), a.identity), patient);
    await sourceAndSync('lost', repo);
    await eventually(async () => assert.equal(await value('lost'), 'first-one'), patient);

    // Another holder takes the Lease (as one would after a's renewals failed for the lease duration).
    await eventually(async () => {
      const lease = await client.get<Lease>(leaseKind, 'lost', 'default');
      const renewTime = new Date().toISOString();
      const spec = { ...lease.spec, holderIdentity: 'another', leaseDurationSeconds: 3600, renewTime };
      await client.update(leaseKind, { ...lease, spec });
    });
    await eventually(() => assert.ok(lost), patient);
    assert.equal(a.leading, false);
    await client.patch(syncKind, 'lost', { spec: { substitute: { suffix: 'two' } } }, 'merge', 'default');
    // A reconcile by a would have applied within this bound (the first apply above took far less).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(await value('lost'), 'first-one', 'the replica that lost the Lease applied nothing more');
  });

  it("a no-op of a replica that read the Sync before another's apply adds no entry over it", async () => {
    const artifacts = join(dir, 'history-artifacts');
    await writeArtifact(join(artifacts, 'r1'), { 'cm.yaml': configMap('history', 'one') });
    await writeArtifact(join(artifacts, 'r2'), { 'cm.yaml': configMap('history', 'two') });
    await client.create(gitRepositoryKind, {
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'GitRepository',
      metadata: { name: 'history', namespace: 'default' },
      spec: { url: 'https://git.invalid/history.git', interval: '10m', timeout: '60s', suspend: true },
    } as KubeObject);
    const publish = async (revision: string, path: string) => {
      const current = await client.get<GitRepository>(gitRepositoryKind, 'history', 'default');
      await client.patchStatus(
        gitRepositoryKind,
        'history',
        {
          status: { artifact: { revision, path, digest: `sha256:${path}`, lastUpdateTime: new Date().toISOString() } },
        },
        'merge',
        current.metadata.namespace,
      );
    };
    await client.create(syncKind, {
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'Sync',
      metadata: { name: 'history', namespace: 'default' },
      spec: { sourceRef: { name: 'history' }, path: './', interval: '10m', prune: true },
    } as KubeObject);
    // The gate holds replica b between its read of the Sync and everything it writes.
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let reached = () => {};
    const atGate = new Promise<void>((resolve) => (reached = resolve));
    const reconciler = (held: boolean) =>
      new SyncReconciler({
        client,
        events: new EventRecorder(client, 'gatehouse-controller', silent),
        redactor: new Redactor(),
        logger: silent,
        artifact: async (r) => {
          if (held) {
            reached();
            await gate;
          }
          return join(artifacts, r.status?.artifact?.path ?? '');
        },
        live: () => undefined,
      });
    const a = reconciler(false);
    const b = reconciler(true);
    const request = { namespace: 'default', name: 'history' };

    await publish('main@sha1:1111111111111111111111111111111111111111', 'r1');
    await a.reconcile(request);
    await publish('main@sha1:2222222222222222222222222222222222222222', 'r2');
    const late = b.reconcile(request);
    await atGate;
    await a.reconcile(request);
    release();
    await late;

    const history = (await client.get<Sync>(syncKind, 'history', 'default')).status?.history ?? [];
    assert.deepEqual(
      history.map((h) => [h.revision.slice(-3), h.message]),
      [
        ['222', '0 created, 1 configured, 0 unchanged, 0 deleted'],
        ['111', '1 created, 0 configured, 0 unchanged, 0 deleted'],
      ],
    );
    assert.equal(await value('history'), 'two');
  });
});
