// The history below HTTP, on a real registry over memory storage: what each write records, by whom, the bound,
// attribution to a Sync only when its identity writes, and the history's removal with the object.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../api/kind.ts';
import type { ApiDefinitionHistory } from '../api/kinds/api-definition/history.ts';
import { allKinds } from '../api/kinds.ts';
import { MemoryStorage } from '../storage/memory/memory-storage.ts';
import { isStorageError } from '../storage/storage.ts';
import type { UserInfo } from './auth/auth.ts';
import { ApiHistory, HISTORY_RESOURCE } from './api-history.ts';
import { Registry } from './registry/registry.ts';
import type { ResourceStore } from './registry/store.ts';

const GROUP = 'gatehouse.dev';
const user = (name: string): UserInfo => ({ name, uid: name, groups: ['system:authenticated'] });
const as = (name: string) => ({ dryRun: false, fieldValidation: 'Strict' as const, user: user(name) });

function api(name: string, url: string, extra: Record<string, unknown> = {}, labels?: Record<string, string>) {
  return {
    apiVersion: `${GROUP}/v1alpha1`,
    kind: 'ApiDefinition',
    metadata: { name, ...(labels ? { labels } : {}) },
    spec: { listenPath: `/${name}`, upstream: { targets: [{ url }] }, ...extra },
  };
}

async function setup(t: { after(fn: () => unknown): void }, limit = 3) {
  const storage = new MemoryStorage();
  const history: ApiHistory = new ApiHistory({ storage, limit, store: (g, p) => registry.store(g, p) });
  const registry: Registry = new Registry(allKinds, storage, undefined, history);
  await registry.bootstrap();
  t.after(async () => {
    registry.close();
    await storage.close();
  });
  const apis = registry.store(GROUP, 'apidefinitions') as ResourceStore;
  const read = async (name: string) =>
    (
      await history.subresource().handle({
        verb: 'get',
        namespace: 'default',
        name,
        body: undefined,
        query: new URLSearchParams(),
        user: user('reader'),
        store: apis,
      })
    ).body as ApiDefinitionHistory;
  return { storage, registry, apis, read };
}

async function update(apis: ResourceStore, name: string, change: (spec: Record<string, unknown>) => void, by: string) {
  const current = await apis.get('default', name);
  change(current.spec as Record<string, unknown>);
  return (await apis.update('default', name, current, as(by))).object;
}

test('records each generation with its writer and changed fields, masks header values, keeps the newest', async (t) => {
  const { apis, read } = await setup(t);
  const created = (await apis.create('default', api('orders', 'http://127.0.0.1:9001'), as('alice'))).object;
  await update(
    apis,
    'orders',
    (s) => Object.assign(s, { requestHeaders: { set: { Authorization: 'Bearer s3' } } }),
    'bob',
  );
  // A write that changes no spec field makes no generation.
  const labelled = await apis.get('default', 'orders');
  labelled.metadata.labels = { team: 'a' };
  await apis.update('default', 'orders', labelled, as('carol'));
  const third = await update(
    apis,
    'orders',
    (s) => Object.assign(s, { upstream: { targets: [{ url: 'http://127.0.0.1:9002' }] } }),
    'bob',
  );

  const history = await read('orders');
  assert.equal(history.kind, 'ApiDefinitionHistory');
  assert.equal(history.metadata.uid, created.metadata.uid);
  assert.deepEqual(
    history.entries.map((e) => [e.generation, e.user]),
    [
      [1, 'alice'],
      [2, 'bob'],
      [3, 'bob'],
    ],
  );
  assert.equal(history.entries[0].resourceVersion, created.metadata.resourceVersion);
  assert.equal(history.entries[2].resourceVersion, third.metadata.resourceVersion);
  assert.ok(history.entries[0].changes.some((c) => c.path === 'spec.listenPath' && c.after === '/orders'));
  assert.deepEqual(history.entries[1].changes, [{ path: 'spec.requestHeaders.set[Authorization]', after: '***' }]);
  assert.deepEqual(history.entries[2].changes, [
    { path: 'spec.upstream.targets[0].url', before: 'http://127.0.0.1:9001', after: 'http://127.0.0.1:9002' },
  ]);

  // The bound (3 here): the oldest generation goes.
  await update(apis, 'orders', (s) => Object.assign(s, { listenPath: '/v2/orders' }), 'alice');
  assert.deepEqual(
    (await read('orders')).entries.map((e) => e.generation),
    [2, 3, 4],
  );
});

test('a write fails, records nothing; a dry run records nothing; the history goes with the object', async (t) => {
  const { storage, apis, read } = await setup(t);
  const created = (await apis.create('default', api('users', 'http://127.0.0.1:9001'), as('alice'))).object;
  const stale = { ...created, spec: { ...(created.spec as object), listenPath: '/stale' } };
  await apis.update('default', 'users', stale, as('bob'));
  await assert.rejects(apis.update('default', 'users', stale, as('mallory')), /modified/);
  const dry = { ...(await apis.get('default', 'users')), spec: { ...(created.spec as object), listenPath: '/dry' } };
  await apis.update('default', 'users', dry, { ...as('mallory'), dryRun: true });
  assert.deepEqual(
    (await read('users')).entries.map((e) => e.user),
    ['alice', 'bob'],
  );

  await apis.delete('default', 'users', {}, as('alice'));
  await assert.rejects(storage.get({ resource: HISTORY_RESOURCE, namespace: 'default', name: 'users' }), (err) =>
    isStorageError(err, 'NotFound'),
  );
  // An object of the same name starts a history of its own.
  await apis.create('default', api('users', 'http://127.0.0.1:9003'), as('carol'));
  assert.deepEqual(
    (await read('users')).entries.map((e) => [e.generation, e.user]),
    [[1, 'carol']],
  );
});

test("a write is the Sync's only when the identity that Sync applies as makes it", async (t) => {
  const { registry, apis, read } = await setup(t);
  const syncs = registry.store(GROUP, 'syncs') as ResourceStore;
  const repos = registry.store(GROUP, 'gitrepositories') as ResourceStore;
  const revision = 'main@sha1:0123456789abcdef0123456789abcdef01234567';
  const repo = (
    await repos.create(
      'default',
      {
        apiVersion: `${GROUP}/v1alpha1`,
        kind: 'GitRepository',
        metadata: { name: 'platform' },
        spec: { url: 'file:///git' },
      },
      as('admin'),
    )
  ).object;
  const artifact = { revision, author: 'Ann Author <ann@example.com>', subject: 'Point orders at v2' };
  await repos.update('default', 'platform', { ...repo, status: { artifact } }, as('controller'), 'status');
  const sync = (
    await syncs.create(
      'default',
      {
        apiVersion: `${GROUP}/v1alpha1`,
        kind: 'Sync',
        metadata: { name: 'apis' },
        spec: { sourceRef: { kind: 'GitRepository', name: 'platform' }, path: './' },
      },
      as('admin'),
    )
  ).object as KubeObject;
  const status = { appliedBy: 'system:gatehouse:controller', lastAttemptedRevision: revision };
  await syncs.update('default', 'apis', { ...sync, status }, as('controller'), 'status');

  const labels = { 'gatehouse.dev/sync-name': 'apis', 'gatehouse.dev/sync-namespace': 'default' };
  await apis.create('default', api('orders', 'http://127.0.0.1:9001', {}, labels), as('system:gatehouse:controller'));
  await update(apis, 'orders', (s) => Object.assign(s, { listenPath: '/by-hand' }), 'alice');
  const [bySync, byHand] = (await read('orders')).entries;
  assert.deepEqual(bySync.sync, { namespace: 'default', name: 'apis', ...artifact });
  assert.equal(bySync.user, 'system:gatehouse:controller');
  assert.equal(byHand.sync, undefined);
  assert.equal(byHand.user, 'alice');
});
