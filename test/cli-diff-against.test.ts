// `gatehouse diff sync A --against B` as a user runs it, against two real API servers (staging and production):
// Syncs whose inventories name live objects there, B's objects read through B's kubeconfig or through a Sync's
// spec.kubeConfig Secret, namespaces matched, Secret values masked, kubectl diff's exit codes.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { gatehouse } from './support/cli.ts';

const GATEHOUSE = 'gatehouse.dev/v1alpha1';
const JSON_TYPE = { 'content-type': 'application/json' };

/** An ApiDefinition as a Sync leaves it: its sync labels and the file it came from. */
function api(namespace: string, name: string, url: string): Record<string, unknown> {
  return {
    apiVersion: GATEHOUSE,
    kind: 'ApiDefinition',
    metadata: {
      name,
      namespace,
      labels: { team: 'shop', 'gatehouse.dev/sync-name': 'apis', 'gatehouse.dev/sync-namespace': namespace },
      annotations: { 'gatehouse.dev/source-path': `overlays/${namespace}/${name}.yaml` },
    },
    spec: { listenPath: `/${name}/`, upstream: { targets: [{ url }] } },
  };
}

function secret(namespace: string, name: string, stringData: Record<string, string>): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, stringData };
}

describe('gatehouse diff sync --against', () => {
  let staging: TestApiServer;
  let production: TestApiServer;

  async function post(server: TestApiServer, path: string, body: unknown): Promise<void> {
    const res = await server.request(path, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify(body) });
    assert.equal(res.status, 201, await res.text());
  }

  async function create(server: TestApiServer, obj: Record<string, unknown>): Promise<void> {
    const { namespace } = obj.metadata as { namespace: string };
    const plural = obj.kind === 'Secret' ? 'secrets' : obj.kind === 'Sync' ? 'syncs' : 'apidefinitions';
    const prefix = obj.kind === 'Secret' ? '/api/v1' : `/apis/${GATEHOUSE}`;
    await post(server, `${prefix}/namespaces/${namespace}/${plural}`, obj);
  }

  /** A Sync whose last apply recorded `objects` (kind/name pairs in `objectNamespace`) in its inventory. */
  async function sync(
    server: TestApiServer,
    namespace: string,
    name: string,
    spec: Record<string, unknown>,
    objectNamespace: string,
    objects: string[],
  ): Promise<void> {
    const source = { sourceRef: { kind: 'GitRepository', name: 'platform' }, path: './apis', lock: false };
    await create(server, {
      apiVersion: GATEHOUSE,
      kind: 'Sync',
      metadata: { name, namespace },
      spec: { ...source, ...spec },
    });
    await setInventory(server, namespace, name, objectNamespace, objects);
  }

  async function setInventory(server: TestApiServer, namespace: string, name: string, of: string, objects: string[]) {
    const entries = objects.map((o) => {
      const [kind, object] = o.split('/');
      return kind === 'Secret'
        ? { id: `${of}_${object}__Secret`, v: 'v1' }
        : { id: `${of}_${object}_gatehouse.dev_${kind}`, v: GATEHOUSE };
    });
    const res = await server.request(`/apis/${GATEHOUSE}/namespaces/${namespace}/syncs/${name}/status`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ status: { inventory: { entries } } }),
    });
    assert.equal(res.status, 200, await res.text());
  }

  const diff = (...args: string[]) =>
    gatehouse(['diff', 'sync', 'apis', '--kubeconfig', staging.kubeconfigPath, '-n', 'staging', ...args]);

  before(async () => {
    [staging, production] = await Promise.all([startTestApiServer(), startTestApiServer()]);
    await post(staging, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'staging' } });
    await post(production, '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'production' },
    });
    for (const obj of [
      api('staging', 'orders', 'http://orders.staging:8080'),
      api('staging', 'cart', 'http://cart:8080'),
      api('staging', 'beta', 'http://beta:8080'),
      secret('staging', 'upstream-key', { key: 'staging-secret-value', shared: 'same' }),
    ])
      await create(staging, obj);
    for (const obj of [
      api('production', 'orders', 'http://orders.production:8080'),
      api('production', 'cart', 'http://cart:8080'),
      api('production', 'legacy', 'http://legacy:8080'),
      secret('production', 'upstream-key', { key: 'production-secret-value', shared: 'same' }),
    ])
      await create(production, obj);
    const objects = ['ApiDefinition/orders', 'ApiDefinition/cart', 'Secret/upstream-key'];
    await sync(staging, 'staging', 'apis', {}, 'staging', [...objects, 'ApiDefinition/beta']);
    await sync(production, 'production', 'apis', {}, 'production', [...objects, 'ApiDefinition/legacy']);
    // One controller, two environments: a Sync of the staging server applying to the production server.
    const kubeconfig = await readFile(production.kubeconfigPath, 'utf8');
    await create(staging, secret('staging', 'production-kubeconfig', { value: kubeconfig }));
    const remote = { kubeConfig: { secretRef: { name: 'production-kubeconfig' } }, targetNamespace: 'production' };
    await sync(staging, 'staging', 'production', remote, 'production', [...objects, 'ApiDefinition/legacy']);
  });
  after(() => Promise.all([staging?.stop(), production?.stop()]));

  it('shows objects only in A, only in B and the fields that differ, secret values masked; exits 1', async () => {
    const r = await diff('--against', 'production');
    assert.equal(r.code, 1, r.stderr);
    assert.equal(
      r.stdout,
      [
        'Namespaces matched: staging → production.',
        '~ ApiDefinition staging/orders ≠ production/orders',
        '    spec.upstream.targets[0].url   A "http://orders.staging:8080"   B "http://orders.production:8080"',
        '~ Secret staging/upstream-key ≠ production/upstream-key',
        '    data[key]   A "*** (A)"   B "*** (B)"',
        '- ApiDefinition staging/beta (only in A)',
        '+ ApiDefinition production/legacy (only in B)',
        '4 of 5 objects differ between Sync staging/apis (A) and Sync staging/production (B).',
        '',
      ].join('\n'),
    );
    assert.doesNotMatch(r.stdout + r.stderr, /secret-value|c2VjcmV0LXZhbHVl/);
  });

  it('reads B from another API server with --against-kubeconfig, and prints JSON with -o json', async () => {
    const r = await diff(
      '--against',
      'apis',
      '--against-namespace',
      'production',
      '--against-kubeconfig',
      production.kubeconfigPath,
      '-o',
      'json',
    );
    assert.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.a, 'staging/apis');
    assert.equal(out.b, 'production/apis');
    assert.deepEqual(out.namespaces, { staging: 'production' });
    const summary = out.objects.map((o: { kind: string; a?: { name: string }; b?: { name: string }; state: string }) =>
      [o.kind, o.a?.name ?? '', o.b?.name ?? '', o.state].join(' '),
    );
    assert.deepEqual(summary, [
      'ApiDefinition orders orders different',
      'ApiDefinition cart cart equal',
      'Secret upstream-key upstream-key different',
      'ApiDefinition beta  onlyA',
      'ApiDefinition  legacy onlyB',
    ]);
    assert.deepEqual(out.objects[0].changes, [
      { path: 'spec.upstream.targets[0].url', a: 'http://orders.staging:8080', b: 'http://orders.production:8080' },
    ]);
  });

  it('exits 0 when the environments hold the same objects; an explicit namespace map overrides', async () => {
    const kubectl = (...args: string[]) => production.kubectl(['-n', 'production', ...args]);
    await kubectl(
      'patch',
      'apidefinition',
      'orders',
      '--type=merge',
      '-p',
      JSON.stringify({
        spec: { upstream: { targets: [{ url: 'http://orders.staging:8080' }] } },
      }),
    );
    await kubectl(
      'patch',
      'secret',
      'upstream-key',
      '--type=merge',
      '-p',
      '{"stringData":{"key":"staging-secret-value"}}',
    );
    await kubectl('delete', 'apidefinition', 'legacy');
    await create(production, api('production', 'beta', 'http://beta:8080'));
    const objects = ['ApiDefinition/orders', 'ApiDefinition/cart', 'Secret/upstream-key', 'ApiDefinition/beta'];
    await setInventory(staging, 'staging', 'production', 'production', objects);
    const r = await diff('--against', 'production');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(
      r.stdout,
      'No differences: the 4 objects of Sync staging/apis (A) and Sync staging/production (B) match.\n',
    );
    // Mapping staging to another namespace, nothing matches.
    const unmatched = await diff('--against', 'production', '--map-namespace', 'staging=elsewhere', '-o', 'json');
    assert.equal(unmatched.code, 1, unmatched.stderr);
    const states = JSON.parse(unmatched.stdout).objects.map((o: { state: string }) => o.state);
    assert.deepEqual(states, ['onlyA', 'onlyA', 'onlyA', 'onlyA', 'onlyB', 'onlyB', 'onlyB', 'onlyB']);
  });

  it('exits 2 naming the Sync or the flag at fault', async () => {
    const missing = await diff('--against', 'nope');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /syncs\.gatehouse\.dev "nope" not found/);
    const badMap = await diff('--against', 'production', '--map-namespace', 'staging');
    assert.equal(badMap.code, 2);
    assert.match(badMap.stderr, /--map-namespace staging: expected FROM=TO, two namespace names/);
    const alone = await diff('--against-namespace', 'production');
    assert.equal(alone.code, 2);
    assert.match(alone.stderr, /--against-namespace, --against-kubeconfig and --map-namespace compare with --against/);
  });
});
