import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { inCluster, inClusterConfig, loadClientConfig } from './in-cluster.ts';
import { KubeconfigError } from './kubeconfig.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-in-cluster-'));
  await writeFile(join(dir, 'token'), 'sa-token\n');
  await writeFile(join(dir, 'ca.crt'), 'CA-PEM');
  await writeFile(join(dir, 'namespace'), 'gatehouse-system');
});
after(() => rm(dir, { recursive: true, force: true }));

const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };

test('the API at KUBERNETES_SERVICE_HOST:PORT, the mounted CA, token (a file, read again) and namespace', async () => {
  assert.deepEqual(await inClusterConfig({ env, dir }), {
    server: 'https://10.96.0.1:443',
    ca: 'CA-PEM',
    insecureSkipTlsVerify: false,
    token: 'sa-token',
    tokenFile: join(dir, 'token'),
    namespace: 'gatehouse-system',
  });
  const v6 = await inClusterConfig({ env: { ...env, KUBERNETES_SERVICE_HOST: 'fd00::1' }, dir });
  assert.equal(v6.server, 'https://[fd00::1]:443');
});

test('in a Pod only with the service address in the environment and a mounted token', async () => {
  assert.equal(await inCluster({ env, dir }), true);
  assert.equal(await inCluster({ env: {}, dir }), false);
  assert.equal(await inCluster({ env, dir: join(dir, 'absent') }), false);
});

test('outside a cluster, or with the token missing, the error says what is missing', async () => {
  await assert.rejects(inClusterConfig({ env: {}, dir }), (err: Error) => {
    assert.ok(err instanceof KubeconfigError);
    assert.match(err.message, /KUBERNETES_SERVICE_HOST/);
    return true;
  });
  await assert.rejects(inClusterConfig({ env, dir: join(dir, 'absent') }), /cannot read .*absent\/token/);
});

test('a kubeconfig when given, else the in-cluster configuration', async () => {
  await writeFile(
    join(dir, 'kubeconfig'),
    [
      'apiVersion: v1',
      'current-context: c',
      'clusters: [{name: k, cluster: {server: "https://127.0.0.1:6443"}}]',
      'users: [{name: u, user: {token: t}}]',
      'contexts: [{name: c, context: {cluster: k, user: u}}]',
    ].join('\n'),
  );
  assert.equal((await loadClientConfig(join(dir, 'kubeconfig'), { env, dir })).server, 'https://127.0.0.1:6443');
  assert.equal((await loadClientConfig(undefined, { env, dir })).server, 'https://10.96.0.1:443');
});
