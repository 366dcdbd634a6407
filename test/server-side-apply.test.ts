// Server-side apply and metadata.managedFields over HTTP against the real API server: what
// every write records, apply's create, merge, conflicts, force, dry run and field removal, on
// a core kind, a Gatehouse kind and a status subresource, and Flux's request sequence.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { kindsMissing, objectOfEveryKind } from './support/every-kind.ts';

const CM = '/api/v1/namespaces/default/configmaps';
const AD = '/apis/gatehouse.dev/v1alpha1/namespaces/default/apidefinitions';
const APPLY = { 'content-type': 'application/apply-patch+yaml' };
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

// biome-ignore lint/suspicious/noExplicitAny: the test reads API responses loosely, deep into JSON whose shape it asserts
type Obj = Record<string, any>;

let api: TestApiServer;
before(async () => {
  api = await startTestApiServer();
});
after(async () => {
  await api.stop();
});

async function send(path: string, init: RequestInit): Promise<{ status: number; body: Obj }> {
  const res = await api.request(path, init);
  return { status: res.status, body: (await res.json()) as Obj };
}

function apply(path: string, body: unknown, query: string, yaml = false) {
  const text = yaml ? String(body) : JSON.stringify(body);
  return send(`${path}?${query}`, { method: 'PATCH', headers: APPLY, body: text });
}

/** managedFields without their times, which are checked apart. */
function entries(obj: Obj): Obj[] {
  return (obj.metadata.managedFields as Obj[]).map(({ time, ...rest }) => {
    assert.match(time, RFC3339);
    return rest;
  });
}

function adDefinition(name: string, listenPath: string, extra: Obj = {}): Obj {
  return {
    apiVersion: 'gatehouse.dev/v1alpha1',
    kind: 'ApiDefinition',
    metadata: { name },
    spec: { listenPath, upstream: { targets: [{ url: 'http://127.0.0.1:9000' }] }, ...extra },
  };
}

describe('managedFields', () => {
  // The Kubernetes documentation, "Server-Side Apply", section "Field management": this ConfigMap
  // applied with `kubectl apply --server-side` records exactly this entry.
  const docsConfigMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: test-cm
  namespace: default
  labels:
    test-label: test
data:
  key: some value
`;
  const docsFields = { 'f:metadata': { 'f:labels': { 'f:test-label': {} } }, 'f:data': { 'f:key': {} } };

  it('an apply of the documentation ConfigMap (YAML) creates it and records what kube-apiserver records', async () => {
    const { status, body } = await apply(`${CM}/test-cm`, docsConfigMap, 'fieldManager=kubectl', true);
    assert.equal(status, 201, JSON.stringify(body));
    assert.deepEqual(entries(body), [
      { manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: docsFields },
    ]);
    assert.deepEqual(body.data, { key: 'some value' });
  });

  it('an Update of an applied field takes it over, as the manager the User-Agent names (docs example)', async () => {
    const current = (await send(`${CM}/test-cm`, {})).body;
    const changed = { ...current, data: { key: 'new value' } };
    const userAgent = 'kube-controller-manager/v1.32.0 (linux/amd64)';
    const headers = { 'content-type': 'application/json', 'user-agent': userAgent };
    const { status, body } = await send(`${CM}/test-cm`, { method: 'PUT', headers, body: JSON.stringify(changed) });
    assert.equal(status, 200, JSON.stringify(body));
    // The documentation's entries after kube-controller-manager changed data.key.
    assert.deepEqual(entries(body), [
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'v1',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:metadata': { 'f:labels': { 'f:test-label': {} } } },
      },
      {
        manager: 'kube-controller-manager',
        operation: 'Update',
        apiVersion: 'v1',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:data': { 'f:key': {} } },
      },
    ]);
  });

  it('a create records an Update of everything it set; a write changing nothing leaves it as it was', async () => {
    const metadata = { name: 'created', labels: { a: 'b' } };
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata, data: { k: 'v' } };
    const headers = { 'content-type': 'application/json' };
    const body = JSON.stringify(cm);
    const created = await send(`${CM}?fieldManager=kubectl-create`, { method: 'POST', headers, body });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(entries(created.body), [
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: 'v1',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:data': { '.': {}, 'f:k': {} }, 'f:metadata': { 'f:labels': { '.': {}, 'f:a': {} } } },
      },
    ]);
    const merge = { 'content-type': 'application/merge-patch+json' };
    const patch = { method: 'PATCH', headers: merge, body: '{"data":{"k":"v"}}' };
    const same = await send(`${CM}/created?fieldManager=other`, patch);
    assert.equal(same.body.metadata.resourceVersion, created.body.metadata.resourceVersion);
    assert.deepEqual(same.body.metadata.managedFields, created.body.metadata.managedFields);
  });

  it('a status write records its manager with subresource status; status applies too', async () => {
    const created = await send(AD, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(adDefinition('with-status', '/with-status/')),
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const status = {
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'ApiDefinition',
      metadata: { name: 'with-status' },
      status: {
        observedGeneration: 1,
        conditions: [
          { type: 'Ready', status: 'True', reason: 'Ok', message: 'm', lastTransitionTime: '2026-01-01T00:00:00Z' },
        ],
      },
    };
    const { status: code, body } = await apply(`${AD}/with-status/status`, status, 'fieldManager=gateway');
    assert.equal(code, 200, JSON.stringify(body));
    assert.equal(body.status.observedGeneration, 1);
    const entry = entries(body).find((e) => e.manager === 'gateway');
    assert.deepEqual(entry, {
      manager: 'gateway',
      operation: 'Apply',
      apiVersion: 'gatehouse.dev/v1alpha1',
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:status': {
          'f:conditions': {
            'k:{"type":"Ready"}': {
              '.': {},
              'f:lastTransitionTime': {},
              'f:message': {},
              'f:reason': {},
              'f:status': {},
              'f:type': {},
            },
          },
          'f:observedGeneration': {},
        },
      },
      subresource: 'status',
    });
    // A merge patch of /status is an Update of the status subresource, taking the field it changes.
    const merge = {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ status: { observedGeneration: 2 } }),
    };
    const patched = await send(`${AD}/with-status/status?fieldManager=probe`, merge);
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.deepEqual(
      entries(patched.body).find((e) => e.manager === 'probe'),
      {
        manager: 'probe',
        operation: 'Update',
        apiVersion: 'gatehouse.dev/v1alpha1',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:status': { 'f:observedGeneration': {} } },
        subresource: 'status',
      },
    );
    const gateway = entries(patched.body).find((e) => e.manager === 'gateway') as Obj;
    assert.equal(gateway.fieldsV1['f:status']['f:observedGeneration'], undefined);
    // An apply of the main resource leaves status alone.
    const spec = await apply(`${AD}/with-status`, adDefinition('with-status', '/with-status/'), 'fieldManager=mine');
    assert.equal(spec.status, 200, JSON.stringify(spec.body));
    assert.equal(spec.body.status.observedGeneration, 2);
  });
});

describe('server-side apply', () => {
  it('needs a fieldManager: 422 naming the parameter, nothing stored', async () => {
    const { status, body } = await apply(`${AD}/nameless`, adDefinition('nameless', '/n/'), '');
    assert.equal(status, 422);
    assert.equal(body.reason, 'Invalid');
    const required = 'Required value: is required for apply patch';
    assert.equal(body.message, `PatchOptions.meta.k8s.io "" is invalid: fieldManager: ${required}`);
    assert.deepEqual(body.details.causes, [{ reason: 'FieldValueRequired', message: required, field: 'fieldManager' }]);
    assert.equal((await api.request(`${AD}/nameless`)).status, 404);
  });

  it('a conflict is a 409 with one FieldManagerConflict cause per field; force takes the field over', async () => {
    const first = await apply(`${AD}/shop`, adDefinition('shop', '/shop/'), 'fieldManager=other');
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const { status, body } = await apply(`${AD}/shop`, adDefinition('shop', '/store/'), 'fieldManager=mine');
    assert.equal(status, 409);
    assert.equal(body.reason, 'Conflict');
    assert.equal(body.message, 'Apply failed with 1 conflict: conflict with "other": .spec.listenPath');
    assert.deepEqual(body.details.causes, [
      { reason: 'FieldManagerConflict', message: 'conflict with "other"', field: '.spec.listenPath' },
    ]);
    const forced = await apply(`${AD}/shop`, adDefinition('shop', '/store/'), 'fieldManager=mine&force=true');
    assert.equal(forced.status, 200, JSON.stringify(forced.body));
    assert.equal(forced.body.spec.listenPath, '/store/');
    const other = forced.body.metadata.managedFields.find((e: Obj) => e.manager === 'other');
    assert.equal(other.fieldsV1['f:spec']['f:listenPath'], undefined);
    assert.ok(other.fieldsV1['f:spec']['f:upstream'], 'the fields both applied stay shared');
  });

  it('keeps at most 10 Update managers: the oldest merge into ancient-changes, as kube-apiserver', async () => {
    const created = await send(CM, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'crowded' }, data: { seed: 'x' } }),
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const managers = Array.from({ length: 11 }, (_, i) => `m${String(i).padStart(2, '0')}`);
    let body: Obj = {};
    for (const manager of managers) {
      const patched = await send(`${CM}/crowded?fieldManager=${manager}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify({ data: { [manager]: 'x' } }),
      });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      body = patched.body;
    }
    // 12 Update managers with the creator: the oldest merge into one bucket until 10 are left (which ones depends
    // on the seconds the writes took; src/api/apply/managers.test.ts checks the order), and no field loses its owner.
    const recorded = entries(body);
    assert.equal(recorded.length, 10);
    assert.deepEqual(
      recorded.filter((e) => e.manager === 'ancient-changes').map((e) => [e.operation, e.apiVersion]),
      [['Update', 'v1']],
    );
    const owned = recorded.flatMap((e) => Object.keys(e.fieldsV1['f:data']).filter((k) => k !== '.'));
    assert.deepEqual(owned.sort(), ['seed', ...managers].map((k) => `f:${k}`).sort());
    assert.ok(
      recorded.some((e) => e.manager === 'm10'),
      'the newest manager keeps its own entry',
    );
  });

  it('an object no one manages stays so on update; its first apply conflicts with before-first-apply', async () => {
    const path = `${CM}/unmanaged`;
    const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'unmanaged' }, data: { a: '1', b: '2' } };
    const post = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(object) };
    assert.equal((await send(CM, post)).status, 201);
    const merge = (patch: Obj) =>
      send(path, {
        method: 'PATCH',
        headers: { 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify(patch),
      });
    // The Kubernetes documentation, "Server-Side Apply", "Clearing managedFields": [{}] strips them entirely.
    const cleared = await merge({ metadata: { managedFields: [{}] } });
    assert.equal(cleared.status, 200, JSON.stringify(cleared.body));
    assert.equal(cleared.body.metadata.managedFields, undefined);
    const updated = await merge({ data: { b: '3' } });
    assert.equal(updated.body.metadata.managedFields, undefined, 'an update of an unmanaged object records nothing');

    const config = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'unmanaged' }, data: { a: 'changed' } };
    const refused = await apply(path, config, 'fieldManager=mine');
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.match(refused.body.message, /^Apply failed with 1 conflict: conflict with "before-first-apply" using v1/);
    assert.match(refused.body.message, /: \.data\.a$/);
    const same = await apply(path, { ...config, data: { a: '1' } }, 'fieldManager=mine');
    assert.equal(same.status, 200, JSON.stringify(same.body));
    assert.deepEqual(entries(same.body), [
      {
        manager: 'mine',
        operation: 'Apply',
        apiVersion: 'v1',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:data': { 'f:a': {} } },
      },
      {
        manager: 'before-first-apply',
        operation: 'Update',
        apiVersion: 'v1',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:data': { '.': {}, 'f:a': {}, 'f:b': {} } },
      },
    ]);
  });

  it('a field a manager no longer applies is removed, unless another manager owns it', async () => {
    const headers = { set: { 'x-a': '1', 'x-b': '2' } };
    const first = await apply(
      `${AD}/removal`,
      adDefinition('removal', '/removal/', { responseHeaders: headers }),
      'fieldManager=mine',
    );
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const keepB = { ...adDefinition('removal', '/removal/'), spec: { responseHeaders: { set: { 'x-b': '2' } } } };
    assert.equal((await apply(`${AD}/removal`, keepB, 'fieldManager=other')).status, 200);
    const { status, body } = await apply(`${AD}/removal`, adDefinition('removal', '/removal/'), 'fieldManager=mine');
    assert.equal(status, 200, JSON.stringify(body));
    assert.deepEqual(body.spec.responseHeaders, { set: { 'x-b': '2' } });
  });

  it('dryRun=All answers the apply and stores nothing; fieldValidation=Strict refuses unknown fields', async () => {
    const dry = await apply(`${AD}/dry`, adDefinition('dry', '/dry/'), 'fieldManager=mine&dryRun=All');
    assert.equal(dry.status, 201, JSON.stringify(dry.body));
    assert.equal(dry.body.metadata.managedFields[0].operation, 'Apply');
    assert.equal((await api.request(`${AD}/dry`)).status, 404);
    const bogus = adDefinition('dry', '/dry/', { bogus: 1 });
    const strict = await apply(`${AD}/dry`, bogus, 'fieldManager=mine&fieldValidation=Strict');
    assert.equal(strict.status, 400);
    assert.match(strict.body.message, /unknown field "spec.bogus"/);
  });

  it("Flux's sequence: dry-run apply with force, apply, then a second run changes nothing", async () => {
    const flux = 'fieldManager=kustomize-controller&force=true';
    const desired = adDefinition('flux', '/flux/');
    const dry = await apply(`${AD}/flux`, desired, `${flux}&dryRun=All`);
    assert.equal(dry.status, 201, JSON.stringify(dry.body));
    const applied = await apply(`${AD}/flux`, desired, flux);
    assert.equal(applied.status, 201, JSON.stringify(applied.body));
    const dryAgain = await apply(`${AD}/flux`, desired, `${flux}&dryRun=All`);
    assert.equal(dryAgain.status, 200);
    assert.deepEqual(dryAgain.body, applied.body, 'the dry run shows no drift');
    const again = await apply(`${AD}/flux`, desired, flux);
    assert.equal(again.status, 200);
    assert.equal(again.body.metadata.resourceVersion, applied.body.metadata.resourceVersion);
    assert.deepEqual(again.body.metadata.managedFields, applied.body.metadata.managedFields);
  });

  it("Flux's sequence on every stored kind, Gatehouse's and the built-in ones: the second run writes nothing", async () => {
    const objects = objectOfEveryKind('every');
    assert.deepEqual(kindsMissing(objects), [], 'every stored kind is in the sequence');
    const flux = 'fieldManager=kustomize-controller&force=true';
    for (const [path, desired] of objects) {
      const dry = await apply(path, desired, `${flux}&dryRun=All`);
      assert.equal(dry.status, 201, `${path}: ${JSON.stringify(dry.body)}`);
      const applied = await apply(path, desired, flux);
      assert.equal(applied.status, 201, `${path}: ${JSON.stringify(applied.body)}`);
      const again = await apply(path, desired, `${flux}&dryRun=All`);
      assert.deepEqual(again.body, applied.body, `${path}: the dry run shows no drift`);
      const second = await apply(path, desired, flux);
      assert.equal(second.status, 200);
      assert.equal(second.body.metadata.resourceVersion, applied.body.metadata.resourceVersion, `${path}: no write`);
    }
  });

  it("refuses an associative list repeating an item's keys: 422 naming the item", async () => {
    const targets = [{ url: 'http://127.0.0.1:9000' }, { url: 'http://127.0.0.1:9000', weight: 2 }];
    const twice = adDefinition('twice', '/twice/', { upstream: { targets } });
    const { status, body } = await apply(`${AD}/twice`, twice, 'fieldManager=mine');
    assert.equal(status, 422);
    assert.deepEqual(body.details.causes, [
      {
        reason: 'FieldValueDuplicate',
        field: 'spec.upstream.targets[1]',
        message: 'Duplicate value: {"url":"http://127.0.0.1:9000"}',
      },
    ]);
  });

  it('answers 415 naming apply among the accepted patch types for a media type it does not take', async () => {
    const plain = { method: 'PATCH', headers: { 'content-type': 'text/plain' }, body: '{}' };
    const res = await api.request(`${AD}/flux`, plain);
    assert.equal(res.status, 415);
    assert.match(((await res.json()) as Obj).message, /application\/apply-patch\+yaml/);
  });
});
