// `gatehouse install` into a real kube-apiserver 1.32: every object of deploy/ (and of the postgres overlay) is
// server-side applied with strict field validation, so kube-apiserver checks each against its own schema; the
// APIService's caBundle is the CA of the Secret installed with it; kube-controller-manager aggregates the
// gatehouse roles into admin, edit and view; the components' ServiceAccounts hold what their roles say, checked
// by kube's own RBAC (SubjectAccessReviews). No Pod runs here (see kube-cluster.ts), so the Deployments stay
// unscheduled.
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { gatehouse } from '../support/cli.ts';
import { eventually } from '../support/eventually.ts';
import { type KubeCluster, startKubeCluster } from './kube-cluster.ts';

describe('gatehouse install into kube-apiserver', () => {
  let cluster: KubeCluster;
  const install = (...args: string[]) => gatehouse(['install', '--kubeconfig', cluster.kubeconfigOf(), ...args]);
  const get = async (args: string[]) => JSON.parse(await cluster.kubectlOk(['get', ...args, '-o', 'json']));
  /** kube's RBAC decision for a ServiceAccount of gatehouse-system, asked with a SubjectAccessReview. */
  const can = async (account: string, resourceAttributes: Record<string, string>) => {
    const groups = ['system:serviceaccounts', 'system:serviceaccounts:gatehouse-system', 'system:authenticated'];
    const spec = { user: `system:serviceaccount:gatehouse-system:gatehouse-${account}`, groups, resourceAttributes };
    const review = { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec };
    const input = JSON.stringify(review);
    return JSON.parse(await cluster.kubectlOk(['create', '-f', '-', '-o', 'json'], { input })).status.allowed === true;
  };

  before(async () => {
    cluster = await startKubeCluster();
  });
  after(() => cluster?.stop());

  test('applies every object, strictly validated by the cluster; the caBundle is the CA of its Secret', async () => {
    const result = await install();
    assert.equal(result.code, 0, result.stderr);
    const applied = result.stdout.trim().split('\n');
    assert.ok(applied.every((line) => line.endsWith(' serverside-applied')));
    assert.equal(applied.at(-1), 'apiservice.apiregistration.k8s.io/v1alpha1.gatehouse.dev serverside-applied');
    for (const kind of ['deployment', 'service', 'poddisruptionbudget', 'serviceaccount']) {
      assert.ok((await get([kind, '-n', 'gatehouse-system'])).items.length > 0, kind);
    }
    const secret = await get(['secret', 'gatehouse-apiserver-tls', '-n', 'gatehouse-system']);
    const apiService = await get(['apiservice', 'v1alpha1.gatehouse.dev']);
    assert.equal(apiService.spec.caBundle, secret.data['ca.crt']);
    assert.equal(apiService.spec.service.name, 'gatehouse-apiserver');
  });

  test("aggregates Gatehouse's roles into admin, edit and view; the components hold their roles' rights", async () => {
    await eventually(
      async () => {
        const edit = await get(['clusterrole', 'edit']);
        const resources = edit.rules.flatMap((r: { resources?: string[] }) => r.resources ?? []);
        assert.ok(resources.includes('apidefinitions'), 'edit aggregates gatehouse:edit');
      },
      { attempts: 100, intervalMs: 200 },
    );
    const ofGatehouse = (resource: string, verb: string, more: Record<string, string> = {}) => ({
      group: 'gatehouse.dev',
      resource,
      verb,
      ...more,
    });
    assert.equal(await can('gateway', ofGatehouse('apidefinitions', 'watch')), true);
    assert.equal(await can('gateway', ofGatehouse('apidefinitions', 'delete', { namespace: 'team-a' })), false);
    const syncStatus = ofGatehouse('syncs', 'patch', { subresource: 'status', namespace: 'team-a' });
    assert.equal(await can('controller', syncStatus), true);
    const review = (group: string, resource: string) => ({ group, resource, verb: 'create' });
    assert.equal(await can('apiserver', review('authentication.k8s.io', 'tokenreviews')), true);
    assert.equal(await can('apiserver', review('authorization.k8s.io', 'subjectaccessreviews')), true);
    const authentication = { name: 'extension-apiserver-authentication', namespace: 'kube-system' };
    assert.equal(await can('apiserver', { resource: 'configmaps', verb: 'watch', ...authentication }), true);
    assert.equal(await can('apiserver', { resource: 'namespaces', verb: 'watch' }), true);
    assert.equal(await can('apiserver', { resource: 'secrets', verb: 'list' }), false);
  });

  test('an upgrade with the postgres overlay keeps the certificate and adds the development database', async () => {
    const before = await get(['secret', 'gatehouse-apiserver-tls', '-n', 'gatehouse-system']);
    const result = await install('--overlay', 'postgres', '--image', 'registry.example/gatehouse:0.2.0');
    assert.equal(result.code, 0, result.stderr);
    const after = await get(['secret', 'gatehouse-apiserver-tls', '-n', 'gatehouse-system']);
    assert.deepEqual(after.data, before.data);
    assert.equal((await get(['statefulset', 'gatehouse-postgres', '-n', 'gatehouse-system'])).spec.replicas, 1);
    const apiserver = await get(['deployment', 'gatehouse-apiserver', '-n', 'gatehouse-system']);
    assert.equal(apiserver.spec.template.spec.containers[0].image, 'registry.example/gatehouse:0.2.0');
  });
});
