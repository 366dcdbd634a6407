// The Sync engine against a real API server: build a directory, validate it all with dry
// runs, apply only what drifted in dependency order, prune by inventory and labels, diff.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { namespaceKind } from '../src/api/core/namespace/index.ts';
import { secretKind } from '../src/api/core/secret/index.ts';
import type { KindDefinition, KubeObject } from '../src/api/kind.ts';
import { apiDefinitionKind } from '../src/api/kinds/api-definition/index.ts';
import { apiKeyKind, type ApiKey } from '../src/api/kinds/api-key/index.ts';
import type { InventoryEntry } from '../src/api/kinds/sync/types.ts';
import { securityPolicyKind } from '../src/api/kinds/security-policy/index.ts';
import type { AuditEvent } from '../src/apiserver/audit/event.ts';
import { parseAuditPolicy } from '../src/apiserver/audit/policy.ts';
import { isStatusError } from '../src/client/errors.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { KubeClient } from '../src/client/rest.ts';
import {
  applySet,
  build,
  BuildError,
  diffSet,
  objectId,
  SYNC_NAME_LABEL,
  SYNC_NAMESPACE_LABEL,
  ValidationError,
  type BuildOptions,
  type ChangeSet,
  type SyncOwner,
} from '../src/gitops/sync/index.ts';
import { ownedObject } from '../src/gitops/sync/owner.ts';
import { writeArtifact } from '../src/gitops/sync/testing.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { eventually } from './support/eventually.ts';

const namespace = (name: string) => `apiVersion: v1
kind: Namespace
metadata:
  name: ${name}
`;

const secret = (name: string, token = 'first-token') => `apiVersion: v1
kind: Secret
metadata:
  name: ${name}
stringData:
  token: ${token}
`;

const policy = (name: string, api: string) => `apiVersion: gatehouse.dev/v1alpha1
kind: SecurityPolicy
metadata:
  name: ${name}
spec:
  apis:
    - name: ${api}
`;

const api = (name: string, url = 'http://127.0.0.1:9') => `apiVersion: gatehouse.dev/v1alpha1
kind: ApiDefinition
metadata:
  name: ${name}
spec:
  listenPath: /${name}
  upstream:
    targets:
      - url: ${url}
`;

const consumer = (name: string) => `apiVersion: gatehouse.dev/v1alpha1
kind: Consumer
metadata:
  name: ${name}
spec:
  policies: []
`;

const apiKey = (name: string, consumerName: string, extra = '') => `apiVersion: gatehouse.dev/v1alpha1
kind: ApiKey
metadata:
  name: ${name}
spec:
  consumer: ${consumerName}${extra}
`;

const summary = (changes: ChangeSet) =>
  changes.entries.map(
    (e) =>
      `${e.action} ${e.kind} ${e.namespace ? `${e.namespace}/` : ''}${e.name}${e.fields ? ` ${e.fields.join(',')}` : ''}`,
  );

/** Records each request about objects of the namespace "cached" once it is answered. */
const CACHED_NAMESPACE_REQUESTS = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted]
rules:
  - level: Metadata
    namespaces: [cached]
  - level: None
`;

describe('sync apply against a real API server', () => {
  let t: TestApiServer;
  let client: KubeClient;
  let scratch: string;
  let artifacts = 0;

  /** Writes `files` as a new artifact and builds it for a Sync in namespace "gitops". */
  const manifestsOf = async (files: Record<string, string>, options: Partial<BuildOptions> = {}, path = '.') => {
    const root = await writeArtifact(join(scratch, `artifact-${artifacts++}`), files);
    return build(root, path, { namespace: 'gitops', ...options });
  };
  const owner = (name: string): SyncOwner => ({ name, namespace: 'gitops' });
  const get = <T extends KubeObject = KubeObject>(def: KindDefinition, name: string, ns?: string) =>
    client.get<T>(def, name, ns);
  const versionsOf = (objects: Array<[KindDefinition, string, string | undefined]>) =>
    Promise.all(objects.map(async ([def, name, ns]) => (await get(def, name, ns)).metadata.resourceVersion));
  const absent = async (def: KindDefinition, name: string, ns?: string) => {
    await assert.rejects(get(def, name, ns), (err: unknown) => isStatusError(err, 'NotFound'));
  };

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'gatehouse-sync-'));
    const policy = parseAuditPolicy(CACHED_NAMESPACE_REQUESTS, 'cached');
    t = await startTestApiServer('memory', { audit: { path: join(scratch, 'audit.log'), policy } });
    client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    await client.create(namespaceKind, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gitops' } });
  });
  after(async () => {
    await client.close();
    await t.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  describe('one Sync through its life', () => {
    const files: Record<string, string> = {
      // File order is the reverse of dependency order, so the apply order is the engine's.
      'a-api.yaml': api('orders'),
      'b-policy.yaml': policy('gold', 'orders'),
      'c-secret.yaml': secret('upstream-token'),
      'd-namespace.yaml': namespace('shop'),
    };
    const shop = { targetNamespace: 'shop' };
    const objects: Array<[KindDefinition, string, string | undefined]> = [
      [namespaceKind, 'shop', undefined],
      [secretKind, 'upstream-token', 'shop'],
      [securityPolicyKind, 'gold', 'shop'],
      [apiDefinitionKind, 'orders', 'shop'],
    ];
    let inventory: InventoryEntry[] = [];

    it('first apply creates the namespace, then the secret, the policy and the API, labelled with their Sync', async () => {
      const changes = await applySet(client, await manifestsOf(files, shop), { owner: owner('shop') });
      assert.deepEqual(summary(changes), [
        'created Namespace shop',
        'created Secret shop/upstream-token',
        'created SecurityPolicy shop/gold',
        'created ApiDefinition shop/orders',
      ]);
      assert.deepEqual(changes.counts, { created: 4, configured: 0, unchanged: 0, deleted: 0 });
      assert.deepEqual(changes.inventory, [
        { id: '_shop__Namespace', v: 'v1' },
        { id: 'shop_gold_gatehouse.dev_SecurityPolicy', v: 'gatehouse.dev/v1alpha1' },
        { id: 'shop_orders_gatehouse.dev_ApiDefinition', v: 'gatehouse.dev/v1alpha1' },
        { id: 'shop_upstream-token__Secret', v: 'v1' },
      ]);
      // Each write gets the next resourceVersion, so their order is the apply order.
      const versions = (await versionsOf(objects)).map(Number);
      assert.deepEqual(
        [...versions].sort((a, b) => a - b),
        versions,
      );
      for (const [def, name, ns] of objects) {
        const labels = (await get(def, name, ns)).metadata.labels;
        assert.equal(labels?.[SYNC_NAME_LABEL], 'shop');
        assert.equal(labels?.[SYNC_NAMESPACE_LABEL], 'gitops');
      }
      inventory = changes.inventory;
    });

    it('re-applying the same revision writes nothing', async () => {
      const before = await versionsOf(objects);
      const changes = await applySet(client, await manifestsOf(files, shop), {
        owner: owner('shop'),
        previousInventory: inventory,
        prune: true,
      });
      assert.deepEqual(changes.counts, { created: 0, configured: 0, unchanged: 4, deleted: 0 });
      assert.deepEqual(await versionsOf(objects), before);
    });

    it('a changed field is configured, reported by path, and only that object is written', async () => {
      const before = await versionsOf(objects);
      const changes = await applySet(
        client,
        await manifestsOf({ ...files, 'a-api.yaml': api('orders', 'http://127.0.0.1:10') }, shop),
        { owner: owner('shop'), previousInventory: inventory },
      );
      assert.deepEqual(
        summary(changes).filter((s) => !s.startsWith('unchanged')),
        ['configured ApiDefinition shop/orders spec.upstream.targets[0].url'],
      );
      assert.deepEqual(changes.counts, { created: 0, configured: 1, unchanged: 3, deleted: 0 });
      const after = await versionsOf(objects);
      assert.deepEqual(after.slice(0, 3), before.slice(0, 3));
      assert.notEqual(after[3], before[3]);
      files['a-api.yaml'] = api('orders', 'http://127.0.0.1:10');
    });

    it('the Sync owns the fields it applies, as the field manager gatehouse-sync', async () => {
      const live = await get(apiDefinitionKind, 'orders', 'shop');
      const entries = live.metadata.managedFields as Array<Record<string, unknown>>;
      assert.deepEqual(
        entries.map((e) => [e.manager, e.operation]),
        [['gatehouse-sync', 'Apply']],
      );
      assert.deepEqual(entries[0].fieldsV1, {
        'f:metadata': {
          'f:annotations': { 'f:gatehouse.dev/source-path': {} },
          'f:labels': { [`f:${SYNC_NAME_LABEL}`]: {}, [`f:${SYNC_NAMESPACE_LABEL}`]: {} },
        },
        'f:spec': {
          'f:listenPath': {},
          'f:upstream': { 'f:targets': { 'k:{"url":"http://127.0.0.1:10"}': { '.': {}, 'f:url': {} } } },
        },
      });
    });

    it('a hand edit of a field the Sync owns is drift: Git is put back; fields others set are left alone', async () => {
      const live = await get(apiDefinitionKind, 'orders', 'shop');
      await client.update(apiDefinitionKind, {
        ...live,
        metadata: { ...live.metadata, labels: { ...live.metadata.labels, extra: 'x' } },
        spec: { ...(live.spec as object), listenPath: '/hacked', stripListenPath: true },
      });
      const changes = await applySet(client, await manifestsOf(files, shop), {
        owner: owner('shop'),
        previousInventory: inventory,
      });
      assert.deepEqual(
        summary(changes).filter((s) => !s.startsWith('unchanged')),
        ['configured ApiDefinition shop/orders spec.listenPath'],
      );
      const restored = await get(apiDefinitionKind, 'orders', 'shop');
      assert.equal((restored.spec as { listenPath: string }).listenPath, '/orders');
      assert.equal(restored.metadata.labels?.extra, 'x');
      assert.equal((restored.spec as { stripListenPath?: boolean }).stripListenPath, true);
      const again = await applySet(client, await manifestsOf(files, shop), {
        owner: owner('shop'),
        previousInventory: inventory,
      });
      assert.equal(again.counts.unchanged, 4, 'what others set is not drift');
      assert.equal(
        (await get(apiDefinitionKind, 'orders', 'shop')).metadata.resourceVersion,
        restored.metadata.resourceVersion,
      );
    });

    it('a field removed from Git is removed from the object', async () => {
      const annotated = api('orders', 'http://127.0.0.1:10').replace(
        'metadata:\n',
        'metadata:\n  annotations:\n    team: payments\n',
      );
      const grown = await applySet(client, await manifestsOf({ ...files, 'a-api.yaml': annotated }, shop), {
        owner: owner('shop'),
        previousInventory: inventory,
      });
      assert.deepEqual(
        summary(grown).filter((s) => !s.startsWith('unchanged')),
        ['configured ApiDefinition shop/orders metadata.annotations[team]'],
      );
      const shrunk = await applySet(client, await manifestsOf(files, shop), {
        owner: owner('shop'),
        previousInventory: inventory,
      });
      assert.deepEqual(
        summary(shrunk).filter((s) => !s.startsWith('unchanged')),
        ['configured ApiDefinition shop/orders metadata.annotations[team]'],
      );
      const live = await get(apiDefinitionKind, 'orders', 'shop');
      assert.equal(live.metadata.annotations?.team, undefined);
      assert.equal(live.metadata.labels?.extra, 'x', 'the label another manager set stays');
    });

    it('an invalid object among several applies nothing, and the error names file, object and field', async () => {
      const before = await versionsOf(objects);
      const broken = {
        ...files,
        'a-api.yaml': api('orders', 'http://127.0.0.1:11'),
        'e-new.yaml': api('refunds'),
        'f-bad.yaml': api('payments', 'ftp://127.0.0.1/x'),
        'g-unknown-field.yaml': `${policy('silver', 'orders')}  listenPth: /typo\n`,
      };
      await assert.rejects(
        applySet(client, await manifestsOf(broken, shop), {
          owner: owner('shop'),
          previousInventory: inventory,
          prune: true,
        }),
        (err: unknown) => {
          assert.ok(err instanceof ValidationError, String(err));
          assert.deepEqual(
            err.failures.map((f) => [f.file, f.object.kind, f.object.namespace, f.object.name, f.field]),
            [
              ['f-bad.yaml', 'ApiDefinition', 'shop', 'payments', 'spec.upstream.targets[0].url'],
              ['g-unknown-field.yaml', 'SecurityPolicy', 'shop', 'silver', 'spec.listenPth'],
            ],
          );
          const lines = err.message.split('\n');
          assert.match(lines[0], /^2 of 7 objects failed validation; nothing was applied:$/);
          assert.match(
            lines[1],
            /^ {2}f-bad\.yaml: ApiDefinition shop\/payments: spec\.upstream\.targets\[0\]\.url: Invalid value: "ftp:\/\/127\.0\.0\.1\/x": /,
          );
          assert.match(
            lines[2],
            /^ {2}g-unknown-field\.yaml: SecurityPolicy shop\/silver: spec\.listenPth: unknown field "spec\.listenPth"$/,
          );
          return true;
        },
      );
      assert.deepEqual(await versionsOf(objects), before, 'the valid change to orders was not written');
      await absent(apiDefinitionKind, 'refunds', 'shop');
    });

    it('prunes objects that left Git, but not one whose labels were removed, nor a namespace still holding others', async () => {
      // Two more objects, then both leave Git; one of them is handed over by removing its labels.
      const grown = { ...files, 'e-extra.yaml': `${api('refunds')}---\n${secret('handed-over')}` };
      inventory = (
        await applySet(client, await manifestsOf(grown, shop), {
          owner: owner('shop'),
          previousInventory: inventory,
          prune: true,
        })
      ).inventory;
      const handed = await get(secretKind, 'handed-over', 'shop');
      const { [SYNC_NAME_LABEL]: _n, [SYNC_NAMESPACE_LABEL]: _ns, ...labels } = handed.metadata.labels ?? {};
      await client.update(secretKind, { ...handed, metadata: { ...handed.metadata, labels } });

      const withoutPrune = await applySet(client, await manifestsOf(files, shop), {
        owner: owner('shop'),
        previousInventory: inventory,
        prune: false,
      });
      assert.equal(withoutPrune.counts.deleted, 0);
      await get(apiDefinitionKind, 'refunds', 'shop');

      const changes = await applySet(client, await manifestsOf(files, shop), {
        owner: owner('shop'),
        previousInventory: inventory,
        prune: true,
      });
      assert.deepEqual(
        summary(changes).filter((s) => !s.startsWith('unchanged')),
        ['deleted ApiDefinition shop/refunds'],
      );
      assert.deepEqual(
        changes.skipped.map((s) => [s.kind, s.name, s.reason]),
        [['Secret', 'handed-over', 'its sync labels were removed, so this Sync no longer owns it']],
      );
      await absent(apiDefinitionKind, 'refunds', 'shop');
      await get(secretKind, 'handed-over', 'shop');
      inventory = changes.inventory;

      // Everything leaves Git: the namespace stays while the handed-over secret is in it.
      const emptied = await applySet(client, await manifestsOf({ 'keep.yaml': secret('elsewhere') }), {
        owner: owner('shop'),
        previousInventory: inventory,
        prune: true,
      });
      assert.deepEqual(summary(emptied), [
        'created Secret gitops/elsewhere',
        'deleted ApiDefinition shop/orders',
        'deleted SecurityPolicy shop/gold',
        'deleted Secret shop/upstream-token',
      ]);
      assert.deepEqual(
        emptied.skipped.map((s) => [s.kind, s.name, s.reason]),
        [['Namespace', 'shop', 'it still holds Secret shop/handed-over, which this Sync does not prune']],
      );
      await get(namespaceKind, 'shop');
      // The namespace is still this Sync's: once empty, the next apply prunes it.
      assert.deepEqual(
        emptied.inventory.map((e) => e.id),
        ['_shop__Namespace', 'gitops_elsewhere__Secret'],
      );
      await client.delete(secretKind, 'handed-over', 'shop');
      const last = await applySet(client, await manifestsOf({ 'keep.yaml': secret('elsewhere') }), {
        owner: owner('shop'),
        previousInventory: emptied.inventory,
        prune: true,
      });
      assert.deepEqual(summary(last), ['unchanged Secret gitops/elsewhere', 'deleted Namespace shop']);
      assert.deepEqual(
        last.inventory.map((e) => e.id),
        ['gitops_elsewhere__Secret'],
      );
    });

    it('leaves an object overridden by hand alone: neither applied nor pruned, kept in the inventory', async () => {
      const first = await applySet(client, await manifestsOf({ 'o.yaml': api('overridden') }), {
        owner: owner('override'),
      });
      const reason = { 'gatehouse.dev/override-reason': 'incident 7' };
      const handEdit = { metadata: { annotations: reason }, spec: { listenPath: '/by-hand' } };
      await client.patch(apiDefinitionKind, 'overridden', handEdit, 'merge', 'gitops');
      const again = await applySet(client, await manifestsOf({ 'o.yaml': api('overridden') }), {
        owner: owner('override'),
        previousInventory: first.inventory,
        prune: true,
      });
      assert.deepEqual(summary(again), ['unchanged ApiDefinition gitops/overridden']);
      assert.deepEqual(
        again.overridden.map((o) => [o.kind, o.name, o.reason]),
        [['ApiDefinition', 'overridden', 'incident 7']],
      );
      const left = await applySet(client, await manifestsOf({}), {
        owner: owner('override'),
        previousInventory: again.inventory,
        prune: true,
      });
      assert.deepEqual(summary(left), []);
      assert.deepEqual(left.inventory, first.inventory);
      assert.match(left.skipped[0]?.reason ?? '', /^it was changed by hand \(incident 7\)/);
      const stored = await get(apiDefinitionKind, 'overridden', 'gitops');
      assert.equal((stored.spec as { listenPath: string }).listenPath, '/by-hand');
    });

    it('prunes a namespace once nothing but its own pruned objects is in it', async () => {
      const changes = await applySet(
        client,
        await manifestsOf({ 'ns.yaml': namespace('scratch'), 'api.yaml': api('temp') }, { targetNamespace: 'scratch' }),
        { owner: owner('scratch') },
      );
      assert.equal(changes.counts.created, 2);
      const pruned = await applySet(client, await manifestsOf({}), {
        owner: owner('scratch'),
        previousInventory: changes.inventory,
        prune: true,
      });
      assert.deepEqual(summary(pruned), ['deleted ApiDefinition scratch/temp', 'deleted Namespace scratch']);
      await absent(apiDefinitionKind, 'temp', 'scratch');
    });
  });

  it('an object a cache shows already applied is neither read nor sent: a change costs its own requests', async () => {
    await client.create(namespaceKind, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cached' } });
    const names = ['one', 'two', 'three'];
    const files = (threeUrl: string) =>
      manifestsOf(
        { 'apis.yaml': names.map((n) => api(n, n === 'three' ? threeUrl : undefined)).join('---\n') },
        { targetNamespace: 'cached' },
      );
    await applySet(client, await files('http://127.0.0.1:9'), { owner: owner('cached') });
    // What a watch cache of the Sync's objects holds once it caught up with that apply.
    const cache = new Map<string, KubeObject>();
    for (const name of names) {
      const live = await get(apiDefinitionKind, name, 'cached');
      cache.set(objectId(live), live);
    }
    /** The requests about the namespace's objects the log holds once it shows `last`, after the first `from`. */
    const requests = (last: (e: AuditEvent) => boolean, from = 0) =>
      eventually(async () => {
        const events = (await readFile(join(scratch, 'audit.log'), 'utf8'))
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as AuditEvent);
        assert.ok(events.some(last), 'the last request is in the log');
        return events;
      }).then((events) => events.slice(from));
    const said = (e: AuditEvent) => {
      const dryRun = new URL(e.requestURI, 'https://x').searchParams.has('dryRun');
      return `${e.verb} ${e.objectRef?.name}${dryRun ? ' (dry run)' : ''}`;
    };
    // A request after the cache's: the log shows every request before the Sync's once it shows this one
    // (the first apply's own GETs would match a wait for the cache's last GET before that one is logged).
    await absent(apiDefinitionKind, 'cache-filled', 'cached');
    const seen = (await requests((e) => said(e) === 'get cache-filled')).length;

    const changes = await applySet(client, await files('http://127.0.0.1:10'), {
      owner: owner('cached'),
      cached: (id) => cache.get(id),
    });
    assert.deepEqual(changes.counts, { created: 0, configured: 1, unchanged: 2, deleted: 0 });
    const written = (e: AuditEvent) => said(e) === 'patch three';
    assert.deepEqual((await requests(written, seen)).map(said), ['get three', 'patch three (dry run)', 'patch three']);
  });

  it('validates objects in a namespace the same revision creates, and creates neither when one is invalid', async () => {
    const files = {
      'ns.yaml': namespace('fresh-ns'),
      'api.yaml': api('bad', 'ftp://127.0.0.1/x'),
      'ok.yaml': api('good'),
    };
    await assert.rejects(
      applySet(client, await manifestsOf(files, { targetNamespace: 'fresh-ns' }), { owner: owner('fresh') }),
      (err: unknown) => {
        assert.ok(err instanceof ValidationError);
        assert.deepEqual(
          err.failures.map((f) => `${f.file} ${f.object.namespace}/${f.object.name} ${f.field}`),
          ['api.yaml fresh-ns/bad spec.upstream.targets[0].url'],
        );
        return true;
      },
    );
    await absent(namespaceKind, 'fresh-ns');
  });

  it('refuses to take over an object another Sync applied', async () => {
    await applySet(client, await manifestsOf({ 'api.yaml': api('shared') }), { owner: owner('first') });
    const before = (await get(apiDefinitionKind, 'shared', 'gitops')).metadata.resourceVersion;
    await assert.rejects(
      applySet(client, await manifestsOf({ 'x.yaml': api('shared', 'http://127.0.0.1:12'), 'y.yaml': api('mine') }), {
        owner: owner('second'),
      }),
      (err: unknown) => {
        assert.ok(err instanceof ValidationError);
        assert.match(
          err.message,
          /^ {2}x\.yaml: ApiDefinition gitops\/shared: already applied by Sync gitops\/first; it is not taken over/m,
        );
        return true;
      },
    );
    assert.equal((await get(apiDefinitionKind, 'shared', 'gitops')).metadata.resourceVersion, before);
    await absent(apiDefinitionKind, 'mine', 'gitops');
    // An object without sync labels, created by hand, is adopted.
    await client.create(apiDefinitionKind, {
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'ApiDefinition',
      metadata: { name: 'by-hand', namespace: 'gitops' },
      spec: { listenPath: '/by-hand', upstream: { targets: [{ url: 'http://127.0.0.1:9' }] } },
    });
    const adopted = await applySet(client, await manifestsOf({ 'h.yaml': api('by-hand') }), { owner: owner('second') });
    assert.deepEqual(summary(adopted), [
      'configured ApiDefinition gitops/by-hand metadata.annotations[gatehouse.dev/source-path],' +
        `metadata.labels[${SYNC_NAME_LABEL}],metadata.labels[${SYNC_NAMESPACE_LABEL}]`,
    ]);
  });

  it('takes ownership of an object it wrote before applying with server-side apply, then removes what leaves Git', async () => {
    // As a Sync wrote objects before: a plain create carrying its labels, recorded as an Update.
    const object: KubeObject = {
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'ApiDefinition',
      metadata: { name: 'legacy', namespace: 'gitops', annotations: { team: 'legacy' } },
      spec: { listenPath: '/legacy', upstream: { targets: [{ url: 'http://127.0.0.1:9' }] } },
    };
    const before = ownedObject({ object, file: 'l.yaml', index: 0 }, owner('legacy'));
    await client.create(apiDefinitionKind, before);
    const annotated = api('legacy').replace('metadata:\n', 'metadata:\n  annotations:\n    team: legacy\n');
    const taken = await applySet(client, await manifestsOf({ 'l.yaml': annotated }), { owner: owner('legacy') });
    assert.deepEqual(summary(taken), ['configured ApiDefinition gitops/legacy']);
    const again = await applySet(client, await manifestsOf({ 'l.yaml': annotated }), { owner: owner('legacy') });
    assert.deepEqual(summary(again), ['unchanged ApiDefinition gitops/legacy']);
    const removed = await applySet(client, await manifestsOf({ 'l.yaml': api('legacy') }), { owner: owner('legacy') });
    assert.deepEqual(summary(removed), ['configured ApiDefinition gitops/legacy metadata.annotations[team]']);
    assert.equal((await get(apiDefinitionKind, 'legacy', 'gitops')).metadata.annotations?.team, undefined);
  });

  it("applies a Secret's stringData as data: a key removed from Git is removed from the Secret", async () => {
    const twoKeys = `${secret('two-keys')}  extra: more\n`;
    const first = await applySet(client, await manifestsOf({ 's.yaml': twoKeys }), { owner: owner('secrets') });
    assert.deepEqual(summary(first), ['created Secret gitops/two-keys']);
    const live = await get(secretKind, 'two-keys', 'gitops');
    assert.deepEqual(Object.keys(live.data as object).sort(), ['extra', 'token']);
    const fewer = await applySet(client, await manifestsOf({ 's.yaml': secret('two-keys') }), {
      owner: owner('secrets'),
    });
    assert.deepEqual(summary(fewer), ['configured Secret gitops/two-keys data[extra]']);
    assert.deepEqual(Object.keys((await get(secretKind, 'two-keys', 'gitops')).data as object), ['token']);
  });

  it('re-applying an ApiKey neither re-mints it nor sees drift, whatever hash Git holds', async () => {
    const files = { 'c.yaml': consumer('partner'), 'k.yaml': apiKey('partner-key', 'partner') };
    const created = await applySet(client, await manifestsOf(files), { owner: owner('keys') });
    assert.deepEqual(summary(created), ['created Consumer gitops/partner', 'created ApiKey gitops/partner-key']);
    const minted = await get<ApiKey>(apiKeyKind, 'partner-key', 'gitops');
    assert.match(minted.spec.hash, /^sha256:[0-9a-f]{64}$/);
    const withHash = {
      ...files,
      'k.yaml': apiKey('partner-key', 'partner', `\n  hash: sha256:${'0'.repeat(64)}\n  prefix: gh_planted`),
    };
    for (const revision of [files, withHash]) {
      const again = await applySet(client, await manifestsOf(revision), {
        owner: owner('keys'),
        previousInventory: created.inventory,
      });
      assert.deepEqual(again.counts, { created: 0, configured: 0, unchanged: 2, deleted: 0 });
    }
    const after = await get<ApiKey>(apiKeyKind, 'partner-key', 'gitops');
    assert.equal(after.spec.hash, minted.spec.hash);
    assert.equal(after.metadata.resourceVersion, minted.metadata.resourceVersion);

    // A key minted outside and kept in Git as its hash is created with that hash.
    const fromGit = `sha256:${'1'.repeat(64)}`;
    const kept = await applySet(
      client,
      await manifestsOf({ ...files, 'g.yaml': apiKey('git-key', 'partner', `\n  hash: ${fromGit}`) }),
      { owner: owner('keys'), previousInventory: created.inventory },
    );
    assert.equal(kept.counts.created, 1);
    assert.equal((await get<ApiKey>(apiKeyKind, 'git-key', 'gitops')).spec.hash, fromGit);
  });

  it('builds a kustomization with kubectl kustomize and substitutes variables in its output', async () => {
    const files = {
      'deploy/kustomization.yaml': 'namespace: gitops\nresources:\n  - api.yaml\nnameSuffix: -${ENV}\n',
      'deploy/api.yaml': api('catalog', '${UPSTREAM}'),
    };
    const changes = await applySet(
      client,
      await manifestsOf(files, { substitute: { ENV: 'prod', UPSTREAM: 'http://127.0.0.1:13' } }, 'deploy'),
      { owner: owner('kustomized') },
    );
    assert.deepEqual(summary(changes), ['created ApiDefinition gitops/catalog-prod']);
    const live = await get(apiDefinitionKind, 'catalog-prod', 'gitops');
    assert.deepEqual((live.spec as { upstream: { targets: unknown } }).upstream.targets, [
      { url: 'http://127.0.0.1:13' },
    ]);
    await assert.rejects(manifestsOf(files, { substitute: { ENV: 'prod' } }, 'deploy'), (err: unknown) => {
      assert.ok(err instanceof BuildError);
      assert.equal(err.code, 'UndefinedVariable');
      assert.match(
        err.message,
        /^deploy\/kustomization\.yaml: undefined variable "UPSTREAM" \(line \d+ of the kustomize build output\)/,
      );
      return true;
    });
  });

  it('diffs field by field without writing, masking secret values', async () => {
    const files = { 'a.yaml': api('inventory'), 's.yaml': secret('db', 'hunter2'), 'old.yaml': api('retired') };
    const applied = await applySet(client, await manifestsOf(files), { owner: owner('diff') });
    const changed = {
      'a.yaml': api('inventory', 'http://127.0.0.1:14'),
      's.yaml': secret('db', 'hunter3'),
      'n.yaml': api('fresh'),
    };
    const manifests = await manifestsOf(changed);
    const watched: Array<[KindDefinition, string, string]> = [
      [apiDefinitionKind, 'inventory', 'gitops'],
      [secretKind, 'db', 'gitops'],
      [apiDefinitionKind, 'retired', 'gitops'],
    ];
    const before = await versionsOf(watched);
    const diffs = await diffSet(client, manifests, {
      owner: owner('diff'),
      previousInventory: applied.inventory,
      prune: true,
    });
    assert.deepEqual(await versionsOf(watched), before, 'a diff writes nothing');
    await absent(apiDefinitionKind, 'fresh', 'gitops');

    const byName = new Map(diffs.map((d) => [d.name, d]));
    assert.deepEqual(
      diffs.map((d) => `${d.action} ${d.kind} ${d.name}`),
      [
        'update Secret db',
        'update ApiDefinition inventory',
        'create ApiDefinition fresh',
        'delete ApiDefinition retired',
      ],
    );
    assert.deepEqual(byName.get('inventory')?.changes, [
      { path: 'spec.upstream.targets[0].url', live: 'http://127.0.0.1:9', desired: 'http://127.0.0.1:14' },
    ]);
    assert.deepEqual(byName.get('db')?.changes, [
      { path: 'data[token]', live: '*** (before)', desired: '*** (after)' },
    ]);
    assert.ok(byName.get('fresh')?.changes.some((c) => c.path === 'spec.listenPath' && c.desired === '/fresh'));
    const printed = JSON.stringify(diffs);
    for (const secretText of [
      'hunter2',
      'hunter3',
      Buffer.from('hunter2').toString('base64'),
      Buffer.from('hunter3').toString('base64'),
    ]) {
      assert.ok(!printed.includes(secretText), `diff output does not contain ${secretText}`);
    }

    // A new secret's values are masked too.
    const [created] = await diffSet(client, await manifestsOf({ 's.yaml': secret('brand-new', 'hunter4') }), {
      owner: owner('diff'),
    });
    assert.equal(created.action, 'create');
    assert.ok(!JSON.stringify(created).includes('hunter4'));
    assert.deepEqual(
      created.changes.find((c) => c.path.startsWith('data')),
      { path: 'data[token]', desired: '*** (after)' },
    );

    // Unchanged objects are reported as such, with no changes.
    const same = await diffSet(client, await manifestsOf(files), {
      owner: owner('diff'),
      previousInventory: applied.inventory,
      prune: true,
    });
    assert.deepEqual(
      same.map((d) => [d.action, d.changes.length]),
      [
        ['unchanged', 0],
        ['unchanged', 0],
        ['unchanged', 0],
      ],
    );
  });
});
