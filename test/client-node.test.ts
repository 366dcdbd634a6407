// End-to-end: @kubernetes/client-node against a real Gatehouse API server, loading the
// kubeconfig the server wrote: CRUD through CustomObjectsApi, then Watch and an informer.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ApiException,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  Watch,
  makeInformer,
  setHeaderOptions,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { storageSpec, TEST_STORAGES, type TestStorage } from './support/storages.ts';

const GROUP = { group: 'gatehouse.dev', version: 'v1alpha1', namespace: 'default', plural: 'apidefinitions' };
const PATH = '/apis/gatehouse.dev/v1alpha1/namespaces/default/apidefinitions';

interface ApiDefinition extends KubernetesObject {
  spec: { listenPath: string; upstream: { targets: { url: string }[] }; stripListenPath?: boolean };
}

function api(name: string, listenPath = `/${name}/`): ApiDefinition {
  return {
    apiVersion: 'gatehouse.dev/v1alpha1',
    kind: 'ApiDefinition',
    metadata: { name, labels: { suite: 'client-node' } },
    spec: { listenPath, upstream: { targets: [{ url: 'http://127.0.0.1:9000' }] } },
  };
}

/** A queue of events that a test awaits one at a time, in arrival order. */
class Events<T> {
  private readonly items: T[] = [];
  private waiting: ((item: T) => void) | undefined;
  push(item: T): void {
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve(item);
    } else this.items.push(item);
  }
  next(): Promise<T> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise((resolve) => (this.waiting = resolve));
  }
}

const scenarios = (storage: TestStorage) => () => {
  let t: TestApiServer;
  let kc: KubeConfig;
  let client: CustomObjectsApi;
  const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

  before(async () => {
    t = await startTestApiServer(await storageSpec(storage));
    kc = new KubeConfig();
    kc.loadFromFile(t.kubeconfigPath);
    client = kc.makeApiClient(CustomObjectsApi);
  });
  after(async () => {
    await t.stop();
  });

  it('applies server-side through KubernetesObjectApi: creates, updates, and reports a conflict as a 409', async () => {
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const ssa = PatchStrategy.ServerSideApply;
    const created = await objects.patch(api('ssa'), undefined, undefined, 'client-node', false, ssa);
    assert.equal(created.metadata?.managedFields?.[0]?.manager, 'client-node');
    assert.equal(created.metadata?.managedFields?.[0]?.operation, 'Apply');
    const updated = await objects.patch(api('ssa', '/ssa2/'), undefined, undefined, 'client-node', false, ssa);
    assert.equal(updated.spec.listenPath, '/ssa2/');
    const conflict = 'Apply failed with 1 conflict: conflict with "client-node": .spec.listenPath';
    await assert.rejects(
      objects.patch(api('ssa', '/other/'), undefined, undefined, 'other', false, ssa),
      (err: unknown) =>
        err instanceof ApiException &&
        err.code === 409 &&
        (JSON.parse(String(err.body)) as { message: string }).message === conflict,
    );
    const forced = await objects.patch(api('ssa', '/other/'), undefined, undefined, 'other', true, ssa);
    assert.equal(forced.spec.listenPath, '/other/');
    await objects.delete(api('ssa'));
  });

  it('creates, lists, gets, merge-patches and deletes custom objects', async () => {
    const created = (await client.createNamespacedCustomObject({ ...GROUP, body: api('shop') })) as ApiDefinition;
    assert.equal(created.metadata?.name, 'shop');
    assert.equal(created.metadata?.generation, 1);

    const list = (await client.listNamespacedCustomObject({ ...GROUP, labelSelector: 'suite=client-node' })) as {
      kind: string;
      items: ApiDefinition[];
    };
    assert.equal(list.kind, 'ApiDefinitionList');
    assert.deepEqual(
      list.items.map((i) => i.metadata?.name),
      ['shop'],
    );

    const got = (await client.getNamespacedCustomObject({ ...GROUP, name: 'shop' })) as ApiDefinition;
    assert.equal(got.spec.listenPath, '/shop/');

    const patched = (await client.patchNamespacedCustomObject(
      { ...GROUP, name: 'shop', body: { spec: { stripListenPath: true } } },
      merge,
    )) as ApiDefinition;
    assert.equal(patched.spec.stripListenPath, true);
    assert.equal(patched.spec.listenPath, '/shop/');
    assert.equal(patched.metadata?.generation, 2);

    await client.deleteNamespacedCustomObject({ ...GROUP, name: 'shop' });
    await assert.rejects(client.getNamespacedCustomObject({ ...GROUP, name: 'shop' }), (err: unknown) => {
      assert.ok(err instanceof ApiException);
      assert.equal(err.code, 404);
      const status = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
      assert.equal(status.reason, 'NotFound');
      assert.equal(status.message, 'apidefinitions.gatehouse.dev "shop" not found');
      return true;
    });
  });

  it('reports a conflicting create as a 409 ApiException', async () => {
    await client.createNamespacedCustomObject({ ...GROUP, body: api('dup') });
    await assert.rejects(client.createNamespacedCustomObject({ ...GROUP, body: api('dup') }), (err: unknown) => {
      assert.ok(err instanceof ApiException);
      assert.equal(err.code, 409);
      return true;
    });
    await client.deleteNamespacedCustomObject({ ...GROUP, name: 'dup' });
  });

  it('watches added, modified and deleted events', async () => {
    const { metadata } = (await client.listNamespacedCustomObject(GROUP)) as { metadata: { resourceVersion: string } };
    const events = new Events<[string, string, string]>();
    const watch = new Watch(kc);
    const controller = await watch.watch(
      PATH,
      { resourceVersion: metadata.resourceVersion },
      (phase, obj: ApiDefinition) => events.push([phase, obj.metadata?.name ?? '', obj.spec.listenPath]),
      () => {},
    );
    try {
      await client.createNamespacedCustomObject({ ...GROUP, body: api('watched') });
      await client.patchNamespacedCustomObject(
        { ...GROUP, name: 'watched', body: { spec: { listenPath: '/moved/' } } },
        merge,
      );
      await client.deleteNamespacedCustomObject({ ...GROUP, name: 'watched' });
      assert.deepEqual(await events.next(), ['ADDED', 'watched', '/watched/']);
      assert.deepEqual(await events.next(), ['MODIFIED', 'watched', '/moved/']);
      assert.deepEqual(await events.next(), ['DELETED', 'watched', '/moved/']);
    } finally {
      controller.abort();
    }
  });

  it('keeps an informer in sync with changes made through the API', async () => {
    await client.createNamespacedCustomObject({ ...GROUP, body: api('existing') });
    const informer = makeInformer<ApiDefinition>(kc, PATH, () => client.listNamespacedCustomObject(GROUP) as never);
    const events = new Events<[string, string, string]>();
    for (const verb of ['add', 'update', 'delete'] as const)
      informer.on(verb, (obj) => events.push([verb, obj.metadata?.name ?? '', obj.spec.listenPath]));
    informer.on('error', (err) => events.push(['error', String(err), '']));
    await informer.start();
    try {
      assert.deepEqual(await events.next(), ['add', 'existing', '/existing/']);
      await client.createNamespacedCustomObject({ ...GROUP, body: api('informed') });
      assert.deepEqual(await events.next(), ['add', 'informed', '/informed/']);
      await client.patchNamespacedCustomObject(
        { ...GROUP, name: 'informed', body: { spec: { listenPath: '/changed/' } } },
        merge,
      );
      assert.deepEqual(await events.next(), ['update', 'informed', '/changed/']);
      assert.equal(informer.get('informed', 'default')?.spec.listenPath, '/changed/');
      await client.deleteNamespacedCustomObject({ ...GROUP, name: 'informed' });
      assert.deepEqual(await events.next(), ['delete', 'informed', '/changed/']);
      assert.deepEqual(
        informer.list('default').map((o) => o.metadata?.name),
        ['existing'],
      );
    } finally {
      await informer.stop();
    }
  });
};

for (const storage of TEST_STORAGES)
  describe(`@kubernetes/client-node against the Gatehouse API server on ${storage}`, scenarios(storage));
