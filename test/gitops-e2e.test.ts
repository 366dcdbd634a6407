// GitOps end to end: a real API server, the gateway and the controller watching it, real Git
// servers on loopback (file://, SSH, HTTP), loopback upstreams. Covers serving from Git,
// drift undone by watch, rollback by revert, bad commits that apply nothing, a webhook push,
// and the Git server migration with a client calling the gateway throughout.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { KubeObject } from '../src/api/kind.ts';
import { eventKind } from '../src/api/core/event/index.ts';
import { secretKind } from '../src/api/core/secret/index.ts';
import { apiDefinitionKind, type ApiDefinition } from '../src/api/kinds/api-definition/index.ts';
import { gitRepositoryKind, type GitRepository } from '../src/api/kinds/git-repository/index.ts';
import { receiverKind } from '../src/api/kinds/receiver/index.ts';
import { syncKind, type Sync } from '../src/api/kinds/sync/index.ts';
import { findCondition } from '../src/api/status.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { KubeClient } from '../src/client/rest.ts';
import { startGateway, type Gateway } from '../src/gateway/server.ts';
import { startController, type GitOpsController } from '../src/gitops/manager.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { eventually } from './support/eventually.ts';
import { storageSpec, TEST_STORAGES, type TestStorage } from './support/storages.ts';
import { call, startUpstream, type Echo, type Upstream } from './support/gateway.ts';
import { apiManifest } from './support/manifests.ts';
import {
  commit,
  fileUrl,
  gitIn,
  makeClientKey,
  makeRepo,
  startHttpGitServer,
  startSshGitServer,
  type SshGitServer,
} from './support/git-servers.ts';

const silent = pino({ level: 'silent' });

const scenarios = (storage: TestStorage) => () => {
  let t: TestApiServer;
  let client: KubeClient;
  let gw: Gateway;
  let controller: GitOpsController;
  let a: Upstream;
  let b: Upstream;
  let dir: string;
  /** Everything the controller logged, to search for secrets. */
  const logged: string[] = [];

  before(async () => {
    t = await startTestApiServer(await storageSpec(storage));
    client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-gitops-'));
    [a, b] = await Promise.all([startUpstream('a'), startUpstream('b')]);
    gw = await startGateway({ kubeconfig: t.kubeconfigPath, port: 0, dataDir: join(dir, 'gateway'), logger: silent });
    const sink = new Writable({
      write(chunk, _enc, done) {
        logged.push(String(chunk));
        done();
      },
    });
    controller = await startController({
      kubeconfig: t.kubeconfigPath,
      dataDir: join(dir, 'controller'),
      hookPort: 0,
      logger: pino({ level: 'debug' }, sink),
    });
  });
  after(async () => {
    await controller.close();
    await gw.close();
    await Promise.all([a.close(), b.close()]);
    await client.close();
    await t.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const served = async (path: string) => (await call(gw.url, path)).json<Echo>().upstream;
  const sync = (name: string) => client.get<Sync>(syncKind, name, 'default');
  const ready = (obj: KubeObject) => findCondition(obj.status as never, 'Ready');

  async function source(name: string, url: string, secretName?: string): Promise<void> {
    await client.create(gitRepositoryKind, {
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'GitRepository',
      metadata: { name, namespace: 'default' },
      spec: {
        url,
        ref: { branch: 'main' },
        interval: '10m',
        ...(secretName ? { secretRef: { name: secretName } } : {}),
      },
    } as KubeObject);
  }
  async function syncOf(
    name: string,
    sourceName: string,
    path: string,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    await client.create(syncKind, {
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'Sync',
      metadata: { name, namespace: 'default' },
      spec: { sourceRef: { name: sourceName }, path, interval: '10m', prune: true, ...extra },
    } as KubeObject);
  }

  it('serves an API from a file:// repository, undoes hand edits, annotations and deletes by watch, and records history', async () => {
    const repo = join(dir, 'local');
    const annotated = apiManifest('orders', '/orders', a.url).replace(
      'metadata:\n',
      'metadata:\n  annotations:\n    team: orders\n',
    );
    const sha = await makeRepo(repo, { 'apis/orders.yaml': annotated });
    await source('local', fileUrl(repo));
    await syncOf('local', 'local', './apis');
    await eventually(async () => assert.equal(await served('/orders/1'), 'a'), { attempts: 200 });
    // The gateway serves what was applied before the Sync's status records it.
    const s = await eventually(async () => {
      const applied = await sync('local');
      assert.equal(applied.status?.lastAppliedRevision, `main@sha1:${sha}`);
      return applied;
    });
    assert.deepEqual(s.status?.inventory?.entries, [
      { id: 'default_orders_gatehouse.dev_ApiDefinition', v: 'gatehouse.dev/v1alpha1' },
    ]);
    assert.equal(s.status?.history?.[0].status, 'Succeeded');
    assert.equal(s.status?.history?.[0].created, 1, JSON.stringify(s.status?.history));
    const live = await client.get<ApiDefinition>(apiDefinitionKind, 'orders', 'default');
    assert.equal(live.metadata.labels?.['gatehouse.dev/sync-name'], 'local');

    // A hand edit through kubectl of a field from Git is undone by watch: the interval is 10 minutes, and each wait
    // below gives up after 20 s (how fast it happens is a benchmark's question, not a test's).
    await t.kubectl(['patch', 'apidefinition', 'orders', '--type=merge', '-p', '{"spec":{"listenPath":"/by-hand"}}']);
    await eventually(
      async () =>
        assert.equal(
          (await client.get<ApiDefinition>(apiDefinitionKind, 'orders', 'default')).spec.listenPath,
          '/orders',
        ),
      { attempts: 400 },
    );
    await eventually(async () => {
      const events = await client.list<KubeObject & { reason: string; message: string }>(eventKind, {
        namespace: 'default',
      });
      const drift = events.items.find((e) => e.reason === 'DriftCorrected');
      assert.ok(drift, 'a DriftCorrected event');
      assert.match(drift.message, /ApiDefinition default\/orders configured \(spec\.listenPath\)/);
    });
    // A delete is undone too.
    await t.kubectl(['delete', 'apidefinition', 'orders']);
    await eventually(async () => assert.equal(await served('/orders/1'), 'a'), { attempts: 400 });
    // And an annotation from Git changed by hand, which changes no spec; one added by hand is the hand's and stays.
    await t.kubectl(['annotate', '--overwrite', 'apidefinition', 'orders', 'team=hand', 'hand=edit']);
    await eventually(
      async () =>
        assert.deepEqual(
          (await client.get<ApiDefinition>(apiDefinitionKind, 'orders', 'default')).metadata.annotations,
          { team: 'orders', 'gatehouse.dev/source-path': 'apis/orders.yaml', hand: 'edit' },
        ),
      { attempts: 400 },
    );
  });

  it('rolls back with a revert; a bad commit applies nothing and names file, object and field', async () => {
    const repo = join(dir, 'rollback');
    await makeRepo(repo, {
      'apis/pay.yaml': apiManifest('pay', '/pay', a.url),
      'apis/ship.yaml': apiManifest('ship', '/ship', a.url),
    });
    await source('rollback', fileUrl(repo));
    await syncOf('rollback', 'rollback', './apis', { substitute: { UPSTREAM: b.url } });
    await eventually(async () => assert.equal(await served('/pay/x'), 'a'), { attempts: 200 });

    const reconcile = async () => {
      await controller.reconcileSync('default', 'rollback', true);
      return sync('rollback');
    };
    const changed = await commit(
      repo,
      { 'apis/pay.yaml': apiManifest('pay', '/pay', '${UPSTREAM}') },
      'pay moves to b',
    );
    let s = await reconcile();
    assert.equal(s.status?.lastAppliedRevision, `main@sha1:${changed}`);
    assert.equal(await served('/pay/x'), 'b');

    // Invalid ApiDefinition in one file, a valid change in another: nothing is applied.
    const bad = await commit(
      repo,
      { 'apis/ship.yaml': apiManifest('ship', 'no-slash', a.url), 'apis/pay.yaml': apiManifest('pay', '/pay', a.url) },
      'bad listenPath',
    );
    s = await reconcile();
    assert.equal(ready(s)?.status, 'False');
    assert.equal(ready(s)?.reason, 'ValidationFailed');
    assert.match(ready(s)!.message!, /apis\/ship\.yaml: ApiDefinition default\/ship: spec\.listenPath/);
    assert.equal(s.status?.lastAttemptedRevision, `main@sha1:${bad}`);
    assert.equal(s.status?.lastAppliedRevision, `main@sha1:${changed}`, 'the last good revision stays applied');
    assert.equal(await served('/pay/x'), 'b', 'the valid change in the bad commit was not applied');
    assert.equal(await served('/ship/x'), 'a');

    await commit(repo, { 'apis/ship.yaml': 'kind: [unclosed' }, 'yaml syntax error');
    s = await reconcile();
    assert.equal(ready(s)?.reason, 'BuildFailed');
    assert.match(ready(s)!.message!, /apis\/ship\.yaml/);

    await commit(repo, { 'apis/ship.yaml': apiManifest('ship', '/ship', '${NOWHERE}') }, 'undefined variable');
    s = await reconcile();
    assert.equal(ready(s)?.reason, 'BuildFailed');
    assert.match(ready(s)!.message!, /NOWHERE/);
    assert.match(ready(s)!.message!, /apis\/ship\.yaml/);
    assert.equal(await served('/ship/x'), 'a', 'still serving the last good config');

    // Back to the good state of `changed`, then revert that commit too: pay is on a again.
    await gitIn(repo, ['revert', '--no-edit', 'HEAD', 'HEAD~1', 'HEAD~2']);
    s = await reconcile();
    assert.equal(ready(s)?.status, 'True');
    assert.equal(await served('/pay/x'), 'b');
    await gitIn(repo, ['revert', '--no-edit', changed]);
    s = await reconcile();
    assert.equal(ready(s)?.status, 'True', ready(s)?.message);
    assert.equal(await served('/pay/x'), 'a', 'the revert brought the earlier config back');
    assert.ok(
      (s.status?.history ?? []).some((h) => h.status === 'Failed'),
      'failures are in the history',
    );
    assert.ok((s.status?.history?.length ?? 0) <= 10);
  });

  it('a webhook push over authenticated HTTP reconciles at once; prune removes what left Git', async () => {
    const root = join(dir, 'http-root');
    const repo = join(root, 'apis');
    await makeRepo(repo, { 'hook/one.yaml': apiManifest('one', '/one', a.url) });
    const server = await startHttpGitServer({ repoRoot: root, auth: { username: 'bot', password: 'http-pass-9f3k' } });
    try {
      await client.create(secretKind, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'http-creds', namespace: 'default' },
        stringData: { username: 'bot', password: 'http-pass-9f3k' },
      } as KubeObject);
      await client.create(secretKind, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'hook-token', namespace: 'default' },
        stringData: { token: 'hook-token-77x' },
      } as KubeObject);
      await source('http', server.url('apis'), 'http-creds');
      await syncOf('http', 'http', './hook');
      await client.create(receiverKind, {
        apiVersion: 'gatehouse.dev/v1alpha1',
        kind: 'Receiver',
        metadata: { name: 'push', namespace: 'default' },
        spec: { type: 'github', secretRef: { name: 'hook-token' }, resources: [{ name: 'http' }] },
      } as KubeObject);
      await eventually(async () => assert.equal(await served('/one/x'), 'a'), { attempts: 200 });

      await commit(
        repo,
        { 'hook/one.yaml': null, 'hook/two.yaml': apiManifest('two', '/two', b.url) },
        'two replaces one',
      );
      const body = JSON.stringify({ ref: 'refs/heads/main' });
      const hook = async (signature: string) =>
        fetch(`${controller.hookUrl}/hook/default/push`, {
          method: 'POST',
          body,
          headers: { 'x-github-event': 'push', 'x-hub-signature-256': signature, 'content-type': 'application/json' },
        });
      const forged = await hook(`sha256=${createHmac('sha256', 'wrong').update(body).digest('hex')}`);
      assert.equal(forged.status, 401);
      const accepted = await hook(`sha256=${createHmac('sha256', 'hook-token-77x').update(body).digest('hex')}`);
      assert.equal(accepted.status, 202);
      await eventually(async () => assert.equal(await served('/two/x'), 'b'), { attempts: 100 });
      await eventually(async () => assert.equal((await call(gw.url, '/one/x')).status, 404), { attempts: 100 });
    } finally {
      await server.close();
    }
  });

  it('deleting a Sync that prunes deletes its objects first; one that does not prune leaves them', async () => {
    const repo = join(dir, 'leaving');
    await makeRepo(repo, {
      'kept/api.yaml': apiManifest('kept', '/kept', a.url),
      'collected/api.yaml': apiManifest('collected', '/collected', a.url),
    });
    await source('leaving', fileUrl(repo));
    await syncOf('collector', 'leaving', './collected');
    await syncOf('keeper', 'leaving', './kept', { prune: false });
    await eventually(
      async () => {
        assert.equal(await served('/collected/x'), 'a');
        assert.equal(await served('/kept/x'), 'a');
      },
      { attempts: 200 },
    );
    assert.deepEqual((await sync('collector')).metadata.finalizers, ['gatehouse.dev/sync']);

    // kubectl waits for the Sync to be gone, which is after its objects are.
    await t.kubectl(['delete', 'sync', 'collector', 'keeper']);
    await assert.rejects(client.get(apiDefinitionKind, 'collected', 'default'), /not found/);
    await assert.rejects(sync('collector'), /not found/);
    await assert.rejects(sync('keeper'), /not found/);
    assert.equal(
      (await client.get<ApiDefinition>(apiDefinitionKind, 'kept', 'default')).metadata.labels?.[
        'gatehouse.dev/sync-name'
      ],
      'keeper',
      'left in place, labels and all',
    );
    await eventually(async () => assert.equal((await call(gw.url, '/collected/x')).status, 404));
    await eventually(async () => {
      const events = await client.list<KubeObject & { reason: string; message: string }>(eventKind, {
        namespace: 'default',
      });
      assert.ok(
        events.items.some(
          (e) => e.reason === 'GarbageCollected' && e.message === 'Sync deleted: 1 of 1 objects deleted',
        ),
        JSON.stringify(events.items.map((e) => e.reason)),
      );
    });
  });

  it('migrates between SSH servers: a re-keyed host is refused with its fingerprint and nothing is pruned; the gateway never fails', async () => {
    const rootA = join(dir, 'ssh-a');
    const rootB = join(dir, 'ssh-b');
    await makeRepo(join(rootA, 'apis'), { 'svc/inventory.yaml': apiManifest('inventory', '/inventory', a.url) });
    // Server B is the new home: a clone of A's repository.
    await mkdir(rootB, { recursive: true });
    await gitIn(rootB, ['clone', '-q', join(rootA, 'apis'), 'apis']);
    const key = makeClientKey();
    const serverA: SshGitServer = await startSshGitServer({ repoRoot: rootA, authorizedKeys: [key.publicKey] });
    const serverB: SshGitServer = await startSshGitServer({ repoRoot: rootB, authorizedKeys: [key.publicKey] });
    const failures: string[] = [];
    let calls = 0;
    let calling = true;
    try {
      const secret = (name: string, server: SshGitServer) =>
        client.create(secretKind, {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name, namespace: 'default' },
          stringData: { identity: key.privateKey, known_hosts: `${server.knownHostsLine}\n` },
        } as KubeObject);
      await secret('ssh-a', serverA);
      await source('ssh', serverA.url('apis'), 'ssh-a');
      await syncOf('ssh', 'ssh', './svc');
      await eventually(async () => assert.equal(await served('/inventory/x'), 'a'), { attempts: 200 });

      const caller = (async () => {
        while (calling) {
          calls++;
          const res = await call(gw.url, '/inventory/x').catch((err: Error) => ({ status: 0, text: err.message }));
          if (res.status !== 200) failures.push(`${res.status} ${res.text}`);
          await new Promise((r) => setTimeout(r, 10));
        }
      })();

      // Server A is re-keyed: refused, named, nothing removed.
      const oldFingerprint = serverA.fingerprint;
      await serverA.restart();
      assert.notEqual(serverA.fingerprint, oldFingerprint);
      const repo = await controller.reconcileSource('default', 'ssh');
      const cond = ready(repo);
      assert.equal(cond?.status, 'False');
      assert.equal(cond?.reason, 'HostKeyMismatch');
      assert.match(cond!.message!, /host key mismatch/);
      assert.ok(cond!.message!.includes(serverA.fingerprint), `names the offered fingerprint: ${cond!.message}`);
      assert.ok(repo.status?.artifact, 'the previous artifact is kept');
      await controller.reconcileSync('default', 'ssh', false);
      assert.equal(await served('/inventory/x'), 'a');
      assert.ok(await client.get(apiDefinitionKind, 'inventory', 'default'), 'nothing pruned');

      // Point the source at server B with B's known_hosts: synchronisation resumes.
      await secret('ssh-b', serverB);
      await client.patch(
        gitRepositoryKind,
        'ssh',
        { spec: { url: serverB.url('apis'), secretRef: { name: 'ssh-b' } } },
        'merge',
        'default',
      );
      await eventually(
        async () => {
          const cond = ready(await client.get<GitRepository>(gitRepositoryKind, 'ssh', 'default'));
          assert.equal(cond?.status, 'True', cond?.message);
        },
        { attempts: 200 },
      );
      await commit(
        join(rootB, 'apis'),
        { 'svc/inventory.yaml': apiManifest('inventory', '/inventory', b.url) },
        'served from B now',
      );
      await controller.reconcileSync('default', 'ssh', true);
      await eventually(async () => assert.equal(await served('/inventory/x'), 'b'));
      calling = false;
      await caller;
      assert.ok(calls > 10, `the client kept calling (${calls} calls)`);
      assert.deepEqual(failures, [], 'the gateway answered every call');
    } finally {
      calling = false;
      await Promise.all([serverA.close(), serverB.close()]);
    }

    // Secrets never leave the controller: not in logs, statuses or events.
    const secrets = [...key.privateKey.split('\n').filter((l) => l.length > 20), 'http-pass-9f3k', 'hook-token-77x'];
    const events = JSON.stringify((await client.list(eventKind, { namespace: 'default' })).items);
    const statuses = JSON.stringify(
      [...(await client.list(gitRepositoryKind, {})).items, ...(await client.list(syncKind, {})).items].map(
        (o) => o.status,
      ),
    );
    for (const secret of secrets) {
      for (const [where, text] of [
        ['logs', logged.join('')],
        ['events', events],
        ['status', statuses],
      ] as const) {
        assert.ok(!text.includes(secret), `a secret appears in ${where}`);
      }
    }
    assert.ok(logged.length > 0, 'the controller logged');
  });
};

for (const storage of TEST_STORAGES) describe(`GitOps end to end on ${storage}`, scenarios(storage));
