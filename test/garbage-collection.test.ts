// Garbage collection by ownerReferences, through the real API server and kubectl: background,
// foreground and orphan propagation (DeleteOptions and `kubectl delete --cascade`), owners that
// never existed, a foreground deletion left pending across a restart, and one collector among
// two API servers sharing PostgreSQL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configMapKind } from '../src/api/core/config-map/index.ts';
import { apiDefinitionKind } from '../src/api/kinds/api-definition/index.ts';
import type { KubeObject } from '../src/api/kind.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { isStatusError } from '../src/client/errors.ts';
import { KubeClient } from '../src/client/rest.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { eventually } from './support/eventually.ts';
import { freshPgliteDir } from './support/pglite.ts';
import { startPostgres, type TestPostgres } from './support/postgres.ts';

const SLOW = { attempts: 400, intervalMs: 50 };
const CM_PATH = '/api/v1/namespaces/default/configmaps';
const API_PATH = '/apis/gatehouse.dev/v1alpha1/namespaces/default/apidefinitions';

interface Ref {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  blockOwnerDeletion?: boolean;
}

async function apiDefinition(client: KubeClient, name: string): Promise<KubeObject> {
  return client.create(apiDefinitionKind, {
    apiVersion: 'gatehouse.dev/v1alpha1',
    kind: 'ApiDefinition',
    metadata: { name, namespace: 'default' },
    spec: { listenPath: `/${name}`, upstream: { targets: [{ url: 'http://127.0.0.1:9' }] } },
  });
}

function refTo(owner: KubeObject, extra: Partial<Ref> = {}): Ref {
  const { apiVersion, kind } = owner;
  return { apiVersion, kind, name: owner.metadata.name as string, uid: owner.metadata.uid as string, ...extra };
}

async function configMap(client: KubeClient, name: string, owners: Ref[], finalizers?: string[]): Promise<KubeObject> {
  const metadata = { name, namespace: 'default', ownerReferences: owners, ...(finalizers ? { finalizers } : {}) };
  return client.create(configMapKind, { apiVersion: 'v1', kind: 'ConfigMap', metadata, data: { k: name } });
}

async function absent(client: KubeClient, name: string, kind = configMapKind): Promise<void> {
  await assert.rejects(client.get(kind, name, 'default'), (err: unknown) => isStatusError(err, 'NotFound'));
}

async function deleteWith(t: TestApiServer, path: string, options: Record<string, unknown>): Promise<Response> {
  const body = JSON.stringify({ apiVersion: 'v1', kind: 'DeleteOptions', ...options });
  return t.request(path, { method: 'DELETE', headers: { 'content-type': 'application/json' }, body });
}

describe('garbage collection through the API', () => {
  let t: TestApiServer;
  let client: KubeClient;

  before(async () => {
    t = await startTestApiServer();
    client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
  });
  after(async () => {
    await client.close();
    await t.stop();
  });

  it('background (the default): the dependents of a deleted ApiDefinition are deleted after it', async () => {
    const owner = await apiDefinition(client, 'bg');
    await configMap(client, 'bg-a', [refTo(owner)]);
    await configMap(client, 'bg-b', [refTo(owner, { blockOwnerDeletion: true })]);
    const res = await t.request(`${API_PATH}/bg`, { method: 'DELETE' });
    assert.equal(res.status, 200, 'no finalizer holds the owner');
    await absent(client, 'bg', apiDefinitionKind);
    await eventually(() => Promise.all([absent(client, 'bg-a'), absent(client, 'bg-b')]), SLOW);
  });

  it('a dependent with another owner keeps it and loses only the reference to the deleted one', async () => {
    const gone = await apiDefinition(client, 'shared-gone');
    const stays = await apiDefinition(client, 'shared-stays');
    await configMap(client, 'shared-cm', [refTo(gone), refTo(stays)]);
    await client.delete(apiDefinitionKind, 'shared-gone', 'default');
    await eventually(async () => {
      const cm = await client.get(configMapKind, 'shared-cm', 'default');
      assert.deepEqual(
        (cm.metadata.ownerReferences as Ref[]).map((r) => r.name),
        ['shared-stays'],
      );
    }, SLOW);
  });

  it('foreground: the owner waits, marked, until its blocking dependents are gone', async () => {
    const owner = await apiDefinition(client, 'fg');
    // A finalizer of its own keeps the blocking dependent, so the owner can be seen waiting for it.
    await configMap(client, 'fg-held', [refTo(owner, { blockOwnerDeletion: true })], ['example.com/hold']);
    await configMap(client, 'fg-free', [refTo(owner)]);
    const res = await deleteWith(t, `${API_PATH}/fg`, { propagationPolicy: 'Foreground' });
    assert.equal(res.status, 202);
    const marked = (await res.json()) as KubeObject;
    assert.ok(marked.metadata.deletionTimestamp);
    assert.deepEqual(marked.metadata.finalizers, ['foregroundDeletion']);
    await eventually(async () => {
      await absent(client, 'fg-free');
      const held = await client.get(configMapKind, 'fg-held', 'default');
      assert.ok(held.metadata.deletionTimestamp, 'the blocking dependent is being deleted');
    }, SLOW);
    const waiting = await client.get(apiDefinitionKind, 'fg', 'default');
    assert.ok(waiting.metadata.deletionTimestamp, 'the owner still waits');
    const held = await client.get(configMapKind, 'fg-held', 'default');
    await client.update(configMapKind, { ...held, metadata: { ...held.metadata, finalizers: [] } });
    await eventually(() => absent(client, 'fg', apiDefinitionKind), SLOW);
  });

  it('orphan: the dependents stay and lose their reference, then the owner goes', async () => {
    const owner = await apiDefinition(client, 'orph');
    await configMap(client, 'orph-a', [refTo(owner, { blockOwnerDeletion: true })]);
    const other = await apiDefinition(client, 'orph-other');
    await configMap(client, 'orph-b', [refTo(owner), refTo(other)]);
    const res = await deleteWith(t, `${API_PATH}/orph`, { propagationPolicy: 'Orphan' });
    assert.equal(res.status, 202);
    assert.deepEqual(((await res.json()) as KubeObject).metadata.finalizers, ['orphan']);
    await eventually(() => absent(client, 'orph', apiDefinitionKind), SLOW);
    const a = await client.get(configMapKind, 'orph-a', 'default');
    assert.equal(a.metadata.ownerReferences, undefined);
    const b = await client.get(configMapKind, 'orph-b', 'default');
    assert.deepEqual(
      (b.metadata.ownerReferences as Ref[]).map((r) => r.name),
      ['orph-other'],
    );
  });

  it('orphanDependents (deprecated) orphans; with propagationPolicy too it is refused, naming the field', async () => {
    const owner = await apiDefinition(client, 'old');
    await configMap(client, 'old-a', [refTo(owner)]);
    const both = await deleteWith(t, `${API_PATH}/old`, { orphanDependents: true, propagationPolicy: 'Orphan' });
    assert.equal(both.status, 422);
    const status = (await both.json()) as { message: string; details: { causes: Array<{ field: string }> } };
    assert.match(status.message, /apidefinitions\.gatehouse\.dev\/default\/old/);
    assert.deepEqual(
      status.details.causes.map((c) => c.field),
      ['propagationPolicy'],
    );
    const unknown = await t.request(`${API_PATH}/old?propagationPolicy=Sideways`, { method: 'DELETE' });
    assert.equal(unknown.status, 400);
    const inBody = await deleteWith(t, `${API_PATH}/old`, { propagationPolicy: 'Sideways' });
    assert.equal(inBody.status, 422);
    const { message } = (await inBody.json()) as { message: string };
    assert.match(message, /propagationPolicy: Unsupported value: "Sideways"/);
    await client.get(apiDefinitionKind, 'old', 'default');
    const res = await deleteWith(t, `${API_PATH}/old`, { orphanDependents: true });
    assert.equal(res.status, 202);
    await eventually(() => absent(client, 'old', apiDefinitionKind), SLOW);
    assert.equal((await client.get(configMapKind, 'old-a', 'default')).metadata.ownerReferences, undefined);
  });

  it('deleting a collection propagates to each object deleted', async () => {
    const metadata = { name: 'coll', namespace: 'default', labels: { app: 'collection' } };
    const owner = await client.create(configMapKind, { apiVersion: 'v1', kind: 'ConfigMap', metadata });
    await configMap(client, 'coll-dep', [refTo(owner)]);
    const res = await deleteWith(t, `${CM_PATH}?labelSelector=app%3Dcollection`, { propagationPolicy: 'Orphan' });
    assert.equal(res.status, 200);
    await eventually(() => absent(client, 'coll'), SLOW);
    assert.equal((await client.get(configMapKind, 'coll-dep', 'default')).metadata.ownerReferences, undefined);
  });

  it('a second delete changes the propagation of an object already being deleted', async () => {
    const owner = await apiDefinition(client, 'switch');
    await configMap(client, 'switch-held', [refTo(owner, { blockOwnerDeletion: true })], ['example.com/hold']);
    assert.equal((await deleteWith(t, `${API_PATH}/switch`, { propagationPolicy: 'Foreground' })).status, 202);
    await eventually(async () => {
      assert.ok((await client.get(configMapKind, 'switch-held', 'default')).metadata.deletionTimestamp);
    }, SLOW);
    const res = await deleteWith(t, `${API_PATH}/switch`, { propagationPolicy: 'Orphan' });
    assert.deepEqual(((await res.json()) as KubeObject).metadata.finalizers, ['orphan']);
    await eventually(() => absent(client, 'switch', apiDefinitionKind), SLOW);
    const held = await client.get(configMapKind, 'switch-held', 'default');
    assert.equal(held.metadata.ownerReferences, undefined, 'orphaned, though its own deletion goes on');
    await client.update(configMapKind, { ...held, metadata: { ...held.metadata, finalizers: [] } });
  });

  it('a dependent of an owner that never existed is deleted; one of a kind not served is left alone', async () => {
    const uid = (n: number) => `0b9d7e52-0000-4000-8000-00000000000${n}`;
    const never: Ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'never-was', uid: uid(1) };
    await configMap(client, 'dangling', [never]);
    // Another object under the owner's name is not the owner: its uid differs.
    const namesake = await configMap(client, 'namesake', []);
    await configMap(client, 'dangling-namesake', [{ ...refTo(namesake), uid: uid(2) }]);
    const unserved: Ref = { apiVersion: 'example.com/v1', kind: 'Widget', name: 'w', uid: uid(3) };
    await configMap(client, 'unresolvable', [unserved]);
    await eventually(() => Promise.all([absent(client, 'dangling'), absent(client, 'dangling-namesake')]), SLOW);
    await client.get(configMapKind, 'namesake', 'default');
    await client.get(configMapKind, 'unresolvable', 'default');
  });

  it('kubectl delete --cascade=background|foreground|orphan', async () => {
    for (const cascade of ['background', 'foreground', 'orphan']) {
      const owner = await configMap(client, `kc-${cascade}`, []);
      await configMap(client, `kc-${cascade}-dep`, [refTo(owner, { blockOwnerDeletion: true })]);
      const out = await t.kubectl(['delete', 'configmap', `kc-${cascade}`, '-n', 'default', `--cascade=${cascade}`]);
      assert.match(out, new RegExp(`configmap "kc-${cascade}" deleted`));
      // kubectl waits for the owner to be gone: foreground and orphan finish through the collector.
      await absent(client, `kc-${cascade}`);
      if (cascade === 'orphan') {
        const dependent = await client.get(configMapKind, `kc-${cascade}-dep`, 'default');
        assert.equal(dependent.metadata.ownerReferences, undefined);
      } else {
        await eventually(() => absent(client, `kc-${cascade}-dep`), SLOW);
      }
    }
  });
});

describe('garbage collection across a restart', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-gc-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a foreground deletion pending when the server stopped is completed by the next one', async () => {
    const spec = `pglite:${await freshPgliteDir(join(dir, 'data'))}`;
    let t = await startTestApiServer(spec);
    let client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    const owner = await apiDefinition(client, 'restart');
    await configMap(client, 'restart-held', [refTo(owner, { blockOwnerDeletion: true })], ['example.com/hold']);
    assert.equal((await deleteWith(t, `${API_PATH}/restart`, { propagationPolicy: 'Foreground' })).status, 202);
    await eventually(async () => {
      assert.ok((await client.get(configMapKind, 'restart-held', 'default')).metadata.deletionTimestamp);
    }, SLOW);
    await client.close();
    await t.stop();

    t = await startTestApiServer(spec);
    client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    try {
      assert.ok((await client.get(apiDefinitionKind, 'restart', 'default')).metadata.deletionTimestamp);
      const held = await client.get(configMapKind, 'restart-held', 'default');
      await client.update(configMapKind, { ...held, metadata: { ...held.metadata, finalizers: [] } });
      await eventually(() => absent(client, 'restart', apiDefinitionKind), SLOW);
    } finally {
      await client.close();
      await t.stop();
    }
  });
});

describe('garbage collection with two API servers on one PostgreSQL', () => {
  let postgres: TestPostgres;
  const servers: TestApiServer[] = [];
  const clients: KubeClient[] = [];
  /** Which servers collect, as each told when it started and stopped. */
  const leading = [false, false];
  let bothCollected = false;

  before(async () => {
    postgres = await startPostgres();
    const url = await postgres.newDatabase();
    for (const i of [0, 1]) {
      const onLeading = (now: boolean) => {
        leading[i] = now;
        if (leading[0] && leading[1]) bothCollected = true;
      };
      const garbageCollection = { elect: true, leaseDurationMs: 2000, retryPeriodMs: 200, onLeading };
      servers.push(await startTestApiServer(url, { garbageCollection }));
      clients.push(new KubeClient(await loadKubeconfig(servers[i].kubeconfigPath)));
    }
  });
  after(async () => {
    for (const c of clients) await c.close();
    for (const s of servers) await s.stop();
    await postgres?.stop();
  });

  it('exactly one collects; when it stops, the other takes over', async () => {
    await eventually(() => assert.equal(leading.filter(Boolean).length, 1), SLOW);
    const first = leading.indexOf(true);
    const other = 1 - first;
    // Written through the replica that does not collect.
    const owner = await configMap(clients[other], 'pg-owner', []);
    await configMap(clients[other], 'pg-dep', [refTo(owner)]);
    await clients[other].delete(configMapKind, 'pg-owner', 'default');
    await eventually(() => absent(clients[other], 'pg-dep'), SLOW);
    await servers[first].stop();
    await eventually(() => assert.deepEqual([leading[first], leading[other]], [false, true]), SLOW);
    const next = await configMap(clients[other], 'pg-owner-2', []);
    await configMap(clients[other], 'pg-dep-2', [refTo(next)]);
    await clients[other].delete(configMapKind, 'pg-owner-2', 'default');
    await eventually(() => absent(clients[other], 'pg-dep-2'), SLOW);
    assert.equal(bothCollected, false, 'never two collectors at once');
    servers.splice(first, 1);
  });
});
