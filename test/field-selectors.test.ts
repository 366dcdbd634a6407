// Field selectors as kube-apiserver serves them, and built-in kinds' bodies without apiVersion
// and kind: over HTTP (list and watch), and through the real kubectl (describe, events --for).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { allKinds } from '../src/api/kinds.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { kindsMissing, objectOfEveryKind } from './support/every-kind.ts';

const CORE = '/api/v1/namespaces/default';
const GATEHOUSE = '/apis/gatehouse.dev/v1alpha1/namespaces/default';
const JSON_TYPE = { 'content-type': 'application/json' };

function api(name: string, listenPath: string) {
  return {
    apiVersion: 'gatehouse.dev/v1alpha1',
    kind: 'ApiDefinition',
    metadata: { name },
    spec: { listenPath, upstream: { targets: [{ url: 'http://127.0.0.1:9000' }] } },
  };
}

interface Involved {
  apiVersion: string;
  kind: string;
  metadata: { name: string; uid: string };
}

/** An Event about `object`, as Gatehouse's controllers record them. */
function event(name: string, object: Involved, extra: object) {
  const { apiVersion, kind, metadata } = object;
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name },
    involvedObject: { apiVersion, kind, namespace: 'default', name: metadata.name, uid: metadata.uid },
    message: `${name} happened`,
    firstTimestamp: now,
    lastTimestamp: now,
    ...extra,
  };
}

describe('field selectors and built-in bodies, as kube-apiserver', () => {
  let t: TestApiServer;
  const post = async (path: string, body: unknown) => {
    const res = await t.request(path, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify(body) });
    const answer = await res.json();
    assert.equal(res.status, 201, JSON.stringify(answer));
    return answer;
  };
  const names = async (path: string, fieldSelector: string) => {
    const res = await t.request(`${path}?fieldSelector=${encodeURIComponent(fieldSelector)}`);
    const list = await res.json();
    assert.equal(res.status, 200, JSON.stringify(list));
    return list.items.map((i: { metadata: { name: string } }) => i.metadata.name).sort();
  };

  before(async () => {
    t = await startTestApiServer();
    const settings = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' } };
    const config = await post(`${CORE}/configmaps`, settings);
    const shop = await post(`${GATEHOUSE}/apidefinitions`, api('shop', '/shop/'));
    await post(`${GATEHOUSE}/apidefinitions`, api('orders', '/orders/'));
    const gateway = 'gatehouse.dev/gateway';
    const loaded = { reason: 'Loaded', type: 'Normal', source: { component: 'gitops' } };
    await post(`${CORE}/events`, event('settings.1', config, loaded));
    const down = { reason: 'UpstreamDown', type: 'Warning', reportingComponent: gateway };
    await post(`${CORE}/events`, event('shop.1', shop, down));
    await post(
      `${CORE}/events`,
      event('shop.2', shop, {
        reason: 'UpstreamUp',
        type: 'Normal',
        reportingComponent: gateway,
        source: { component: '' },
      }),
    );
  });
  after(async () => {
    await t.stop();
  });

  it('lists Events by every field kube-apiserver selects them by', async () => {
    const events = `${CORE}/events`;
    assert.deepEqual(await names(events, 'involvedObject.kind=ConfigMap,involvedObject.name=settings'), ['settings.1']);
    const aboutGatehouse = 'involvedObject.apiVersion=gatehouse.dev/v1alpha1,involvedObject.namespace=default';
    assert.deepEqual(await names(events, aboutGatehouse), ['shop.1', 'shop.2']);
    assert.deepEqual(await names(events, 'involvedObject.kind!=ConfigMap,type==Warning'), ['shop.1']);
    assert.deepEqual(await names(events, 'reason=UpstreamUp'), ['shop.2']);
    assert.deepEqual(await names(events, 'reportingComponent=gatehouse.dev/gateway'), ['shop.1', 'shop.2']);
    // `source` is source.component, or reportingComponent when that is empty.
    assert.deepEqual(await names(events, 'source=gitops'), ['settings.1']);
    assert.deepEqual(await names(events, 'source=gatehouse.dev/gateway'), ['shop.1', 'shop.2']);
    const unset = 'involvedObject.fieldPath=,involvedObject.resourceVersion=';
    assert.deepEqual(await names(events, unset), ['settings.1', 'shop.1', 'shop.2']);
    const uid = (await (await t.request(`${GATEHOUSE}/apidefinitions/shop`)).json()).metadata.uid;
    assert.deepEqual(await names('/api/v1/events', `involvedObject.uid=${uid}`), ['shop.1', 'shop.2']);
  });

  it('lists Secrets by type, Namespaces by phase and Gatehouse kinds by their selectable fields', async () => {
    const secret = (name: string, type?: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, type });
    await post(`${CORE}/secrets`, secret('plain'));
    await post(`${CORE}/secrets`, secret('login', 'kubernetes.io/basic-auth'));
    assert.deepEqual(await names(`${CORE}/secrets`, 'type=kubernetes.io/basic-auth'), ['login']);
    assert.deepEqual(await names(`${CORE}/secrets`, 'type=Opaque'), ['plain']);
    assert.ok((await names('/api/v1/namespaces', 'status.phase=Active')).includes('default'));
    assert.deepEqual(await names('/api/v1/namespaces', 'status.phase=Terminating'), []);

    assert.deepEqual(await names(`${GATEHOUSE}/apidefinitions`, 'spec.listenPath=/orders/'), ['orders']);
    assert.deepEqual(await names(`${GATEHOUSE}/apidefinitions`, 'spec.listenPath!=/orders/'), ['shop']);
    const gatehouse = (kind: string, name: string, spec: object) => ({
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind,
      metadata: { name },
      spec,
    });
    await post(`${GATEHOUSE}/syncs`, gatehouse('Sync', 'apis', { sourceRef: { name: 'platform' } }));
    await post(`${GATEHOUSE}/syncs`, gatehouse('Sync', 'policies', { sourceRef: { name: 'security' } }));
    assert.deepEqual(await names(`${GATEHOUSE}/syncs`, 'spec.sourceRef.name=security'), ['policies']);
    await post(`${GATEHOUSE}/consumers`, gatehouse('Consumer', 'acme', {}));
    await post(`${GATEHOUSE}/apikeys`, gatehouse('ApiKey', 'acme-1', { consumer: 'acme' }));
    assert.deepEqual(await names(`${GATEHOUSE}/apikeys`, 'spec.consumer=acme'), ['acme-1']);
    assert.deepEqual(await names(`${GATEHOUSE}/apikeys`, 'spec.consumer=other'), []);
  });

  it("refuses a field a kind does not select by with kube's message", async () => {
    const unsupported = [
      [`${CORE}/configmaps`, 'data.a'],
      [`${GATEHOUSE}/apidefinitions`, 'spec.upstream.timeout'],
      [`${CORE}/events`, 'message'],
    ];
    for (const [path, label] of unsupported) {
      const res = await t.request(`${path}?fieldSelector=${encodeURIComponent(`${label}=x`)}`);
      const status = await res.json();
      assert.equal(res.status, 400);
      assert.deepEqual([status.reason, status.message], ['BadRequest', `field label not supported: ${label}`]);
    }
  });

  it('watches by a selectable field: objects entering and leaving the selection are ADDED and DELETED', async () => {
    const start = (await (await t.request(`${GATEHOUSE}/apidefinitions`)).json()).metadata.resourceVersion;
    const abort = new AbortController();
    const query = `watch=true&resourceVersion=${start}&fieldSelector=${encodeURIComponent('spec.listenPath=/w/')}`;
    const res = await t.request(`${GATEHOUSE}/apidefinitions?${query}`, { signal: abort.signal });
    assert.equal(res.status, 200);
    const patch = (name: string, listenPath: string) =>
      t.request(`${GATEHOUSE}/apidefinitions/${name}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify({ spec: { listenPath } }),
      });
    await post(`${GATEHOUSE}/apidefinitions`, api('w1', '/w/'));
    await post(`${GATEHOUSE}/apidefinitions`, api('w2', '/elsewhere/'));
    assert.equal((await patch('w2', '/w/')).status, 200);
    assert.equal((await patch('w1', '/gone/')).status, 200);
    assert.equal((await t.request(`${GATEHOUSE}/apidefinitions/w2`, { method: 'DELETE' })).status, 200);
    await post(`${GATEHOUSE}/apidefinitions`, api('w3', '/w/'));

    const seen: string[] = [];
    const decoder = new TextDecoder();
    let pending = '';
    const reader = res.body!.getReader();
    while (seen.length < 5) {
      const { value, done } = await reader.read();
      if (done) break;
      pending += decoder.decode(value, { stream: true });
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines.filter(Boolean)) {
        const { type, object } = JSON.parse(line);
        seen.push(`${type} ${object.metadata.name} ${object.spec.listenPath}`);
      }
    }
    abort.abort();
    assert.deepEqual(seen, ['ADDED w1 /w/', 'ADDED w2 /w/', 'DELETED w1 /gone/', 'DELETED w2 /w/', 'ADDED w3 /w/']);
  });

  it("takes a built-in kind's missing apiVersion and kind from the URL", async () => {
    const created = await post('/api/v1/namespaces', { metadata: { name: 'kindless' } });
    assert.deepEqual([created.apiVersion, created.kind, created.status.phase], ['v1', 'Namespace', 'Active']);
    const secret = await post('/api/v1/namespaces/kindless/secrets', { apiVersion: 'v1', metadata: { name: 's' } });
    assert.equal(secret.kind, 'Secret');
    const leases = '/apis/coordination.k8s.io/v1/namespaces/kindless/leases';
    const lease = await post(leases, { kind: 'Lease', metadata: { name: 'l' } });
    assert.equal(lease.apiVersion, 'coordination.k8s.io/v1');
    const current = await post('/api/v1/namespaces/kindless/configmaps', { metadata: { name: 'c' }, data: { a: '1' } });
    const res = await t.request('/api/v1/namespaces/kindless/configmaps/c', {
      method: 'PUT',
      headers: JSON_TYPE,
      body: JSON.stringify({ metadata: { ...current.metadata }, data: { a: '2' } }),
    });
    const updated = await res.json();
    assert.equal(res.status, 200, JSON.stringify(updated));
    assert.deepEqual([updated.apiVersion, updated.kind, updated.data.a], ['v1', 'ConfigMap', '2']);
    const stored = await (await t.request('/api/v1/namespaces/kindless/configmaps/c')).json();
    assert.deepEqual([stored.apiVersion, stored.kind], ['v1', 'ConfigMap']);
  });

  it('refuses a Gatehouse object without kind as kube-apiserver refuses a custom resource without one', async () => {
    const { kind: _kind, ...body } = api('kindless', '/kindless/');
    const res = await t.request(`${GATEHOUSE}/apidefinitions`, {
      method: 'POST',
      headers: JSON_TYPE,
      body: JSON.stringify(body),
    });
    const status = await res.json();
    assert.equal(res.status, 400);
    assert.equal(status.reason, 'BadRequest');
    const missing = `Object 'Kind' is missing in '${JSON.stringify(body)}'`;
    const handled = 'ApiDefinition in version "v1alpha1" cannot be handled as a ApiDefinition';
    assert.equal(status.message, `${handled}: ${missing}`);
    assert.equal((await t.request(`${GATEHOUSE}/apidefinitions/kindless`)).status, 404);
  });

  it('kubectl describe shows the Events of a ConfigMap and of a Gatehouse object', async () => {
    const configMap = await t.kubectl(['describe', 'configmap', 'settings']);
    assert.match(configMap, /^Events:\s*\n\s+Type\s+Reason\s+Age\s+From\s+Message\n[\s-]+\n/m);
    assert.match(configMap, /^\s+Normal\s+Loaded\s+\S+\s+gitops\s+settings\.1 happened/m);
    const apiDefinition = await t.kubectl(['describe', 'apidefinition', 'shop']);
    assert.match(apiDefinition, /^\s+Warning\s+UpstreamDown\s+\S+\s+gatehouse\.dev\/gateway\s+shop\.1 happened/m);
    assert.match(apiDefinition, /^\s+Normal\s+UpstreamUp\s+\S+\s+gatehouse\.dev\/gateway\s+shop\.2 happened/m);
    assert.doesNotMatch(apiDefinition, /settings\.1/);
  });

  it('kubectl describe shows the Events of an object of every kind whose kubectl describer prints Events', async () => {
    const objects = objectOfEveryKind('described');
    assert.deepEqual(kindsMissing(objects), []);
    for (const [path, body] of objects) {
      const created = await post(path.slice(0, path.lastIndexOf('/')), body);
      if (body.kind === 'Event') continue;
      const namespace = path.includes('/namespaces/default/') ? 'default' : undefined;
      const about = { apiVersion: body.apiVersion, kind: body.kind, name: 'described', uid: created.metadata.uid };
      await post(`${CORE}/events`, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `described.${body.kind.toLowerCase()}` },
        involvedObject: namespace ? { ...about, namespace } : about,
        reason: 'Described',
        message: `about ${body.kind} described`,
        source: { component: 'tests' },
      });
    }
    // kubectl's own describers of these kinds print no Events section, against any server.
    const noEventsSection = ['Namespace', 'Secret', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'];
    for (const def of allKinds.filter((k) => k.kind !== 'Event')) {
      const resource = def.group ? `${def.plural}.${def.version}.${def.group}` : def.plural;
      const out = await t.kubectl(['describe', resource, 'described', '-n', 'default']);
      if (noEventsSection.includes(def.kind)) {
        assert.doesNotMatch(out, /^Events:/m, def.kind);
        continue;
      }
      const line = new RegExp(`^\\s+Normal\\s+Described\\s+\\S+\\s+tests\\s+about ${def.kind} described$`, 'm');
      assert.match(out, line, `${def.kind}: ${out}`);
    }
  });

  it('kubectl events --for lists the Events of one object', async () => {
    const configMap = await t.kubectl(['events', '--for', 'configmap/settings']);
    assert.match(configMap, /Normal\s+Loaded\s+ConfigMap\/settings\s+settings\.1 happened/);
    assert.doesNotMatch(configMap, /shop\./);
    const apiDefinition = await t.kubectl(['events', '--for', 'apidefinition/shop', '--types=Warning']);
    assert.match(apiDefinition, /Warning\s+UpstreamDown\s+ApiDefinition\/shop\s+shop\.1 happened/);
    assert.doesNotMatch(apiDefinition, /settings\.1|shop\.2/);
  });
});
