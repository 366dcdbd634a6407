// The suite's control plane itself (kube-cluster.ts): a real kube-apiserver 1.32 on etcd with RBAC, the front
// proxy's configuration published for extension API servers, and kube-controller-manager's namespace controller.
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { FRONT_PROXY_CLIENT, type KubeCluster, startKubeCluster } from './kube-cluster.ts';

describe('the k8s suite’s control plane', () => {
  let cluster: KubeCluster;
  before(async () => {
    cluster = await startKubeCluster({ users: [{ name: 'bob', groups: ['developers'] }] });
  });
  after(() => cluster?.stop());

  test('kube-apiserver 1.32 answers the real kubectl', async () => {
    const version = JSON.parse(await cluster.kubectlOk(['version', '-o', 'json']));
    assert.equal(version.serverVersion.major, '1');
    assert.equal(version.serverVersion.minor, '32');
    assert.match(await cluster.kubectlOk(['get', 'namespace', 'kube-system', '-o', 'name']), /namespace\/kube-system/);
  });

  test('RBAC decides: a user without a binding gets 403, a RoleBinding lets them in', async () => {
    const denied = await cluster.kubectl(['get', 'configmaps', '-n', 'default'], { as: 'bob' });
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /Forbidden.*User "bob" cannot list resource "configmaps"/);
    await cluster.kubectlOk(['create', 'rolebinding', 'developers-view', '--clusterrole=view', '--group=developers']);
    await eventually(() => cluster.kubectlOk(['get', 'configmaps', '-n', 'default'], { as: 'bob' }), {
      attempts: 100,
      intervalMs: 200,
    });
  });

  test('the front proxy’s CA and client name are published for extension API servers', async () => {
    const configMap = JSON.parse(
      await cluster.kubectlOk([
        'get',
        'configmap',
        'extension-apiserver-authentication',
        '-n',
        'kube-system',
        '-o',
        'json',
      ]),
    );
    assert.equal(configMap.data['requestheader-client-ca-file'].trim(), cluster.frontProxy.ca.cert.trim());
    assert.deepEqual(JSON.parse(configMap.data['requestheader-allowed-names']), [FRONT_PROXY_CLIENT]);
    assert.deepEqual(JSON.parse(configMap.data['requestheader-username-headers']), ['X-Remote-User']);
    assert.equal(configMap.data['client-ca-file'].trim(), cluster.ca.trim());
  });

  test('the namespace controller empties and removes a deleted namespace', async () => {
    await cluster.kubectlOk(['create', 'namespace', 'short-lived']);
    await cluster.kubectlOk(['create', 'configmap', 'settings', '-n', 'short-lived', '--from-literal=a=1']);
    await cluster.kubectlOk(['delete', 'namespace', 'short-lived', '--wait=false']);
    await eventually(
      async () => {
        const r = await cluster.kubectl(['get', 'namespace', 'short-lived']);
        assert.match(r.stderr, /NotFound/);
      },
      { attempts: 300, intervalMs: 500 },
    );
  });
});
