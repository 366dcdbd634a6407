// A Sync with spec.serviceAccountName applies as that ServiceAccount (impersonation by the controller, which
// itself runs as its own ServiceAccount, gatehouse-system/gatehouse-controller): a team's Sync writes only
// where the team's Role reaches. A Sync without it applies with the controller's rights.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { configMapKind, type ConfigMap } from '../src/api/core/config-map/index.ts';
import { syncKind, type Sync } from '../src/api/kinds/sync/index.ts';
import { findCondition } from '../src/api/status.ts';
import { isStatusError } from '../src/client/errors.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { KubeClient } from '../src/client/rest.ts';
import { writeKubeconfig } from '../src/cli/kubeconfig.ts';
import { startController, type GitOpsController } from '../src/gitops/manager.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { eventually } from './support/eventually.ts';
import { fileUrl, makeRepo } from './support/git-servers.ts';

const RBAC = 'rbac.authorization.k8s.io';
const JSON_TYPE = { 'content-type': 'application/json' };
const configMap = (name: string, namespace: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\ndata:\n  owner: team-a\n`;

describe('Sync spec.serviceAccountName', () => {
  let t: TestApiServer;
  let client: KubeClient;
  let controller: GitOpsController;
  let dir: string;
  const post = async (path: string, body: unknown) => {
    const res = await t.request(path, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify(body) });
    const text = await res.text();
    assert.equal(res.status, 201, text);
    return JSON.parse(text) as Record<string, unknown>;
  };

  before(async () => {
    t = await startTestApiServer();
    client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-sync-sa-'));
    for (const name of ['gatehouse-system', 'team-a', 'team-b']) {
      await post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }
    // The controller runs as its ServiceAccount, bound to gatehouse:controller by the default policy.
    const accounts = (ns: string) => `/api/v1/namespaces/${ns}/serviceaccounts`;
    const account = (name: string) => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } });
    await post(accounts('gatehouse-system'), account('gatehouse-controller'));
    const request = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} };
    const minted = await post(`${accounts('gatehouse-system')}/gatehouse-controller/token`, request);
    const controllerKubeconfig = join(dir, 'controller.kubeconfig');
    await writeKubeconfig(controllerKubeconfig, t.url, t.ca, (minted.status as { token: string }).token);
    // Team A's deployer may write ConfigMaps in team-a only: a Sync applies with server-side apply, a patch.
    await post(accounts('team-a'), account('deployer'));
    await post(`/apis/${RBAC}/v1/namespaces/team-a/roles`, {
      apiVersion: `${RBAC}/v1`,
      kind: 'Role',
      metadata: { name: 'configmaps', namespace: 'team-a' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'create', 'patch', 'delete'] }],
    });
    await post(`/apis/${RBAC}/v1/namespaces/team-a/rolebindings`, {
      apiVersion: `${RBAC}/v1`,
      kind: 'RoleBinding',
      metadata: { name: 'deployer', namespace: 'team-a' },
      roleRef: { apiGroup: RBAC, kind: 'Role', name: 'configmaps' },
      subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace: 'team-a' }],
    });
    const repo = join(dir, 'repo');
    await makeRepo(repo, {
      'own/cm.yaml': configMap('mine', 'team-a'),
      'other/cm.yaml': configMap('theirs', 'team-b'),
    });
    await post('/apis/gatehouse.dev/v1alpha1/namespaces/team-a/gitrepositories', {
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'GitRepository',
      metadata: { name: 'team-a', namespace: 'team-a' },
      spec: { url: fileUrl(repo), interval: '10m' },
    });
    controller = await startController({
      kubeconfig: controllerKubeconfig,
      dataDir: join(dir, 'controller'),
      logger: pino({ level: 'silent' }),
    });
  });
  after(async () => {
    await controller?.close();
    await client?.close();
    await t?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const createSync = (name: string, path: string, serviceAccountName?: string) =>
    post('/apis/gatehouse.dev/v1alpha1/namespaces/team-a/syncs', {
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'Sync',
      metadata: { name, namespace: 'team-a' },
      spec: {
        sourceRef: { kind: 'GitRepository', name: 'team-a' },
        path,
        interval: '10m',
        ...(serviceAccountName ? { serviceAccountName } : {}),
      },
    });
  const readyOf = (name: string, status: string) =>
    eventually(
      async () => {
        const ready = findCondition((await client.get<Sync>(syncKind, name, 'team-a')).status, 'Ready');
        assert.equal(ready?.status, status, ready?.message);
        return ready!;
      },
      { attempts: 600 },
    );

  it('applies what the account may write', async () => {
    await createSync('own', './own', 'deployer');
    assert.equal((await readyOf('own', 'True')).reason, 'ReconciliationSucceeded');
    assert.equal((await client.get<ConfigMap>(configMapKind, 'mine', 'team-a')).data?.owner, 'team-a');
  });

  it('writes nothing in another namespace: Ready=False AccessDenied naming the 403', async () => {
    await createSync('other', './other', 'deployer');
    const ready = await readyOf('other', 'False');
    assert.equal(ready.reason, 'AccessDenied');
    assert.ok(
      ready.message!.includes(
        'other/cm.yaml: ConfigMap team-b/theirs: configmaps "theirs" is forbidden: ' +
          'User "system:serviceaccount:team-a:deployer" cannot get resource "configmaps" in API group "" ' +
          'in the namespace "team-b"',
      ),
      ready.message,
    );
    const missing = (err: unknown) => isStatusError(err, 'NotFound');
    await assert.rejects(client.get(configMapKind, 'theirs', 'team-b'), missing);
  });

  it("applies with the controller's identity without it", async () => {
    await createSync('as-controller', './other');
    assert.equal((await readyOf('as-controller', 'True')).reason, 'ReconciliationSucceeded');
    assert.equal((await client.get<ConfigMap>(configMapKind, 'theirs', 'team-b')).data?.owner, 'team-a');
  });
});
