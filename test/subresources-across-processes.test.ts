// The subresources other components answer (reconcile, diff, probe) in the deployments
// operators run: `gatehouse apiserver`, `gatehouse controller` and `gatehouse gateway` as
// separate processes, driven by the gatehouse CLI and kubectl; two API server replicas on
// one PostgreSQL, called on the replica the components do not talk to; and an API server
// with no component at all, which answers 503 naming what is missing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../src/api/kind.ts';
import { apiDefinitionKind, type ApiDefinition } from '../src/api/kinds/api-definition/index.ts';
import { gitRepositoryKind } from '../src/api/kinds/git-repository/index.ts';
import { subresourceRequestKind } from '../src/api/kinds/subresource-request/index.ts';
import { syncKind, type Sync } from '../src/api/kinds/sync/index.ts';
import { ensureSelfSignedCert } from '../src/apiserver/tls.ts';
import { ensureAdminToken, writeKubeconfig } from '../src/cli/kubeconfig.ts';
import { isStatusError } from '../src/client/errors.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { KubeClient } from '../src/client/rest.ts';
import { KUBECTL, startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { eventually } from './support/eventually.ts';
import { call, startUpstream, type Echo, type Upstream } from './support/gateway.ts';
import { fileUrl, makeRepo } from './support/git-servers.ts';
import { apiServerReplicaArgs, GATEHOUSE, startGatehouse, type GatehouseProcess as Child } from './support/cli.ts';
import { apiManifest } from './support/manifests.ts';
import { startPostgres, type TestPostgres } from './support/postgres.ts';

/** Generous: a child compiles the CLI with tsx on a loaded machine before it logs. */
const START_TIMEOUT_MS = 120_000;

/** Runs a command to completion. */
function run(command: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: START_TIMEOUT_MS }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const cli = (args: string[]) => run(process.execPath, [...GATEHOUSE, ...args]);

/** One Gatehouse installation in a temporary directory: credentials, a serving
 * certificate shared by its API server replicas, a Git repository with one API. */
interface Installation {
  dir: string;
  repoUrl: string;
  upstream: Upstream;
  children: Child[];
  /** Starts an API server process and returns a kubeconfig for it. */
  apiserver(name: string, storage: string): Promise<string>;
  start(args: string[], ready: string): Promise<Child>;
  close(): Promise<void>;
}

async function installation(): Promise<Installation> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-subresources-'));
  const { tokenFile, token } = await ensureAdminToken(dir);
  const tls = await ensureSelfSignedCert(join(dir, 'tls'));
  const upstream = await startUpstream('echo');
  const repo = join(dir, 'repo');
  await makeRepo(repo, { 'apis/echo.yaml': apiManifest('echo', '/echo', upstream.url) });
  const children: Child[] = [];
  const start = async (args: string[], ready: string) => {
    const child = await startGatehouse(args, ready);
    children.push(child);
    return child;
  };
  return {
    dir,
    repoUrl: fileUrl(repo),
    upstream,
    children,
    start,
    async apiserver(name, storage) {
      const server = await start(apiServerReplicaArgs(dir, name, storage, tokenFile), 'API server listening');
      const kubeconfig = join(dir, `${name}.kubeconfig`);
      await writeKubeconfig(kubeconfig, String(server.fields.url), tls.cert, token);
      return kubeconfig;
    },
    async close() {
      // Components before the API servers they watch.
      for (const child of children.reverse()) await child.stop();
      await upstream.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The controller and gateway, both talking to the API server of `kubeconfig`. */
async function components(inst: Installation, kubeconfig: string): Promise<{ gatewayUrl: string }> {
  const common = (name: string) => ['--kubeconfig', kubeconfig, '--data-dir', join(inst.dir, name)];
  await inst.start(['controller', ...common('controller')], 'controller running');
  const ports = ['--port', '0', '--internal-port', '0'];
  const gateway = await inst.start(['gateway', ...common('gateway'), ...ports], 'gateway listening');
  return { gatewayUrl: String(gateway.fields.url) };
}

/** GitRepository and Sync "demo" applying the repository's apis/, polled hourly so only
 * the subresources make anything happen. */
async function declareSync(client: KubeClient, repoUrl: string): Promise<void> {
  const meta = { apiVersion: 'gatehouse.dev/v1alpha1', metadata: { name: 'demo', namespace: 'default' } };
  const source = { url: repoUrl, ref: { branch: 'main' }, interval: '1h' };
  await client.create(gitRepositoryKind, { ...meta, kind: 'GitRepository', spec: source });
  const sourceRef = { kind: 'GitRepository', name: 'demo' };
  await client.create(syncKind, { ...meta, kind: 'Sync', spec: { sourceRef, path: './apis', interval: '1h' } });
}

/** A probe through the API server of `client` reaches the upstream through the gateway. */
async function assertProbe(client: KubeClient, upstream: Upstream): Promise<void> {
  const result = await client.subresource<Record<string, unknown>>(apiDefinitionKind, 'echo', 'probe', 'default', {
    path: '/hello',
  });
  assert.deepEqual(
    [result.api, result.status, result.target, result.request],
    ['default/echo', 200, upstream.url, { method: 'GET', path: '/echo/hello' }],
  );
}

describe('subresources with the API server, controller and gateway as separate processes', () => {
  let inst: Installation;
  let kubeconfig: string;
  let client: KubeClient;
  let gatewayUrl: string;
  const gh = (args: string[]) => cli([...args, '--kubeconfig', kubeconfig]);
  const kubectl = (args: string[]) =>
    run(KUBECTL, ['--kubeconfig', kubeconfig, '--cache-dir', join(inst.dir, 'kube-cache'), ...args]);

  before(async () => {
    inst = await installation();
    kubeconfig = await inst.apiserver('apiserver', 'memory');
    client = new KubeClient(await loadKubeconfig(kubeconfig));
    ({ gatewayUrl } = await components(inst, kubeconfig));
  });
  after(async () => {
    await client?.close();
    await inst?.close();
  });

  it('bootstrap, reconcile, suspend, diff and resume through the gatehouse CLI', async () => {
    const bootstrap = await gh(['bootstrap', `--url=${inst.repoUrl}`, '--path=./apis', '--name=demo', '--interval=1h']);
    assert.equal(bootstrap.code, 0, bootstrap.stderr);
    const applied = (await client.get<Sync>(syncKind, 'demo', 'default')).status?.lastAppliedRevision;
    assert.match(String(applied), /^main@sha1:[0-9a-f]{40}$/);
    await eventually(async () => assert.equal((await call(gatewayUrl, '/echo/hello')).status, 200), { attempts: 200 });

    const reconcile = await gh(['reconcile', 'sync', 'demo', '--with-source']);
    assert.equal(reconcile.code, 0, reconcile.stderr);
    const clean = await gh(['diff', 'sync', 'demo']);
    assert.equal(clean.code, 0, clean.stderr);

    // Suspended, a hand edit stays and diff reports it; resumed, it is undone at once.
    assert.equal((await gh(['suspend', 'sync', 'demo'])).code, 0);
    await client.patch(apiDefinitionKind, 'echo', { spec: { listenPath: '/by-hand' } }, 'merge', 'default');
    const drifted = await gh(['diff', 'sync', 'demo']);
    assert.equal(drifted.code, 1, drifted.stderr);
    assert.match(drifted.stdout, /echo/);
    const resume = await gh(['resume', 'sync', 'demo']);
    assert.equal(resume.code, 0, resume.stderr);
    assert.equal((await client.get<ApiDefinition>(apiDefinitionKind, 'echo', 'default')).spec.listenPath, '/echo');
  });

  it('answers kubectl on the reconcile and diff subresources, and probes through the gateway', async () => {
    await eventually(async () => assert.equal((await call(gatewayUrl, '/echo/hello')).status, 200), { attempts: 200 });
    const body = join(inst.dir, 'reconcile.json');
    await writeFile(body, JSON.stringify({ withSource: true }));
    const base = '/apis/gatehouse.dev/v1alpha1/namespaces/default';
    const reconciled = await kubectl(['create', '--raw', `${base}/syncs/demo/reconcile`, '-f', body]);
    assert.equal(reconciled.code, 0, reconciled.stderr);
    assert.equal((JSON.parse(reconciled.stdout) as KubeObject).kind, 'Sync');
    const source = await kubectl(['create', '--raw', `${base}/gitrepositories/demo/reconcile`, '-f', body]);
    assert.equal(source.code, 0, source.stderr);
    assert.equal((JSON.parse(source.stdout) as KubeObject).kind, 'GitRepository');
    const diff = await kubectl(['get', '--raw', `${base}/syncs/demo/diff`]);
    assert.equal(diff.code, 0, diff.stderr);
    assert.equal((JSON.parse(diff.stdout) as KubeObject).kind, 'SyncDiff');

    await assertProbe(client, inst.upstream);
    const seen = (await call(gatewayUrl, '/echo/again')).json<Echo>();
    assert.equal(seen.url, '/again');
    // Answered requests are removed by the API server that made them.
    assert.deepEqual((await client.list(subresourceRequestKind, { namespace: 'default' })).items, []);
  });

  it('refuses a probe body naming the field before asking the gateway, and names a missing object', async () => {
    const badPath = client.subresource(apiDefinitionKind, 'echo', 'probe', 'default', { path: 'no-slash' });
    await assert.rejects(badPath, (err: unknown) => {
      assert.ok(isStatusError(err, 'BadRequest'));
      assert.match(err.message, /^ApiDefinition default\/echo probe: path: must be an absolute path/);
      return true;
    });
    await assert.rejects(client.subresource(syncKind, 'nothing', 'diff', 'default'), (err: unknown) => {
      return isStatusError(err, 'NotFound') && /"nothing" not found/.test(err.message);
    });
  });
});

describe('subresources with two API server replicas on one PostgreSQL', () => {
  let postgres: TestPostgres;
  let inst: Installation;
  let far: KubeClient;

  before(async () => {
    postgres = await startPostgres();
    const storage = await postgres.newDatabase();
    inst = await installation();
    const near = await inst.apiserver('near', storage);
    const farConfig = await inst.apiserver('far', storage);
    far = new KubeClient(await loadKubeconfig(farConfig));
    // The components talk to "near" only; the calls below go to "far".
    await components(inst, near);
  });
  after(async () => {
    await far?.close();
    await inst?.close();
    await postgres?.stop();
  });

  it('answers reconcile, diff and probe sent to the replica the components do not talk to', async () => {
    await declareSync(far, inst.repoUrl);
    const sync = await far.subresource<Sync>(syncKind, 'demo', 'reconcile', 'default', { withSource: true });
    assert.match(String(sync.status?.lastAppliedRevision), /^main@sha1:[0-9a-f]{40}$/);
    type Diff = { kind: string; objects: Array<{ action: string }> };
    const diff = await far.subresource<Diff>(syncKind, 'demo', 'diff', 'default');
    assert.deepEqual([diff.kind, diff.objects.map((o) => o.action)], ['SyncDiff', ['unchanged']]);
    await eventually(() => assertProbe(far, inst.upstream), { attempts: 200 });
  });
});

describe('subresources with no component to answer them', () => {
  let t: TestApiServer;
  let client: KubeClient;

  before(async () => {
    t = await startTestApiServer('memory', { delegation: { claimTimeoutMs: 500 } });
    client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    await declareSync(client, 'file:///nowhere');
    await client.create(apiDefinitionKind, {
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'ApiDefinition',
      metadata: { name: 'echo', namespace: 'default' },
      spec: { listenPath: '/echo', upstream: { targets: [{ url: 'http://127.0.0.1:9' }] } },
    });
  });
  after(async () => {
    await client.close();
    await t.stop();
  });

  it('answers 503 naming the component that is missing and the object, and leaves no request behind', async () => {
    const noController = 'no GitOps controller took the request within 0.5 s; is `gatehouse controller`';
    const ask = (kind: typeof syncKind, name: string, sub: string, body?: object) => () =>
      client.subresource(kind, name, sub, 'default', body);
    // One at a time, each awaited as it is made.
    const calls: Array<[() => Promise<unknown>, string]> = [
      [ask(syncKind, 'demo', 'reconcile', {}), `Sync default/demo reconcile: ${noController}`],
      [ask(gitRepositoryKind, 'demo', 'reconcile', {}), `GitRepository default/demo reconcile: ${noController}`],
      [ask(syncKind, 'demo', 'diff'), `Sync default/demo diff: ${noController}`],
      [
        ask(apiDefinitionKind, 'echo', 'probe', {}),
        'ApiDefinition default/echo probe: no gateway took the request within 0.5 s; is `gatehouse gateway`',
      ],
    ];
    for (const [answer, message] of calls) {
      await assert.rejects(answer, (err: unknown) => {
        assert.ok(isStatusError(err, 'ServiceUnavailable'), String(err));
        assert.equal(err.code, 503);
        assert.ok(err.message.startsWith(message), err.message);
        return true;
      });
    }
    assert.deepEqual((await client.list(subresourceRequestKind, { namespace: 'default' })).items, []);
  });
});
