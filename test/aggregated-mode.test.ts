// Gatehouse aggregated behind kube-apiserver (`gatehouse apiserver --mode aggregated`): it serves only
// gatehouse.dev, and the cluster's namespaces govern its objects as kube's NamespaceLifecycle admission and
// namespace controller govern kube-apiserver's own. "The cluster" here is a standalone Gatehouse API server,
// whose Namespaces follow kube's semantics (finalizer `kubernetes`, Terminating while its contents go).
import { strict as assert } from 'node:assert';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { Agent } from 'undici';
import { configMapKind } from '../src/api/core/config-map/index.ts';
import { namespaceKind } from '../src/api/core/namespace/index.ts';
import type { KubeObject } from '../src/api/kind.ts';
import { apiDefinitionKind } from '../src/api/kinds/api-definition/index.ts';
import { consumerKind } from '../src/api/kinds/consumer/index.ts';
import { gitRepositoryKind } from '../src/api/kinds/git-repository/index.ts';
import { syncKind } from '../src/api/kinds/sync/index.ts';
import { startApiServer, type ApiServer } from '../src/apiserver/server.ts';
import { ensureSelfSignedCert } from '../src/apiserver/tls.ts';
import { ensureAdminToken } from '../src/cli/kubeconfig.ts';
import { ApiStatusError } from '../src/client/errors.ts';
import { startGateway } from '../src/gateway/server.ts';
import { startController } from '../src/gitops/manager.ts';
import { Informer } from '../src/client/informer.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { KubeClient } from '../src/client/rest.ts';
import { openStorage } from '../src/storage/open.ts';
import { KUBECTL, startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { GATEHOUSE } from './support/cli.ts';
import { eventually } from './support/eventually.ts';
import { startUpstream } from './support/gateway.ts';
import { fileUrl, makeRepo } from './support/git-servers.ts';
import { startKubeStandin, type KubeStandin } from './support/kube-standin.ts';
import { apiManifest } from './support/manifests.ts';
import { freshPgliteDir } from './support/pglite.ts';
import { freePort, startPostgres, type TestPostgres } from './support/postgres.ts';

const silent = pino({ level: 'silent' });

const api = (name: string, namespace: string) => ({
  apiVersion: 'gatehouse.dev/v1alpha1',
  kind: 'ApiDefinition',
  metadata: { name, namespace },
  spec: { listenPath: `/${name}`, upstream: { targets: [{ url: 'http://127.0.0.1:9' }] } },
});
const consumer = (name: string, namespace: string) => ({
  apiVersion: 'gatehouse.dev/v1alpha1',
  kind: 'Consumer',
  metadata: { name, namespace },
  spec: {},
});

/** The Status a refused call carried. */
async function refusal(call: Promise<unknown>): Promise<ApiStatusError> {
  try {
    await call;
  } catch (err) {
    if (err instanceof ApiStatusError) return err;
    throw err;
  }
  assert.fail('the call was not refused');
}

describe('aggregated mode: only gatehouse.dev, namespaces the cluster’s', () => {
  let cluster: TestApiServer;
  let clusterClient: KubeClient;
  let dir: string;
  let gatehouse: ApiServer;
  let client: KubeClient;
  let dispatcher: Agent;
  let token: string;
  let ca: string;

  /** Starts the aggregated server on the PGlite files of `dir`, so a restart keeps its objects. */
  async function startGatehouse(): Promise<void> {
    const credentials = await ensureAdminToken(dir);
    token = credentials.token;
    const tls = await ensureSelfSignedCert(join(dir, 'tls'));
    ca = tls.cert;
    dispatcher ??= new Agent({ connect: { ca } });
    gatehouse = await startApiServer({
      storage: await openStorage(`pglite:${join(dir, 'pglite')}`, { dataDir: dir }),
      tls,
      tokenFile: credentials.tokenFile,
      cluster: { client: clusterClient, namespace: 'gatehouse-system' },
    });
    client = new KubeClient({ server: gatehouse.url, ca, token, insecureSkipTlsVerify: false, namespace: 'default' });
    await eventually(async () => assert.equal((await get('/readyz')).status, 200), { attempts: 200 });
  }

  async function stopGatehouse(): Promise<void> {
    await client.close();
    await gatehouse.close();
  }

  const get = (path: string, accept = 'application/json') =>
    fetch(`${gatehouse.url}${path}`, {
      headers: { authorization: `Bearer ${token}`, accept },
      dispatcher,
    } as RequestInit);

  const namespace = (name: string) =>
    clusterClient.create(namespaceKind, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

  before(async () => {
    cluster = await startTestApiServer();
    clusterClient = new KubeClient(await loadKubeconfig(cluster.kubeconfigPath));
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-aggregated-'));
    await freshPgliteDir(join(dir, 'pglite'));
    await startGatehouse();
  });
  after(async () => {
    await stopGatehouse();
    await dispatcher.close();
    await clusterClient.close();
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('discovery and OpenAPI hold gatehouse.dev alone: the core group, RBAC and the reviews are the cluster’s', async () => {
    const groups = (await (await get('/apis')).json()) as { groups: Array<{ name: string }> };
    assert.deepEqual(
      groups.groups.map((g) => g.name),
      ['gatehouse.dev'],
    );
    const aggregated = (await (
      await get('/apis', 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList')
    ).json()) as { items: Array<{ metadata: { name: string } }> };
    assert.deepEqual(
      aggregated.items.map((g) => g.metadata.name),
      ['gatehouse.dev'],
    );
    assert.equal((await get('/api')).status, 404);
    assert.equal((await get('/api/v1/namespaces')).status, 404);
    assert.equal((await get('/apis/rbac.authorization.k8s.io/v1/clusterroles')).status, 404);
    const v2 = (await (await get('/openapi/v2')).json()) as { paths: object; definitions: object };
    assert.deepEqual(
      Object.keys(v2.paths).filter((p) => !p.startsWith('/apis/gatehouse.dev/')),
      [],
    );
    assert.deepEqual(
      Object.keys(v2.definitions).filter((d) => d.startsWith('io.k8s.api.')),
      [],
    );
    const v3 = (await (await get('/openapi/v3')).json()) as { paths: object };
    assert.deepEqual(Object.keys(v3.paths), ['apis/gatehouse.dev/v1alpha1']);
  });

  test('a create in a namespace the cluster lacks is 404; one the cluster made a moment ago is accepted', async () => {
    const missing = await refusal(client.create(apiDefinitionKind, api('shop', 'nowhere')));
    assert.equal(missing.code, 404);
    assert.equal(missing.status.message, 'namespaces "nowhere" not found');
    // Created and used at once: the informer may not have seen it yet, so the lookup goes to the cluster.
    await namespace('fresh');
    await client.create(apiDefinitionKind, api('shop', 'fresh'));
  });

  test('a namespace terminating in the cluster: creates refused as kube refuses them, Gatehouse’s objects deleted', async () => {
    await namespace('closing');
    await client.create(apiDefinitionKind, api('shop', 'closing'));
    await client.create(consumerKind, consumer('acme', 'closing'));
    // A finalizer holds the cluster's namespace in Terminating until the test releases it.
    await clusterClient.create(configMapKind, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'held', namespace: 'closing', finalizers: ['example.com/hold'] },
    });
    await clusterClient.delete(namespaceKind, 'closing');
    const refused = await eventually(() => refusal(client.create(consumerKind, consumer('late', 'closing'))));
    assert.equal(refused.code, 403);
    assert.deepEqual(refused.status, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'consumers.gatehouse.dev "late" is forbidden: unable to create new content in namespace closing ' +
        'because it is being terminated',
      reason: 'Forbidden',
      details: {
        name: 'late',
        group: 'gatehouse.dev',
        kind: 'consumers',
        causes: [
          {
            reason: 'NamespaceTerminating',
            message: 'namespace closing is being terminated',
            field: 'metadata.namespace',
          },
        ],
      },
      code: 403,
    });
    // The cluster's own (standalone) namespaces refuse in the same words.
    const core = await refusal(
      clusterClient.create(configMapKind, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'late', namespace: 'closing' },
      }),
    );
    assert.equal(
      core.status.message,
      'configmaps "late" is forbidden: unable to create new content in namespace closing because it is being terminated',
    );
    assert.deepEqual(core.status.details?.causes, refused.status.details?.causes);
    await eventually(async () => {
      assert.deepEqual((await client.list(apiDefinitionKind, { namespace: 'closing' })).items, []);
      assert.deepEqual((await client.list(consumerKind, { namespace: 'closing' })).items, []);
    });
    await clusterClient.patch(configMapKind, 'held', { metadata: { finalizers: null } }, 'merge', 'closing');
    await eventually(async () => assert.equal((await refusal(clusterClient.get(namespaceKind, 'closing'))).code, 404));
  });

  test('a namespace deleted in the cluster takes Gatehouse’s objects in it along', async () => {
    await namespace('gone');
    await client.create(apiDefinitionKind, api('shop', 'gone'));
    await client.create(consumerKind, consumer('acme', 'gone'));
    await namespace('kept');
    await client.create(consumerKind, consumer('acme', 'kept'));
    await clusterClient.delete(namespaceKind, 'gone');
    await eventually(async () => {
      assert.deepEqual((await client.list(apiDefinitionKind, { namespace: 'gone' })).items, []);
      assert.deepEqual((await client.list(consumerKind, { namespace: 'gone' })).items, []);
    });
    assert.equal((await client.list(consumerKind, { namespace: 'kept' })).items.length, 1);
  });

  test('kube’s namespace controller can empty a namespace: every namespaced resource takes list and deletecollection', async () => {
    // What the namespace controller does (pkg/controller/namespace/deletion): discovery, then for each
    // namespaced resource with both verbs, deletecollection and a list until it is empty.
    await namespace('swept');
    await client.create(apiDefinitionKind, api('shop', 'swept'));
    await client.create(consumerKind, consumer('acme', 'swept'));
    const list = (await (await get('/apis/gatehouse.dev/v1alpha1')).json()) as {
      resources: Array<{ name: string; namespaced: boolean; verbs: string[] }>;
    };
    const resources = list.resources.filter((r) => r.namespaced && !r.name.includes('/'));
    assert.ok(resources.length >= 8);
    for (const r of resources) {
      assert.ok(r.verbs.includes('deletecollection') && r.verbs.includes('list'), `${r.name}: ${r.verbs}`);
      const path = `/apis/gatehouse.dev/v1alpha1/namespaces/swept/${r.name}`;
      const res = await fetch(`${gatehouse.url}${path}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}` },
        dispatcher,
      } as RequestInit);
      assert.equal(res.status, 200, `${r.name}: ${await res.text()}`);
      const left = (await (await get(path)).json()) as { items: KubeObject[] };
      assert.deepEqual(left.items, [], r.name);
    }
  });

  test('objects of a namespace the cluster deleted while Gatehouse was stopped are deleted when it starts', async () => {
    await namespace('while-away');
    await client.create(apiDefinitionKind, api('shop', 'while-away'));
    await namespace('staying');
    await client.create(apiDefinitionKind, api('shop', 'staying'));
    await stopGatehouse();
    await clusterClient.delete(namespaceKind, 'while-away');
    await startGatehouse();
    await eventually(async () =>
      assert.deepEqual((await client.list(apiDefinitionKind, { namespace: 'while-away' })).items, []),
    );
    assert.equal((await client.list(apiDefinitionKind, { namespace: 'staying' })).items.length, 1);
  });
});

describe('aggregated mode: two API server replicas on one PostgreSQL behind the kube-apiserver stand-in', () => {
  let standin: KubeStandin;
  let postgres: TestPostgres;
  let dir: string;
  let database: string;
  let tls: { certFile: string; keyFile: string; cert: string };
  const replicas: Array<{ port: number; process?: ChildProcess }> = [];
  let admin: KubeClient;
  let adminKubeconfig: string;

  /** Starts replica `i` as its own `gatehouse apiserver --mode aggregated` process on its fixed port. */
  async function startReplica(i: number): Promise<void> {
    const replica = replicas[i];
    const child = spawn(
      process.execPath,
      [
        ...GATEHOUSE,
        'apiserver',
        '--mode',
        'aggregated',
        '--kubeconfig',
        standin.gatehouseKubeconfigPath,
        '--storage',
        database,
        '--data-dir',
        join(dir, `replica-${i}`),
        '--port',
        String(replica.port),
        '--tls-cert-file',
        tls.certFile,
        '--tls-private-key-file',
        tls.keyFile,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'info' } },
    );
    replica.process = child;
    let output = '';
    const listening = new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('"API server listening"')) resolve();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => reject(new Error(`replica ${i} exited ${code}:\n${output}`)));
    });
    await listening;
  }

  function kill(i: number): Promise<void> {
    const child = replicas[i].process as ChildProcess;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    return exited;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-replicas-'));
    [standin, postgres] = await Promise.all([
      startKubeStandin({ tokens: ['admin-token,admin,admin-uid,"system:masters"'] }),
      startPostgres(),
    ]);
    database = await postgres.newDatabase();
    await standin.core.kubectl(['create', 'namespace', 'team']);
    tls = await ensureSelfSignedCert(join(dir, 'tls'));
    for (let i = 0; i < 2; i++) replicas.push({ port: await freePort() });
    await Promise.all([startReplica(0), startReplica(1)]);
    standin.registerApiService({ urls: replicas.map((r) => `https://127.0.0.1:${r.port}`), ca: tls.cert });
    adminKubeconfig = await standin.writeKubeconfig('admin', 'admin-token');
    admin = new KubeClient(await loadKubeconfig(adminKubeconfig));
  });
  after(async () => {
    await admin?.close();
    for (const r of replicas) r.process?.kill('SIGKILL');
    await standin?.stop();
    await postgres?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('reconcile, diff and probe are answered through the stand-in, whichever replica takes the call', async () => {
    // The gateway and the controller as in a cluster: the cluster's API is all they know.
    const upstream = await startUpstream('echo');
    const repo = join(dir, 'repo');
    await makeRepo(repo, { 'apis/echo.yaml': apiManifest('echo', '/echo', upstream.url) });
    const gateway = await startGateway({
      kubeconfig: adminKubeconfig,
      port: 0,
      internalPort: 0,
      dataDir: join(dir, 'gateway'),
      logger: silent,
    });
    const controller = await startController({
      kubeconfig: adminKubeconfig,
      dataDir: join(dir, 'controller'),
      logger: silent,
    });
    try {
      const meta = { apiVersion: 'gatehouse.dev/v1alpha1', metadata: { name: 'demo', namespace: 'team' } };
      const source = { url: fileUrl(repo), ref: { branch: 'main' }, interval: '1h' };
      await admin.create(gitRepositoryKind, { ...meta, kind: 'GitRepository', spec: source });
      const sourceRef = { kind: 'GitRepository', name: 'demo' };
      await admin.create(syncKind, { ...meta, kind: 'Sync', spec: { sourceRef, path: './apis', interval: '1h' } });
      // The stand-in sends requests to the replicas in turn: two of each call reach both.
      for (let round = 0; round < 2; round++) {
        const sync = await admin.subresource<KubeObject>(syncKind, 'demo', 'reconcile', 'team', { withSource: true });
        assert.equal(sync.kind, 'Sync');
        const diff = await admin.subresource<{ kind: string; objects: Array<{ action: string }> }>(
          syncKind,
          'demo',
          'diff',
          'team',
        );
        assert.deepEqual([diff.kind, diff.objects.map((o) => o.action)], ['SyncDiff', ['unchanged']]);
        const probe = await eventually(() =>
          admin.subresource<Record<string, unknown>>(apiDefinitionKind, 'echo', 'probe', 'team', { path: '/hello' }),
        );
        assert.deepEqual(
          [probe.api, probe.status, probe.target, probe.request],
          ['team/echo', 200, upstream.url, { method: 'GET', path: '/echo/hello' }],
        );
      }
    } finally {
      await controller.close();
      await gateway.close();
      await upstream.close();
    }
  });

  test('each replica SIGKILLed in turn during `kubectl get apis -w` and a stream of applies: nothing acknowledged lost, watches resume', async (t) => {
    // `kubectl get -w` ends (exit 0) when its stream is cut, as when kube-apiserver restarts; run again, as a
    // user does, it answers at once through the replica left.
    let watched = '';
    const exits: Array<number | null> = [];
    let watching = true;
    let kubectlWatch: ChildProcess | undefined;
    const watchWithKubectl = () => {
      kubectlWatch = spawn(KUBECTL, ['--kubeconfig', adminKubeconfig, 'get', 'apis', '-n', 'team', '-w', '-o', 'name']);
      kubectlWatch.stdout?.on('data', (chunk: Buffer) => {
        watched += chunk.toString();
      });
      kubectlWatch.stderr?.on('data', (chunk: Buffer) => {
        watched += chunk.toString();
      });
      kubectlWatch.once('exit', (code) => {
        exits.push(code);
        if (watching) watchWithKubectl();
      });
    };
    watchWithKubectl();
    t.after(() => {
      watching = false;
      kubectlWatch?.kill();
    });
    // An informer, as the gateway and controller watch: it resumes from its last resourceVersion.
    let lists = 0;
    let cuts = 0;
    const informer = new Informer(admin, apiDefinitionKind, {
      namespace: 'team',
      initialBackoffMs: 100,
      maxBackoffMs: 1000,
      onChange: (change) => {
        if (change.type === 'SYNC') lists++;
      },
      onError: () => cuts++,
    }).start();
    t.after(() => informer.stop());
    await informer.synced;

    const acknowledged: string[] = [];
    let writing = true;
    t.after(() => {
      writing = false;
    });
    const writer = (async () => {
      for (let i = 0; writing && i < 10_000; i++) {
        const name = `a-${i}`;
        for (let attempt = 0; attempt < 50; attempt++) {
          try {
            await admin.apply(apiDefinitionKind, api(name, 'team'), { fieldManager: 'test', force: true });
            acknowledged.push(name);
            break;
          } catch {
            // The replica died under the request: not acknowledged; applied again (idempotent).
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        }
      }
    })();
    /** Waits for `n` more applies to be acknowledged. */
    const more = async (n: number) => {
      const target = acknowledged.length + n;
      await eventually(() => assert.ok(acknowledged.length >= target), { attempts: 600 });
    };
    // Every watch runs through one replica or the other: killing both in turn cuts each one once.
    await more(5);
    await kill(0);
    await more(10);
    await startReplica(0);
    await more(5);
    await kill(1);
    await more(10);
    writing = false;
    await writer;

    const names = (list: KubeObject[]) => new Set(list.map((o) => o.metadata.name as string));
    const stored = names((await admin.list<KubeObject>(apiDefinitionKind, { namespace: 'team' })).items);
    assert.deepEqual(
      acknowledged.filter((n) => !stored.has(n)),
      [],
      'acknowledged applies missing',
    );
    await eventually(
      () =>
        assert.deepEqual(
          acknowledged.filter((n) => !names(informer.items()).has(n)),
          [],
        ),
      { attempts: 200 },
    );
    assert.ok(cuts >= 1, 'a kill cut the informer watch');
    assert.equal(lists, 1, 'the informer resumed its watch without listing again');
    await eventually(
      () =>
        assert.deepEqual(
          acknowledged.filter((n) => !watched.includes(`apidefinition.gatehouse.dev/${n}\n`)),
          [],
          watched,
        ),
      { attempts: 200 },
    );
    assert.ok(exits.length >= 1, 'a kill cut the watch of kubectl');
    // A kubectl started just as a replica dies may be answered 503 by the aggregator (kube's does the same until
    // its endpoints drop the dead Pod) and exit 1; it is run again. Any other failure is a defect.
    const errors = watched.split('\n').filter((line) => line.startsWith('Error'));
    assert.deepEqual(
      errors.filter((line) => !line.includes('(ServiceUnavailable)')),
      [],
      watched,
    );
    assert.equal(exits.filter((code) => code !== 0).length, errors.length, watched);
  });
});
