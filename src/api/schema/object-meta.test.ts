import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateObjectMeta } from './object-meta.ts';

const fields = (errors: { field: string; type: string }[]) => errors.map((e) => `${e.type} ${e.field}`);

test('a well-formed namespaced object has no metadata errors', () => {
  assert.deepEqual(
    validateObjectMeta(
      {
        name: 'orders.v2',
        namespace: 'team-a',
        labels: { 'app.kubernetes.io/name': 'orders', tier: '' },
        annotations: { 'Example.com/Owner': 'Team A' },
        finalizers: ['gatehouse.dev/cleanup'],
      },
      true,
      'ApiDefinition',
    ),
    [],
  );
});

test('name is required unless generateName is set', () => {
  assert.deepEqual(validateObjectMeta({ namespace: 'default' }, true, 'Consumer'), [
    { type: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' },
  ]);
  assert.deepEqual(validateObjectMeta({ generateName: 'key-', namespace: 'default' }, true, 'ApiKey'), []);
  assert.deepEqual(fields(validateObjectMeta({ generateName: 'Key-', namespace: 'default' }, true, 'ApiKey')), [
    'FieldValueInvalid metadata.generateName',
  ]);
});

test('names are DNS-1123 subdomains, Namespace names DNS-1123 labels', () => {
  const [err] = validateObjectMeta({ name: 'Orders', namespace: 'default' }, true, 'ApiDefinition');
  assert.equal(err.field, 'metadata.name');
  assert.match(err.message, /^Invalid value: "Orders": a lowercase RFC 1123 subdomain must consist of/);
  const labelErrors = validateObjectMeta({ name: 'a.b' }, false, 'Namespace');
  assert.equal(labelErrors.length, 1);
  assert.match(labelErrors[0].message, /^Invalid value: "a\.b": a lowercase RFC 1123 label must consist of/);
  assert.deepEqual(fields(validateObjectMeta({ name: 'a'.repeat(254), namespace: 'x' }, true, 'Sync')), [
    'FieldValueInvalid metadata.name',
  ]);
  assert.match(
    validateObjectMeta({ name: 'a'.repeat(254), namespace: 'x' }, true, 'Sync')[0].message,
    /must be no more than 253 characters/,
  );
});

test('namespace is required on namespaced kinds and forbidden on cluster-scoped ones', () => {
  assert.deepEqual(validateObjectMeta({ name: 'a' }, true, 'Consumer'), [
    { type: 'FieldValueRequired', field: 'metadata.namespace', message: 'Required value' },
  ]);
  assert.deepEqual(validateObjectMeta({ name: 'a', namespace: 'b' }, false, 'Namespace'), [
    { type: 'FieldValueForbidden', field: 'metadata.namespace', message: 'Forbidden: not allowed on this type' },
  ]);
  assert.deepEqual(fields(validateObjectMeta({ name: 'a', namespace: 'Team_A' }, true, 'Consumer')), [
    'FieldValueInvalid metadata.namespace',
  ]);
});

test('label keys are qualified names and values at most 63 characters', () => {
  const errors = validateObjectMeta(
    {
      name: 'a',
      namespace: 'b',
      labels: { 'bad key': 'ok', 'a/b/c': 'ok', '-x': 'ok', 'Example.com/x': 'ok', ok: 'v'.repeat(64), ok2: '-bad' },
    },
    true,
    'Consumer',
  );
  assert.deepEqual(
    errors.map((e) => e.message.slice(0, e.message.indexOf(':', 15))),
    [
      'Invalid value: "bad key"',
      'Invalid value: "a/b/c"',
      'Invalid value: "-x"',
      'Invalid value: "Example.com/x"',
      `Invalid value: "${'v'.repeat(64)}"`,
      'Invalid value: "-bad"',
    ],
  );
  assert.ok(errors.every((e) => e.field === 'metadata.labels'));
  assert.match(errors[3].message, /prefix part a lowercase RFC 1123 subdomain/);
  assert.match(errors[4].message, /must be no more than 63 characters/);
});

test('annotation keys are checked lower-cased, and their total size is bounded', () => {
  assert.deepEqual(
    fields(validateObjectMeta({ name: 'a', namespace: 'b', annotations: { 'x/y/z': '' } }, true, 'Consumer')),
    ['FieldValueInvalid metadata.annotations'],
  );
  const big = validateObjectMeta(
    { name: 'a', namespace: 'b', annotations: { big: 'x'.repeat(256 * 1024) } },
    true,
    'Consumer',
  );
  assert.deepEqual(big, [
    { type: 'FieldValueTooLong', field: 'metadata.annotations', message: 'Too long: must have at most 262144 bytes' },
  ]);
});

test('finalizers are qualified names, reported by index', () => {
  assert.deepEqual(
    fields(validateObjectMeta({ name: 'a', namespace: 'b', finalizers: ['gatehouse.dev/ok', 'not ok'] }, true, 'Sync')),
    ['FieldValueInvalid metadata.finalizers[1]'],
  );
});

test('the garbage collector cannot both orphan and delete the dependents, as kube refuses', () => {
  const finalizers = ['orphan', 'foregroundDeletion'];
  const both = validateObjectMeta({ name: 'a', namespace: 'b', finalizers }, true, 'Sync');
  const message =
    'Invalid value: ["orphan","foregroundDeletion"]: finalizer orphan and foregroundDeletion cannot be both set';
  assert.deepEqual(both, [{ type: 'FieldValueInvalid', field: 'metadata.finalizers', message }]);
  assert.deepEqual(validateObjectMeta({ name: 'a', namespace: 'b', finalizers: ['orphan'] }, true, 'Sync'), []);
});
