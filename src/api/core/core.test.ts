import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findUnknownFields } from '../schema/index.ts';
import { admitCreate, admitUpdate, describe, NOT_CHECKED } from '../testing.ts';
import { configMapKind } from './config-map/index.ts';
import { eventKind } from './event/index.ts';
import { namespaceKind } from './namespace/index.ts';
import { secretKind } from './secret/index.ts';

const meta = { name: 'x', namespace: 'ops', creationTimestamp: '2025-01-01T00:00:00Z' };
const b64 = (s: string) => Buffer.from(s).toString('base64');

test('Namespace: cluster-scoped, label names, always created Active', () => {
  const { obj, errors } = admitCreate(namespaceKind, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'shop' },
    status: { phase: 'Terminating' },
  });
  assert.deepEqual(errors, []);
  assert.deepEqual(obj.status, { phase: 'Active' });
  assert.equal(namespaceKind.namespaced, false);
  assert.equal(namespaceKind.generation, false);
  assert.deepEqual(
    namespaceKind.printerColumns.map((c) => c.cell(obj)),
    ['Active', null],
  );
  const [name, namespace, ...rest] = describe(
    admitCreate(namespaceKind, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a.b', namespace: 'x' } })
      .errors,
  );
  assert.match(name, /^metadata\.name: Invalid value: "a\.b": a lowercase RFC 1123 label/);
  assert.equal(namespace, 'metadata.namespace: Forbidden: not allowed on this type');
  assert.deepEqual(rest, []);
});

test('Secret: stringData is folded into data and never stored; type defaults to Opaque', () => {
  const { obj, errors } = admitCreate(secretKind, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta,
    data: { username: b64('old'), token: b64('t') },
    stringData: { username: 'git', known_hosts: 'github.com ssh-ed25519 AAAA' },
  });
  assert.deepEqual(errors, []);
  assert.deepEqual(obj, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta,
    type: 'Opaque',
    data: { username: b64('git'), token: b64('t'), known_hosts: b64('github.com ssh-ed25519 AAAA') },
  });
  const updated = admitUpdate(secretKind, { ...obj, stringData: { password: 'p' } }, obj);
  assert.deepEqual(updated.errors, []);
  assert.equal('stringData' in updated.obj, false);
  assert.equal((updated.obj.data as Record<string, string>).password, b64('p'));
  assert.deepEqual(
    secretKind.printerColumns.map((c) => c.cell(updated.obj)),
    ['Opaque', 4, '2025-01-01T00:00:00Z'],
  );
});

test('Secret: data values must be base64 and keys config keys', () => {
  const { errors } = admitCreate(secretKind, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta,
    data: { ok: b64('x'), bad: 'not base64!' },
  });
  assert.deepEqual(describe(errors), [
    'data[bad]: Invalid value: "not base64!": data[bad] in body must be of type byte: "not base64!"',
  ]);
  const keyErrors = describe(
    admitCreate(secretKind, { apiVersion: 'v1', kind: 'Secret', metadata: meta, stringData: { 'a/b': 'x' } }).errors,
  );
  assert.equal(keyErrors.length, 1);
  assert.match(keyErrors[0], /^data: Invalid value: "a\/b": a valid config key must consist of/);
  assert.deepEqual(
    describe(
      admitCreate(secretKind, { apiVersion: 'v1', kind: 'Secret', metadata: meta, stringData: { n: 5 } }).errors,
    ),
    ['data[n]: Invalid value: "number": data[n] in body must be of type string: "number"', NOT_CHECKED],
  );
  assert.deepEqual(
    describe(admitCreate(secretKind, { apiVersion: 'v1', kind: 'Secret', metadata: meta, stringData: 'abc' }).errors),
    ['stringData: Invalid value: "string": stringData in body must be of type object: "string"', NOT_CHECKED],
  );
});

test('Secret: type and immutable data cannot change', () => {
  const old = admitCreate(secretKind, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta,
    type: 'kubernetes.io/basic-auth',
    immutable: true,
    stringData: { a: 'x' },
  }).obj;
  assert.deepEqual(describe(admitUpdate(secretKind, { ...old, type: 'Opaque', data: {} }, old).errors), [
    'data: Forbidden: field is immutable when `immutable` is set',
    'type: Invalid value: "Opaque": field is immutable',
  ]);
  assert.deepEqual(admitUpdate(secretKind, { ...old, metadata: { ...meta, labels: { a: 'b' } } }, old).errors, []);
});

test('ConfigMap: data and binaryData keys are distinct, binaryData is base64', () => {
  const good = admitCreate(configMapKind, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta,
    data: { 'app.yaml': 'a: 1' },
    binaryData: { logo: b64('png') },
  });
  assert.deepEqual(good.errors, []);
  assert.deepEqual(
    configMapKind.printerColumns.map((c) => c.cell(good.obj)),
    [2, '2025-01-01T00:00:00Z'],
  );
  assert.deepEqual(
    describe(
      admitCreate(configMapKind, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: meta,
        data: { a: 'x' },
        binaryData: { a: b64('y') },
      }).errors,
    ),
    ['binaryData: Duplicate value: "a"'],
  );
  assert.deepEqual(
    describe(
      admitCreate(configMapKind, { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta, binaryData: { a: '%%' } })
        .errors,
    ),
    ['binaryData[a]: Invalid value: "%%": binaryData[a] in body must be of type byte: "%%"'],
  );
  assert.deepEqual(
    findUnknownFields(configMapKind, { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta, spec: {} }),
    ['.spec'],
  );
});

test('Event: defaults, type enum and kubectl columns', () => {
  const { obj, errors } = admitCreate(eventKind, {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: meta,
    involvedObject: { apiVersion: 'gatehouse.dev/v1alpha1', kind: 'Sync', namespace: 'ops', name: 'apis' },
    reason: 'ReconciliationSucceeded',
    message: 'applied main@sha1:abc',
    lastTimestamp: '2025-01-02T00:00:00Z',
    reportingComponent: 'gatehouse.dev/sync-controller',
  });
  assert.deepEqual(errors, []);
  assert.equal(obj.type, 'Normal');
  assert.equal(obj.count, 1);
  assert.deepEqual(
    eventKind.printerColumns.map((c) => c.cell(obj)),
    ['2025-01-02T00:00:00Z', 'Normal', 'ReconciliationSucceeded', 'sync/apis', 'applied main@sha1:abc'],
  );
  assert.deepEqual(
    describe(
      admitCreate(eventKind, { apiVersion: 'v1', kind: 'Event', metadata: meta, involvedObject: {}, type: 'Error' })
        .errors,
    ),
    ['type: Unsupported value: "Error": supported values: "Normal", "Warning"'],
  );
});
