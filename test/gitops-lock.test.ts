// The GitOps lock end to end: a Sync applies an ApiDefinition from a Git repository served over HTTP, as the
// controller's own ServiceAccount. A hand `kubectl patch` (even by a cluster administrator) is refused at
// admission with a Status naming the owner, its source and the file; a user allowed the `override` verb (the
// admin role) gets through by setting the override-reason annotation, which the Sync then respects (status,
// a Warning Event, the audit log, `gatehouse get syncs`) until the annotation goes and Git's version returns.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { KubeObject } from '../src/api/kind.ts';
import { apiDefinitionKind } from '../src/api/kinds/api-definition/index.ts';
import { syncKind, type Sync } from '../src/api/kinds/sync/index.ts';
import { findCondition } from '../src/api/status.ts';
import type { AuditEvent } from '../src/apiserver/audit/event.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { KubeClient } from '../src/client/rest.ts';
import { writeKubeconfig } from '../src/cli/kubeconfig.ts';
import { startController, type GitOpsController } from '../src/gitops/manager.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { gatehouse } from './support/cli.ts';
import { eventually } from './support/eventually.ts';
import { makeRepo, startHttpGitServer, type HttpGitServer } from './support/git-servers.ts';

const RBAC = 'rbac.authorization.k8s.io';
const JSON_TYPE = { 'content-type': 'application/json' };
const LOCKED =
  'ApiDefinition default/orders is managed by Sync default/apis (GitRepository default/platform, ' +
  'apis/orders.yaml); change it in Git';
const REASON = 'incident 42: the upstream moved';
const ORDERS = `apiVersion: gatehouse.dev/v1alpha1
kind: ApiDefinition
metadata:
  name: orders
  namespace: default
spec:
  listenPath: /orders
  upstream:
    targets:
      - url: http://127.0.0.1:9
`;

interface ApiDefinition extends KubeObject {
  spec: { listenPath: string };
}

describe('GitOps lock', () => {
  let t: TestApiServer;
  let client: KubeClient;
  let git: HttpGitServer;
  let controller: GitOpsController;
  let dir: string;
  let auditPath: string;
  /** kubectl as a user of the token file (ed may edit the namespace, olga is its admin). */
  const kubectlAs = (user: 'ed' | 'olga', args: string[]) =>
    t.kubectlResult(['--kubeconfig', join(dir, `${user}.kubeconfig`), ...args]);
  const post = async (path: string, body: unknown) => {
    const res = await t.request(path, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify(body) });
    const text = await res.text();
    assert.equal(res.status, 201, text);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const orders = () => client.get<ApiDefinition>(apiDefinitionKind, 'orders', 'default');
  const sync = () => client.get<Sync>(syncKind, 'apis', 'default');
  const handPatch = JSON.stringify({ spec: { listenPath: '/by-hand' } });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-lock-'));
    auditPath = join(dir, 'audit.log');
    t = await startTestApiServer('memory', {
      tokens: [
        'ed-token,ed,ed-uid,"team"',
        'olga-token,olga,olga-uid,"team"',
        'gw-token,gw,gw-uid,"gatehouse:gateways"',
      ],
      audit: { path: auditPath },
    });
    client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    for (const [user, token] of [
      ['ed', 'ed-token'],
      ['olga', 'olga-token'],
    ]) {
      await writeKubeconfig(join(dir, `${user}.kubeconfig`), t.url, t.ca, token);
    }
    // The controller runs as its ServiceAccount: the Sync's writes come from it, everyone else's are locked out.
    await post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gatehouse-system' } });
    const accounts = '/api/v1/namespaces/gatehouse-system/serviceaccounts';
    await post(accounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'gatehouse-controller' } });
    const request = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} };
    const minted = await post(`${accounts}/gatehouse-controller/token`, request);
    const controllerKubeconfig = join(dir, 'controller.kubeconfig');
    await writeKubeconfig(controllerKubeconfig, t.url, t.ca, (minted.status as { token: string }).token);
    for (const [user, role] of [
      ['ed', 'edit'],
      ['olga', 'admin'],
    ]) {
      await post(`/apis/${RBAC}/v1/namespaces/default/rolebindings`, {
        apiVersion: `${RBAC}/v1`,
        kind: 'RoleBinding',
        metadata: { name: user, namespace: 'default' },
        roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: role },
        subjects: [{ kind: 'User', apiGroup: RBAC, name: user }],
      });
    }
    const repos = join(dir, 'repos');
    await makeRepo(join(repos, 'platform'), { 'apis/orders.yaml': ORDERS });
    git = await startHttpGitServer({ repoRoot: repos });
    await post('/apis/gatehouse.dev/v1alpha1/namespaces/default/gitrepositories', {
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'GitRepository',
      metadata: { name: 'platform', namespace: 'default' },
      spec: { url: git.url('platform'), interval: '10m' },
    });
    await post('/apis/gatehouse.dev/v1alpha1/namespaces/default/syncs', {
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'Sync',
      metadata: { name: 'apis', namespace: 'default' },
      spec: { sourceRef: { kind: 'GitRepository', name: 'platform' }, path: './apis', interval: '10m' },
    });
    controller = await startController({
      kubeconfig: controllerKubeconfig,
      dataDir: join(dir, 'controller'),
      logger: pino({ level: 'silent' }),
    });
    await eventually(
      async () => {
        const ready = findCondition((await sync()).status, 'Ready');
        assert.equal(ready?.status, 'True', ready?.message);
      },
      { attempts: 600 },
    );
  });
  after(async () => {
    await controller?.close();
    await client?.close();
    await git?.close();
    await t?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('records who the Sync writes as and the file of every object', async () => {
    assert.equal((await sync()).status?.appliedBy, 'system:serviceaccount:gatehouse-system:gatehouse-controller');
    assert.equal((await orders()).metadata.annotations?.['gatehouse.dev/source-path'], 'apis/orders.yaml');
  });

  it('refuses a hand patch or delete, even by a cluster admin, naming the Sync, its source and file', async () => {
    const patched = await t.kubectlResult(['patch', 'apidefinition', 'orders', '--type=merge', '-p', handPatch]);
    assert.notEqual(patched.code, 0);
    assert.equal(patched.stderr.trim(), `Error from server (Forbidden): ${LOCKED}`);
    const deleted = await t.kubectlResult(['delete', 'apidefinition', 'orders']);
    assert.equal(deleted.stderr.trim(), `Error from server (Forbidden): ${LOCKED}`);
    // Without --force-conflicts the apply stops earlier, at the conflict with the Sync's field manager.
    const apply = ['apply', '--server-side', '--force-conflicts', '-f', '-'];
    const applied = await t.kubectlResult(apply, ORDERS.replace('/orders', '/applied'));
    assert.equal(applied.stderr.trim(), `Error from server (Forbidden): ${LOCKED}`);
    const live = JSON.parse(await t.kubectl(['get', 'apidefinition', 'orders', '-o', 'json'])) as ApiDefinition;
    const replaced = await t.kubectlResult(
      ['replace', '-f', '-'],
      JSON.stringify({ ...live, spec: { ...live.spec, listenPath: '/replaced' } }),
    );
    assert.equal(replaced.stderr.trim(), `Error from server (Forbidden): error when replacing "STDIN": ${LOCKED}`);
    // The same by an editor, with the reason annotation: only the override verb opens the lock.
    const annotated = JSON.stringify({
      metadata: { annotations: { 'gatehouse.dev/override-reason': REASON } },
      spec: { listenPath: '/by-hand' },
    });
    const byEditor = await kubectlAs('ed', ['patch', 'apidefinition', 'orders', '--type=merge', '-p', annotated]);
    assert.equal(byEditor.stderr.trim(), `Error from server (Forbidden): ${LOCKED}`);
    const res = await t.request('/apis/gatehouse.dev/v1alpha1/namespaces/default/apidefinitions/orders', {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: handPatch,
    });
    const status = (await res.json()) as { code: number; reason: string; details: Record<string, unknown> };
    assert.equal(res.status, 403);
    assert.equal(status.reason, 'Forbidden');
    assert.deepEqual(status.details, { group: 'gatehouse.dev', kind: 'apidefinitions', name: 'orders' });
    assert.equal((await orders()).spec.listenPath, '/orders');
  });

  it('lets the gateway write the status subresource', async () => {
    const res = await t.request(
      '/apis/gatehouse.dev/v1alpha1/namespaces/default/apidefinitions/orders/status',
      {
        method: 'PATCH',
        headers: { 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify({ status: { observedGeneration: 1 } }),
      },
      'gw-token',
    );
    assert.equal(res.status, 200, await res.text());
  });

  it('lets a user allowed to override write with a reason; the Sync leaves the object alone and says so', async () => {
    const annotated = JSON.stringify({
      metadata: { annotations: { 'gatehouse.dev/override-reason': REASON } },
      spec: { listenPath: '/by-hand' },
    });
    const patched = await kubectlAs('olga', ['patch', 'apidefinition', 'orders', '--type=merge', '-p', annotated]);
    assert.equal(patched.code, 0, patched.stderr);
    const overridden = await eventually(
      async () => {
        const status = (await sync()).status;
        assert.deepEqual(status?.overrides, [
          { kind: 'ApiDefinition', namespace: 'default', name: 'orders', reason: REASON },
        ]);
        return status;
      },
      { attempts: 600 },
    );
    const ready = findCondition(overridden, 'Ready');
    assert.equal(ready?.status, 'True');
    assert.match(ready?.message ?? '', /overridden by hand, left alone: ApiDefinition default\/orders \(incident 42/);
    assert.equal((await orders()).spec.listenPath, '/by-hand');

    const events = await eventually(
      async () => {
        const out = await t.kubectl(['get', 'events', '--field-selector', 'reason=Overridden', '-o', 'json']);
        const items = (JSON.parse(out) as { items: Array<{ type: string; message: string }> }).items;
        assert.equal(items.length, 1, out);
        return items;
      },
      { attempts: 200 },
    );
    assert.equal(events[0].type, 'Warning');
    assert.ok(events[0].message.startsWith(`ApiDefinition default/orders was changed by hand (${REASON})`));

    const audited = await eventually(
      async () => {
        const lines = (await readFile(auditPath, 'utf8')).trim().split('\n');
        const found = lines
          .map((l) => JSON.parse(l) as AuditEvent)
          .find((e) => e.stage === 'ResponseComplete' && e.annotations?.['gatehouse.dev/override'] === 'set');
        assert.ok(found, 'no audit event of the override');
        return found;
      },
      { attempts: 200 },
    );
    assert.equal(audited.user.username, 'olga');
    assert.equal(audited.verb, 'patch');
    assert.equal(audited.objectRef?.name, 'orders');
    assert.equal(audited.annotations?.['gatehouse.dev/override-reason'], REASON);

    const table = await gatehouse(['get', 'syncs', '--kubeconfig', t.kubeconfigPath]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /overridden by hand, left alone: ApiDefinition default\/orders/);
  });

  it("puts Git's version back once the annotation is removed", async () => {
    const removed = await kubectlAs('olga', ['annotate', 'apidefinition', 'orders', 'gatehouse.dev/override-reason-']);
    assert.equal(removed.code, 0, removed.stderr);
    await eventually(
      async () => {
        assert.equal((await orders()).spec.listenPath, '/orders');
        const status = (await sync()).status;
        assert.equal(status?.overrides, undefined);
        assert.equal(findCondition(status, 'Ready')?.message, `applied revision ${status?.lastAppliedRevision}`);
      },
      { attempts: 600 },
    );
    const again = await t.kubectlResult(['patch', 'apidefinition', 'orders', '--type=merge', '-p', handPatch]);
    assert.equal(again.stderr.trim(), `Error from server (Forbidden): ${LOCKED}`);
  });

  it('does not lock while the Sync is suspended or unlocked; then drift correction undoes hand edits', async () => {
    const specOfSync = (spec: Partial<Sync['spec']>) =>
      t.kubectl(['patch', 'sync', 'apis', '--type=merge', '-p', JSON.stringify({ spec })]);
    await specOfSync({ suspend: true });
    const whileSuspended = JSON.stringify({ spec: { listenPath: '/while-suspended' } });
    const suspended = await t.kubectlResult(['patch', 'apidefinition', 'orders', '--type=merge', '-p', whileSuspended]);
    assert.equal(suspended.code, 0, suspended.stderr);
    await specOfSync({ suspend: false, lock: false });
    await eventually(async () => assert.equal((await orders()).spec.listenPath, '/orders'), { attempts: 600 });
    const patched = await t.kubectlResult(['patch', 'apidefinition', 'orders', '--type=merge', '-p', handPatch]);
    assert.equal(patched.code, 0, patched.stderr);
    await eventually(async () => assert.equal((await orders()).spec.listenPath, '/orders'), { attempts: 600 });
  });
});
