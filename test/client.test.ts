// The REST client and the informer against a real Gatehouse API server.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { namespaceKind } from '../src/api/core/namespace/index.ts';
import type { KubeObject } from '../src/api/kind.ts';
import type { AuditEvent } from '../src/apiserver/audit/event.ts';
import { parseAuditPolicy } from '../src/apiserver/audit/policy.ts';
import { apiDefinitionKind, type ApiDefinition } from '../src/api/kinds/api-definition/index.ts';
import { ApiStatusError } from '../src/client/errors.ts';
import { Informer, type InformerChange, type InformerOptions } from '../src/client/informer.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { KubeClient } from '../src/client/rest.ts';
import { startTestApiServer, useApiServer, type TestApiServer } from './support/apiserver.ts';
import { eventually } from './support/eventually.ts';
import { storageSpec, TEST_STORAGES, type TestStorage } from './support/storages.ts';

function api(name: string, namespace = 'default', labels: Record<string, string> = {}): ApiDefinition {
  return {
    apiVersion: 'gatehouse.dev/v1alpha1',
    kind: 'ApiDefinition',
    metadata: { name, namespace, labels },
    spec: { listenPath: `/${name}`, upstream: { targets: [{ url: 'http://127.0.0.1:9' }] } },
  } as ApiDefinition;
}

/** Records the start of every watch of ApiDefinitions. */
const WATCHES = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [ResponseStarted, ResponseComplete, Panic]
rules:
  - level: Metadata
    verbs: [watch]
    resources:
      - group: gatehouse.dev
        resources: [apidefinitions]
`;

const names = (items: readonly KubeObject[]) => items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`).sort();

describe('KubeClient', () => {
  const cluster = useApiServer();

  it('creates, reads, lists, patches, updates and deletes', async () => {
    const created = await cluster.client.create(apiDefinitionKind, api('orders'));
    assert.equal(created.spec.auth.type, 'keyless', 'the server applied defaults');
    const got = await cluster.client.get<ApiDefinition>(apiDefinitionKind, 'orders');
    assert.equal(got.metadata.uid, created.metadata.uid);
    const patched = await cluster.client.patch<ApiDefinition>(apiDefinitionKind, 'orders', {
      spec: { listenPath: '/orders/v2' },
    });
    assert.equal(patched.spec.listenPath, '/orders/v2');
    patched.spec.active = false;
    const updated = await cluster.client.update(apiDefinitionKind, patched);
    assert.equal(updated.spec.active, false);
    const list = await cluster.client.list<ApiDefinition>(apiDefinitionKind, { namespace: 'default' });
    assert.deepEqual(names(list.items), ['default/orders']);
    assert.match(list.metadata.resourceVersion, /^\d+$/);
    await cluster.client.delete(apiDefinitionKind, 'orders');
  });

  it("names its writes' field manager gatehouse through its User-Agent, as client-go's binary/version", async () => {
    const created = await cluster.client.create(apiDefinitionKind, api('managed'));
    assert.deepEqual(
      (created.metadata.managedFields as { manager: string }[]).map((e) => e.manager),
      ['gatehouse'],
    );
    await cluster.client.delete(apiDefinitionKind, 'managed');
  });

  it('surfaces a Status answer as ApiStatusError with code and reason', async () => {
    await assert.rejects(
      cluster.client.get(apiDefinitionKind, 'missing'),
      (err: unknown) =>
        err instanceof ApiStatusError && err.code === 404 && err.reason === 'NotFound' && /missing/.test(err.message),
    );
    await cluster.client.create(apiDefinitionKind, api('twice'));
    await assert.rejects(
      cluster.client.create(apiDefinitionKind, api('twice')),
      (err: unknown) => err instanceof ApiStatusError && err.code === 409 && err.reason === 'AlreadyExists',
    );
    await cluster.client.delete(apiDefinitionKind, 'twice');
  });
});

const informerScenarios = (storage: TestStorage) => () => {
  let t: TestApiServer;
  let client: KubeClient;
  let auditDir: string;
  /** The resourceVersion each watch of ApiDefinitions started from, in order, from the audit log. */
  const watchesFrom = async () => {
    const text = await readFile(join(auditDir, 'audit.log'), 'utf8').catch(() => '');
    const events = text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as AuditEvent);
    const from = (e: AuditEvent) => Number(new URL(e.requestURI, 'http://x').searchParams.get('resourceVersion'));
    return events.filter((e) => e.verb === 'watch').map(from);
  };
  before(async () => {
    auditDir = await mkdtemp(join(tmpdir(), 'gatehouse-client-audit-'));
    const policy = parseAuditPolicy(WATCHES, 'watches');
    t = await startTestApiServer(await storageSpec(storage), { audit: { path: join(auditDir, 'audit.log'), policy } });
    client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    await client.create(namespaceKind, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
  });
  after(async () => {
    await client.close();
    await t.stop();
    await rm(auditDir, { recursive: true, force: true });
  });

  /** Starts an informer stopped with the test, counting its full lists (SYNC changes). */
  async function startCounting(ctx: TestContext, options: InformerOptions<ApiDefinition>) {
    const informer = new Informer<ApiDefinition>(client, apiDefinitionKind, options);
    ctx.after(() => informer.stop());
    const counter = { syncs: 0 };
    informer.onChange((c) => {
      if (c.type === 'SYNC') counter.syncs++;
    });
    informer.start();
    await informer.synced;
    return { informer, counter };
  }

  it('syncs, then mirrors adds, changes and deletes; handlers see the cache already updated', async (ctx) => {
    await client.create(apiDefinitionKind, api('before'));
    const seen: string[] = [];
    const informer = new Informer<ApiDefinition>(client, apiDefinitionKind);
    informer.onChange((change: InformerChange<ApiDefinition>) => {
      if (change.type === 'SYNC') seen.push(`SYNC ${names(change.items).join(',')}`);
      else {
        seen.push(`${change.type} ${change.object.metadata.name}`);
        const cached = informer.get(change.object.metadata.namespace, change.object.metadata.name!);
        assert.equal(cached === undefined, change.type === 'DELETED');
      }
    });
    ctx.after(() => informer.stop());
    informer.start();
    await informer.synced;
    assert.deepEqual(names(informer.items()), ['default/before']);
    await client.create(apiDefinitionKind, api('after'));
    await client.patch(apiDefinitionKind, 'before', { spec: { listenPath: '/changed' } });
    await client.delete(apiDefinitionKind, 'after');
    await eventually(() =>
      assert.deepEqual(seen, ['SYNC default/before', 'ADDED after', 'MODIFIED before', 'DELETED after']),
    );
    assert.equal(informer.get('default', 'before')?.spec.listenPath, '/changed');
    await client.delete(apiDefinitionKind, 'before');
  });

  it('restricts to a namespace and a label selector', async (ctx) => {
    const informer = new Informer<ApiDefinition>(client, apiDefinitionKind, {
      namespace: 'other',
      labelSelector: 'team=a',
    }).start();
    ctx.after(() => informer.stop());
    await informer.synced;
    await client.create(apiDefinitionKind, api('in', 'other', { team: 'a' }));
    await client.create(apiDefinitionKind, api('wrong-label', 'other', { team: 'b' }));
    await client.create(apiDefinitionKind, api('wrong-namespace', 'default', { team: 'a' }));
    await client.create(apiDefinitionKind, api('last', 'other', { team: 'a' }));
    await eventually(() => assert.deepEqual(names(informer.items()), ['other/in', 'other/last']));
  });

  it('resumes from the last resourceVersion when the server ends the watch, losing nothing', async (ctx) => {
    const { informer, counter } = await startCounting(ctx, { namespace: 'default', watchTimeoutSeconds: 1 });
    // Each write lands in a different watch request: after the informer has it, the next write
    // waits for the watch request (the server ends each within a second) resumed from it.
    for (const name of ['r1', 'r2', 'r3']) {
      const written = Number((await client.create(apiDefinitionKind, api(name))).metadata.resourceVersion);
      await eventually(() => assert.ok(informer.get('default', name), `${name} is in the cache`));
      const resumed = async () => assert.ok((await watchesFrom()).includes(written), `a watch resumed from ${name}`);
      await eventually(resumed, { attempts: 200 });
    }
    await eventually(() =>
      assert.deepEqual(
        names(informer.items()).filter((n) => /\/r\d$/.test(n)),
        ['default/r1', 'default/r2', 'default/r3'],
      ),
    );
    assert.equal(counter.syncs, 1, 'resumed by watch, not by listing again');
  });

  it('lists again when its resume point was compacted away (410 Expired)', async (ctx) => {
    const errors: unknown[] = [];
    const { informer, counter } = await startCounting(ctx, {
      namespace: 'default',
      watchTimeoutSeconds: 1,
      onError: (e) => errors.push(e),
    });
    // Writes outside the informer's namespace move the server's revision but not the
    // informer's resume point; compacting past them expires that point.
    let last: KubeObject | undefined;
    for (const name of ['c1', 'c2', 'c3']) last = await client.create(apiDefinitionKind, api(name, 'other'));
    await t.storage.compact(Number(last!.metadata.resourceVersion));
    // The open watch ends within a second; resuming it from the old point gets 410.
    await eventually(() => assert.ok(counter.syncs >= 2, 'the cache was rebuilt by a fresh list'));
    await client.create(apiDefinitionKind, api('after-compaction'));
    await eventually(() => assert.ok(informer.get('default', 'after-compaction')));
    assert.deepEqual(
      errors.filter((e) => e instanceof ApiStatusError),
      [],
      'a 410 is handled by listing, not reported as a failure',
    );
  });
};

for (const storage of TEST_STORAGES) describe(`Informer on ${storage}`, informerScenarios(storage));
