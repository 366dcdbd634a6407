import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fieldElement, FieldSet, FieldsV1Error, keyElement, pathString, valueElement } from './field-set.ts';

// The ConfigMap of the Kubernetes documentation, "Server-Side Apply", section "Field management":
// the fieldsV1 kube-apiserver records for `kubectl apply --server-side` of data.key and a label.
const DOCS_CONFIGMAP_FIELDS = {
  'f:metadata': { 'f:labels': { 'f:test-label': {} } },
  'f:data': { 'f:key': {} },
};

// The fieldsV1 kube-apiserver records for `kubectl create deployment nginx --image=nginx`
// (manager kubectl-create, operation Update), as kubectl get -o yaml --show-managed-fields prints it:
// an object created by an Update is itself a member (`.`), list items are keyed (`k:`).
const KUBECTL_CREATE_DEPLOYMENT_FIELDS = {
  'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
  'f:spec': {
    'f:replicas': {},
    'f:template': {
      'f:spec': {
        'f:containers': {
          'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {} },
        },
      },
    },
  },
};

test('FieldsV1 from kube decodes to the paths it names and encodes back to the same document', () => {
  const set = FieldSet.fromFieldsV1(DOCS_CONFIGMAP_FIELDS);
  assert.deepEqual(set.paths().map(pathString), ['.metadata.labels.test-label', '.data.key']);
  assert.deepEqual(set.toFieldsV1(), DOCS_CONFIGMAP_FIELDS);

  const deployment = FieldSet.fromFieldsV1(KUBECTL_CREATE_DEPLOYMENT_FIELDS);
  assert.deepEqual(deployment.paths().map(pathString), [
    '.metadata.labels',
    '.metadata.labels.app',
    '.spec.replicas',
    '.spec.template.spec.containers[name="nginx"]',
    '.spec.template.spec.containers[name="nginx"].image',
    '.spec.template.spec.containers[name="nginx"].name',
  ]);
  assert.deepEqual(deployment.toFieldsV1(), KUBECTL_CREATE_DEPLOYMENT_FIELDS);
});

test('path elements are written as kube writes them: keys sorted by name, values as JSON', () => {
  assert.equal(keyElement({ protocol: 'TCP', containerPort: 80 }), 'k:{"containerPort":80,"protocol":"TCP"}');
  assert.equal(valueElement('example.com/finalizer'), 'v:"example.com/finalizer"');
  // A key spelled in another order reads as the same element.
  const set = FieldSet.fromFieldsV1({ 'f:ports': { 'k:{"protocol":"TCP","containerPort":80}': {} } });
  assert.ok(set.has([fieldElement('ports'), keyElement({ containerPort: 80, protocol: 'TCP' })]));
  assert.equal(
    pathString([fieldElement('metadata'), fieldElement('finalizers'), valueElement('a')]),
    '.metadata.finalizers[="a"]',
  );
  assert.equal(
    pathString([fieldElement('ports'), keyElement({ containerPort: 80, protocol: 'TCP' })]),
    '.ports[containerPort=80,protocol="TCP"]',
  );
});

test('unreadable FieldsV1 is refused, naming the element', () => {
  assert.throws(
    () => FieldSet.fromFieldsV1({ 'f:spec': { 'x:what': {} } }),
    (err: unknown) => err instanceof FieldsV1Error && err.message.includes('"x:what"'),
  );
  assert.throws(() => FieldSet.fromFieldsV1({ 'f:spec': [] }), FieldsV1Error);
  assert.throws(() => FieldSet.fromFieldsV1({ 'k:not json': {} }), FieldsV1Error);
});

test('set operations: union, intersection, and difference, which keeps the children of what it removes', () => {
  const spec = fieldElement('spec');
  const a = FieldSet.of([[spec], [spec, fieldElement('a')], [spec, fieldElement('b')]]);
  const b = FieldSet.of([[spec], [spec, fieldElement('c')]]);
  assert.deepEqual(a.union(b).paths().map(pathString), ['.spec', '.spec.a', '.spec.b', '.spec.c']);
  assert.deepEqual(a.intersection(b).paths().map(pathString), ['.spec']);
  assert.deepEqual(a.difference(b).paths().map(pathString), ['.spec.a', '.spec.b']);
  assert.ok(a.touches([spec]) && !a.touches([fieldElement('status')]));
  assert.deepEqual(FieldSet.of(a.paths()).toFieldsV1(), a.toFieldsV1());
});
