// The real kubectl's server-side apply against the API server: create, update, a conflict
// and --force-conflicts, two field managers sharing one object, a field removed by no longer
// applying it, kubectl diff --server-side, and ApplySets (apply --prune --applyset).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';

let api: TestApiServer;
before(async () => {
  api = await startTestApiServer();
});
after(async () => {
  await api.stop();
});

function manifest(listenPath: string, extra = '', name = 'shop'): string {
  return `apiVersion: gatehouse.dev/v1alpha1
kind: ApiDefinition
metadata:
  name: ${name}
spec:
  listenPath: ${listenPath}
  upstream:
    targets:
      - url: http://127.0.0.1:9000
${extra}`;
}

/** A parsed JSON document. */
// biome-ignore lint/suspicious/noExplicitAny: the test reads API responses loosely, deep into JSON whose shape it asserts
type Json = Record<string, any>;

const SSA = ['apply', '--server-side', '-f', '-'];

async function get(): Promise<Json> {
  return JSON.parse(await api.kubectl(['get', 'apidefinition', 'shop', '-o', 'json', '--show-managed-fields']));
}

function managers(obj: Json): string[] {
  const entries = obj.metadata.managedFields as { manager: string; operation: string }[];
  return entries.map((e) => `${e.manager}/${e.operation}`);
}

describe('kubectl apply --server-side', () => {
  it('creates, then updates, recording kubectl as the applier', async () => {
    assert.match(await api.kubectl(SSA, manifest('/shop/')), /apidefinition.gatehouse.dev\/shop serverside-applied/);
    assert.match(await api.kubectl(SSA, manifest('/shop2/')), /serverside-applied/);
    const obj = await get();
    assert.equal(obj.spec.listenPath, '/shop2/');
    assert.deepEqual(managers(obj), ['kubectl/Apply']);
    assert.deepEqual(obj.metadata.managedFields[0].fieldsV1, {
      'f:spec': {
        'f:listenPath': {},
        'f:upstream': { 'f:targets': { 'k:{"url":"http://127.0.0.1:9000"}': { '.': {}, 'f:url': {} } } },
      },
    });
  });

  it('reports a conflict with the manager and field, and --force-conflicts takes the field over', async () => {
    const refused = await api.kubectlResult([...SSA, '--field-manager=other'], manifest('/other/'));
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Apply failed with 1 conflict: conflict with "kubectl": \.spec\.listenPath/);
    assert.equal((await get()).spec.listenPath, '/shop2/');
    await api.kubectl([...SSA, '--field-manager=other', '--force-conflicts'], manifest('/other/'));
    const obj = await get();
    assert.equal(obj.spec.listenPath, '/other/');
    const kubectl = obj.metadata.managedFields.find((e: { manager: string }) => e.manager === 'kubectl');
    assert.equal(kubectl.fieldsV1['f:spec']['f:listenPath'], undefined, 'kubectl no longer owns listenPath');
  });

  it('lets two managers share one object, and removes a field its manager no longer applies', async () => {
    // "headers" applies only its header; kubectl's next apply (without it) leaves it alone.
    const headers = `apiVersion: gatehouse.dev/v1alpha1
kind: ApiDefinition
metadata:
  name: shop
spec:
  responseHeaders:
    set:
      x-owner: headers
`;
    await api.kubectl([...SSA, '--field-manager=headers'], headers);
    await api.kubectl([...SSA, '--force-conflicts'], manifest('/other/', '  stripListenPath: true\n'));
    let obj = await get();
    assert.deepEqual(obj.spec.responseHeaders, { set: { 'x-owner': 'headers' } });
    assert.equal(obj.spec.stripListenPath, true);
    assert.deepEqual(managers(obj).sort(), ['headers/Apply', 'kubectl/Apply', 'other/Apply']);
    // kubectl stops applying stripListenPath: it goes back to its default; the header stays.
    await api.kubectl(SSA, manifest('/other/'));
    obj = await get();
    assert.equal(obj.spec.stripListenPath, false);
    assert.deepEqual(obj.spec.responseHeaders, { set: { 'x-owner': 'headers' } });
  });

  it('kubectl diff --server-side shows what an apply would change, and nothing when it changes nothing', async () => {
    const diff = ['diff', '--server-side', '--force-conflicts', '-f', '-'];
    const changed = await api.kubectlResult(diff, manifest('/diff/'));
    assert.equal(changed.code, 1, changed.stderr);
    assert.match(changed.stdout, /- {2}listenPath: \/other\/\n\+ {2}listenPath: \/diff\//);
    assert.equal((await get()).spec.listenPath, '/other/', 'a diff stores nothing');
    const same = await api.kubectlResult(['diff', '--server-side', '-f', '-'], manifest('/other/'));
    assert.equal(same.code, 0, same.stdout + same.stderr);
  });

  it('takes an object over from client-side kubectl apply where the live value is still as applied', async () => {
    await api.kubectl(['apply', '-f', '-'], manifest('/legacy/', '  stripListenPath: true\n', 'legacy'));
    // Someone else changes stripListenPath since: that field stays a conflict; listenPath does not.
    await api.kubectl(['patch', 'apidefinition', 'legacy', '--type=merge', '-p', '{"spec":{"stripListenPath":false}}']);
    const refused = await api.kubectlResult(SSA, manifest('/legacy2/', '  stripListenPath: true\n', 'legacy'));
    assert.equal(refused.code, 1);
    // As kube-apiserver 1.32 prints an Update manager: its API version, no time (checked in test:k8s).
    const message = 'Apply failed with 1 conflict: conflict with "kubectl-patch" using gatehouse.dev/v1alpha1: ';
    assert.ok(refused.stderr.includes(`${message}.spec.stripListenPath\n`), refused.stderr);
    await api.kubectl(SSA, manifest('/legacy2/', '', 'legacy'));
    const get = ['get', 'apidefinition', 'legacy', '-o', 'json', '--show-managed-fields'];
    const obj = JSON.parse(await api.kubectl(get));
    assert.equal(obj.spec.listenPath, '/legacy2/');
    const kubectl = obj.metadata.managedFields.find((e: { manager: string }) => e.manager === 'kubectl');
    assert.deepEqual(kubectl.fieldsV1['f:spec']['f:listenPath'], {});
  });

  it('apply --prune --applyset: prunes what left the set, and nothing outside it', async () => {
    // ApplySets are alpha in kubectl 1.32: enabled by this variable, which the kubectl processes inherit.
    process.env.KUBECTL_APPLYSET = 'true';
    const set = (apis: string[]) =>
      [
        ...apis.map((name) => manifest(`/${name}/`, '', name)),
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: set-cfg\n',
      ]
        .map((doc) => doc.replace('metadata:\n', 'metadata:\n  namespace: default\n'))
        .join('---\n');
    const apply = ['apply', '--server-side', '--prune', '--applyset=release', '-n', 'default', '-f', '-'];
    await api.kubectl(SSA, manifest('/outside/', '', 'outside'));
    assert.match(
      await api.kubectl(apply, set(['in-a', 'in-b'])),
      /apidefinition.gatehouse.dev\/in-b serverside-applied/,
    );
    const pruned = await api.kubectl(apply, set(['in-a']));
    assert.match(pruned, /^apidefinition.gatehouse.dev\/in-b pruned$/m);
    assert.doesNotMatch(pruned, /outside|set-cfg pruned/);
    const names = await api.kubectl(['get', 'apidefinitions', '-n', 'default', '-o', 'name']);
    assert.ok(names.includes('apidefinition.gatehouse.dev/in-a') && names.includes('/outside'), names);
    assert.ok(!names.includes('/in-b'), names);
    // The parent Secret records the set as kubectl's ApplySet specification (KEP-3659) says.
    const parent = JSON.parse(await api.kubectl(['get', 'secret', 'release', '-n', 'default', '-o', 'json']));
    assert.match(parent.metadata.labels['applyset.kubernetes.io/id'], /^applyset-[\w-]+-v1$/);
    const groupKinds = parent.metadata.annotations['applyset.kubernetes.io/contains-group-kinds'];
    assert.equal(groupKinds, 'ApiDefinition.gatehouse.dev,ConfigMap');
  });

  it('applies core kinds too: a ConfigMap and a Namespace', async () => {
    const core = (value: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
data:
  key: ${value}
---
apiVersion: v1
kind: Namespace
metadata:
  name: team-a
  labels:
    team: a
`;
    const out = await api.kubectl(SSA, core('a'));
    assert.match(out, /configmap\/cfg serverside-applied\nnamespace\/team-a serverside-applied/);
    await api.kubectl(SSA, core('b'));
    const cm = JSON.parse(await api.kubectl(['get', 'configmap', 'cfg', '-o', 'json', '--show-managed-fields']));
    assert.deepEqual(cm.data, { key: 'b' });
    const entries = cm.metadata.managedFields as { manager: string; fieldsV1: unknown }[];
    const owners = entries.map((e) => [e.manager, e.fieldsV1]);
    assert.deepEqual(owners, [['kubectl', { 'f:data': { 'f:key': {} } }]]);
    const ns = JSON.parse(await api.kubectl(['get', 'namespace', 'team-a', '-o', 'json']));
    assert.equal(ns.metadata.labels.team, 'a');
  });
});
