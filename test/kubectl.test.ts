// End-to-end: the real kubectl binary against a real Gatehouse API server.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KUBECTL, startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { storageSpec, TEST_STORAGES, type TestStorage } from './support/storages.ts';

function api(
  name: string,
  extra: {
    labels?: Record<string, string>;
    listenPath?: string;
    upstream?: string;
    namespace?: string;
    finalizers?: string[];
  } = {},
): string {
  return JSON.stringify({
    apiVersion: 'gatehouse.dev/v1alpha1',
    kind: 'ApiDefinition',
    metadata: {
      name,
      ...(extra.namespace ? { namespace: extra.namespace } : {}),
      labels: extra.labels ?? {},
      ...(extra.finalizers ? { finalizers: extra.finalizers } : {}),
    },
    spec: {
      listenPath: extra.listenPath ?? `/${name}/`,
      upstream: { targets: [{ url: extra.upstream ?? 'http://127.0.0.1:9000' }] },
    },
  });
}

const scenarios = (storage: TestStorage) => () => {
  let t: TestApiServer;
  before(async () => {
    t = await startTestApiServer(await storageSpec(storage));
  });
  after(async () => {
    await t.stop();
  });

  it('lists the resources in api-resources with short names', async () => {
    const out = await t.kubectl(['api-resources', '--api-group=gatehouse.dev']);
    assert.match(out, /apidefinitions\s+api,apis\s+gatehouse\.dev\/v1alpha1\s+true\s+ApiDefinition/);
    assert.match(out, /syncs\s+sync\s+gatehouse\.dev\/v1alpha1\s+true\s+Sync/);
  });

  it('applies (create, then configure) and prints the object back', async () => {
    assert.match(
      await t.kubectl(['apply', '-f', '-'], api('shop', { labels: { team: 'a' } })),
      /apidefinition\.gatehouse\.dev\/shop created/,
    );
    assert.match(
      await t.kubectl(['apply', '-f', '-'], api('shop', { labels: { team: 'a' }, listenPath: '/store/' })),
      /apidefinition\.gatehouse\.dev\/shop configured/,
    );
    assert.match(
      await t.kubectl(['apply', '-f', '-'], api('shop', { labels: { team: 'a' }, listenPath: '/store/' })),
      /apidefinition\.gatehouse\.dev\/shop unchanged/,
    );
    const obj = JSON.parse(await t.kubectl(['get', 'api', 'shop', '-o', 'json']));
    assert.equal(obj.spec.listenPath, '/store/');
    assert.equal(obj.metadata.generation, 2);
    assert.equal(obj.spec.auth.type, 'keyless', 'schema defaults are applied');
    const yaml = await t.kubectl(['get', 'apidefinition', 'shop', '-o', 'yaml']);
    assert.match(yaml, /listenPath: \/store\//);
  });

  it('prints tables with printer columns, wide columns, selectors and all namespaces', async () => {
    await t.kubectl(['create', 'namespace', 'team-b']);
    await t.kubectl(['apply', '-f', '-'], api('billing', { labels: { team: 'b' }, namespace: 'team-b' }));
    const table = await t.kubectl(['get', 'apis']);
    assert.match(table, /^NAME\s+LISTEN PATH\s+UPSTREAM\s+AUTH\s+READY\s+AGE/m);
    assert.match(table, /^shop\s+\/store\/\s+http:\/\/127\.0\.0\.1:9000\s+keyless/m);
    const wide = await t.kubectl(['get', 'apis', '-o', 'wide']);
    assert.match(wide.split('\n')[0], /VISIBILITY/);
    const all = await t.kubectl(['get', 'apis', '-A']);
    assert.match(all, /^NAMESPACE\s+NAME/m);
    assert.match(all, /^default\s+shop/m);
    assert.match(all, /^team-b\s+billing/m);
    const labelled = await t.kubectl(['get', 'apis', '-A', '-l', 'team=b', '-o', 'name']);
    assert.equal(labelled.trim(), 'apidefinition.gatehouse.dev/billing');
    const setBased = await t.kubectl(['get', 'apis', '-A', '-l', 'team in (a,c),!missing', '-o', 'name']);
    assert.equal(setBased.trim(), 'apidefinition.gatehouse.dev/shop');
    const byField = await t.kubectl([
      'get',
      'apis',
      '-A',
      '--field-selector',
      'metadata.namespace=team-b',
      '-o',
      'name',
    ]);
    assert.equal(byField.trim(), 'apidefinition.gatehouse.dev/billing');
    const byPath = await t.kubectl(['get', 'apis', '-A', '--field-selector', 'spec.listenPath=/store/', '-o', 'name']);
    assert.equal(byPath.trim(), 'apidefinition.gatehouse.dev/shop');
    const bad = await t.kubectlResult(['get', 'apis', '--field-selector', 'spec.upstream.timeout=1s']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /field label not supported: spec\.upstream\.timeout/);
  });

  it('streams live changes to get -w', async () => {
    const child = spawn(KUBECTL, [
      '--kubeconfig',
      t.kubeconfigPath,
      '--cache-dir',
      join(t.dir, 'kube-cache'),
      'get',
      'apis',
      '-w',
      '--output-watch-events',
    ]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const waitFor = async (re: RegExp) => {
      for (let i = 0; i < 200 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(out, re);
    };
    try {
      await waitFor(/ADDED\s+shop/);
      await t.kubectl(['apply', '-f', '-'], api('live'));
      await waitFor(/ADDED\s+live/);
      await t.kubectl(['label', 'api', 'live', 'stage=beta']);
      await waitFor(/MODIFIED\s+live/);
      await t.kubectl(['delete', 'api', 'live']);
      await waitFor(/DELETED\s+live/);
    } finally {
      child.kill();
    }
  });

  it('patches, labels and annotates', async () => {
    await t.kubectl(['patch', 'api', 'shop', '--type', 'merge', '-p', '{"spec":{"stripListenPath":true}}']);
    await t.kubectl([
      'patch',
      'api',
      'shop',
      '--type',
      'json',
      '-p',
      '[{"op":"replace","path":"/spec/listenPath","value":"/shop/"}]',
    ]);
    await t.kubectl(['label', 'api', 'shop', 'tier=gold']);
    await t.kubectl(['annotate', 'api', 'shop', 'owner=payments']);
    const obj = JSON.parse(await t.kubectl(['get', 'api', 'shop', '-o', 'json']));
    assert.equal(obj.spec.stripListenPath, true);
    assert.equal(obj.spec.listenPath, '/shop/');
    assert.equal(obj.metadata.labels.tier, 'gold');
    assert.equal(obj.metadata.annotations.owner, 'payments');
    const strategic = await t.kubectlResult(['patch', 'api', 'shop', '-p', '{"spec":{"stripListenPath":false}}']);
    assert.notEqual(strategic.code, 0);
    assert.match(strategic.stderr, /application\/strategic-merge-patch\+json/);
  });

  it('explains the schema', async () => {
    const out = await t.kubectl(['explain', 'apidefinition.spec']);
    assert.match(out, /KIND:\s+ApiDefinition/);
    assert.match(out, /listenPath\s+<string>/);
    assert.match(out, /upstream\s+<Object>/);
  });

  it('answers a stale update with 409 Conflict', async () => {
    const obj = JSON.parse(await t.kubectl(['get', 'api', 'shop', '-o', 'json']));
    await t.kubectl(['label', 'api', 'shop', 'bump=1']);
    obj.spec.listenPath = '/stale/';
    const r = await t.kubectlResult(['replace', '-f', '-'], JSON.stringify(obj));
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /Operation cannot be fulfilled on apidefinitions\.gatehouse\.dev "shop": the object has been modified/,
    );
    assert.equal(JSON.parse(await t.kubectl(['get', 'api', 'shop', '-o', 'json'])).spec.listenPath, '/shop/');
  });

  it('answers an invalid ApiDefinition with 422 naming the field, and stores nothing', async () => {
    const bad = JSON.parse(api('broken'));
    bad.spec.listenPath = 'no-slash';
    bad.spec.upstream.targets[0].url = 'ftp://example';
    const r = await t.kubectlResult(['apply', '-f', '-'], JSON.stringify(bad));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /The ApiDefinition "broken" is invalid/);
    // A pattern is not a blocking schema error: the kind's own checks run too, so one answer names both fields.
    assert.match(r.stderr, /spec\.listenPath: Invalid value: "no-slash"/);
    assert.match(r.stderr, /spec\.upstream\.targets\[0\]\.url: Invalid value: "ftp:\/\/example"/);
    bad.spec.listenPath = '/ok/';
    const url = await t.kubectlResult(['apply', '-f', '-'], JSON.stringify(bad));
    assert.notEqual(url.code, 0);
    assert.match(url.stderr, /spec\.upstream\.targets\[0\]\.url: Invalid value: "ftp:\/\/example"/);
    assert.doesNotMatch(url.stderr, /listenPath/);
    const get = await t.kubectlResult(['get', 'api', 'broken']);
    assert.match(get.stderr, /NotFound|not found/);
  });

  // What a null means was checked against a real kube-apiserver serving a CRD of the same shape.
  it('takes a null in a create or patch as an absent field, defaulted or required, as kube-apiserver does', async () => {
    const created = JSON.parse(api('nulls', { labels: { team: 'a' } }));
    created.metadata.labels.empty = null;
    created.metadata.annotations = null;
    created.spec.stripListenPath = null;
    created.spec.upstream.targets[0].weight = null;
    const path = '/apis/gatehouse.dev/v1alpha1/namespaces/default/apidefinitions';
    await t.kubectl(['create', '--raw', path, '-f', '-'], JSON.stringify(created));
    const obj = JSON.parse(await t.kubectl(['get', 'api', 'nulls', '-o', 'json']));
    assert.deepEqual(obj.metadata.labels, { team: 'a', empty: '' });
    assert.equal(obj.metadata.annotations, undefined);
    assert.equal(obj.spec.stripListenPath, false);
    assert.deepEqual(obj.spec.upstream.targets, [{ url: 'http://127.0.0.1:9000' }]);
    const patch = '[{"op":"add","path":"/spec/upstream/targets/0/weight","value":null}]';
    await t.kubectl(['patch', 'api', 'nulls', '--type', 'json', '-p', patch]);
    assert.deepEqual(JSON.parse(await t.kubectl(['get', 'api', 'nulls', '-o', 'json'])).spec.upstream.targets, [
      { url: 'http://127.0.0.1:9000' },
    ]);
    const required = await t.kubectlResult([
      'patch',
      'api',
      'nulls',
      '--type',
      'merge',
      '-p',
      '{"spec":{"upstream":null}}',
    ]);
    assert.notEqual(required.code, 0);
    assert.match(required.stderr, /spec\.upstream: Required value/);
    // A missing field is a blocking schema error: the kind's own checks did not run, and the answer says so.
    assert.match(required.stderr, /<nil>: Invalid value: "null": some validation rules were not checked/);
    await t.kubectl(['delete', 'api', 'nulls']);
  });

  it('keeps the nulls of an applied configuration: owned, defaulted where a default is, else refused', async () => {
    const blanks = (spec: string[]) =>
      [
        'apiVersion: gatehouse.dev/v1alpha1',
        'kind: ApiDefinition',
        'metadata:',
        '  name: blanks',
        '  labels:',
        '  annotations:',
        'spec:',
        ...spec,
      ].join('\n');
    const upstream = ['  upstream:', '    targets:', '    - url: http://127.0.0.1:9000'];
    const apply = ['apply', '--server-side', '--field-manager=blanks', '-f', '-'];
    await t.kubectl(apply, blanks(['  listenPath: /blanks/', '  stripListenPath:', ...upstream]));
    const obj = JSON.parse(await t.kubectl(['get', 'api', 'blanks', '-o', 'json', '--show-managed-fields']));
    assert.equal(obj.metadata.labels, undefined);
    assert.equal(obj.metadata.annotations, undefined);
    assert.equal(obj.spec.stripListenPath, false);
    const owned = obj.metadata.managedFields.find((m: { manager: string }) => m.manager === 'blanks').fieldsV1;
    assert.deepEqual(owned['f:metadata'], { 'f:annotations': {}, 'f:labels': {} });
    assert.deepEqual(owned['f:spec']['f:stripListenPath'], {});
    const weight = await t.kubectlResult(apply, blanks(['  listenPath: /blanks/', ...upstream, '      weight:']));
    assert.notEqual(weight.code, 0);
    assert.match(
      weight.stderr,
      /spec\.upstream\.targets\[0\]\.weight: Invalid value: "null": .* must be of type integer: "null"/,
    );
    assert.match(weight.stderr, /<nil>: Invalid value: "null": some validation rules were not checked/);
    const listenPath = await t.kubectlResult(apply, blanks(['  listenPath:', ...upstream]));
    assert.match(listenPath.stderr, /spec\.listenPath: Invalid value: "null": .* must be of type string: "null"/);
    await t.kubectl(['delete', 'api', 'blanks']);
  });

  it('refuses unknown fields under strict validation', async () => {
    const bad = JSON.parse(api('strict'));
    bad.spec.bogus = true;
    const r = await t.kubectlResult(['apply', '--validate=strict', '-f', '-'], JSON.stringify(bad));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown field "spec\.bogus"/);
  });

  it('deletes, waiting, and holds objects with finalizers until they are released', async () => {
    await t.kubectl(['apply', '-f', '-'], api('doomed'));
    assert.match(await t.kubectl(['delete', 'api', 'doomed', '--wait', '--timeout=20s']), /deleted/);
    assert.match((await t.kubectlResult(['get', 'api', 'doomed'])).stderr, /not found/);

    await t.kubectl(['apply', '-f', '-'], api('held', { finalizers: ['gatehouse.dev/test'] }));
    await t.kubectl(['delete', 'api', 'held', '--wait=false']);
    const held = JSON.parse(await t.kubectl(['get', 'api', 'held', '-o', 'json']));
    assert.ok(held.metadata.deletionTimestamp, 'deletionTimestamp is set while a finalizer remains');
    const waiting = spawn(KUBECTL, [
      '--kubeconfig',
      t.kubeconfigPath,
      '--cache-dir',
      join(t.dir, 'kube-cache'),
      'wait',
      '--for=delete',
      'api/held',
      '--timeout=30s',
    ]);
    const exited = new Promise<number>((resolve) => waiting.on('exit', (code) => resolve(code ?? 1)));
    await t.kubectl(['patch', 'api', 'held', '--type', 'merge', '-p', '{"metadata":{"finalizers":null}}']);
    assert.equal(await exited, 0);
    assert.match((await t.kubectlResult(['get', 'api', 'held'])).stderr, /not found/);
  });

  it('serves core kinds: namespaces, secrets, configmaps', async () => {
    // Manifests go through apply as JSON; kubectl's imperative `create secret|configmap`
    // (protobuf bodies) are covered by kubectl-imperative.test.ts.
    await t.kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'creds' },
        stringData: { password: 's3cret' },
      }),
    );
    const secret = JSON.parse(await t.kubectl(['get', 'secret', 'creds', '-o', 'json']));
    assert.equal(Buffer.from(secret.data.password, 'base64').toString(), 's3cret');
    assert.equal(secret.stringData, undefined);
    await t.kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { mode: 'fast' } }),
    );
    assert.match(await t.kubectl(['get', 'configmaps']), /settings/);
    assert.match(await t.kubectl(['get', 'ns']), /^default\s+Active|^default/m);
    // A namespace goes with its contents: billing in team-b is deleted before team-b itself.
    await t.kubectl(['delete', 'namespace', 'team-b', '--wait', '--timeout=20s']);
    assert.doesNotMatch(await t.kubectl(['get', 'apis', '-A', '-o', 'name']), /billing/);
    assert.match((await t.kubectlResult(['get', 'ns', 'team-b'])).stderr, /not found/);
  });
};

for (const storage of TEST_STORAGES)
  describe(`kubectl against the Gatehouse API server on ${storage}`, scenarios(storage));
