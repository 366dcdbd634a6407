import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KindDefinition, KubeObject } from '../kind.ts';
import { array, boolean, duration, enumeration, integer, map, object, string } from './build.ts';
import {
  applyDefaults,
  decodeObjectMeta,
  findUnknownFields,
  fullSchema,
  pruneNulls,
  pruneUnknownFields,
  validateObject,
} from './index.ts';

// A kind exercising every structural feature independently of the real kinds.
const widget: KindDefinition = {
  group: 'test.gatehouse.dev',
  version: 'v1',
  kind: 'Widget',
  listKind: 'WidgetList',
  plural: 'widgets',
  singular: 'widget',
  shortNames: [],
  categories: [],
  namespaced: true,
  statusSubresource: true,
  generation: true,
  description: 'A test kind.',
  printerColumns: [],
  schema: object('A test kind.', {
    spec: object(
      'Spec.',
      {
        mode: enumeration('Mode.', ['fast', 'slow'], 'fast'),
        count: integer('Count.', { minimum: 1, maximum: 10 }),
        name: string('Name.', { minLength: 2, maxLength: 5 }),
        wait: duration('Wait.', '1s'),
        nested: object(
          'Nested, defaulted to an empty object.',
          { on: boolean('On.', true), deeper: object('Deeper.', { level: integer('Level.', { default: 3 }) }) },
          { default: {} },
        ),
        absent: object('Not defaulted.', { flag: boolean('Flag.', false) }),
        items: array(
          'Items.',
          object('Item.', { id: string('Id.'), weight: integer('Weight.', { default: 1 }) }, { required: ['id'] }),
          { maxItems: 2, minItems: 1 },
        ),
        labels: map('String map.'),
        byName: map('Map of objects.', object('Entry.', { size: integer('Size.', { default: 7 }) })),
        free: {
          type: 'object',
          description: 'Anything.',
          'x-kubernetes-preserve-unknown-fields': true,
          properties: { known: object('Known.', { x: integer('X.') }) },
        },
        open: { type: 'object', description: 'Open.', additionalProperties: true },
      },
      { required: ['name'] },
    ),
  }),
  strategy: {
    validate: (obj) =>
      (obj.spec as { name: string }).name === 'nope'
        ? [{ type: 'FieldValueForbidden', field: 'spec.name', message: 'Forbidden: nope' }]
        : [],
  },
};

// kube-apiserver's answer for a CRD's validation rules it did not run.
const NOT_CHECKED = {
  type: 'FieldValueInvalid',
  field: '<nil>',
  message:
    'Invalid value: "null": some validation rules were not checked because the object was invalid; ' +
    'correct the existing errors to complete validation',
};

function widgetObject(spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'test.gatehouse.dev/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'default' }, spec };
}

test('fullSchema adds apiVersion, kind and metadata and requires them', () => {
  const schema = fullSchema(widget);
  assert.deepEqual(Object.keys(schema.properties!), ['apiVersion', 'kind', 'metadata', 'spec']);
  assert.deepEqual(schema.required, ['apiVersion', 'kind', 'metadata']);
  assert.equal(schema.properties!.metadata.properties!.labels.additionalProperties && true, true);
  assert.equal(fullSchema(widget), schema, 'computed once per kind');
});

test('applyDefaults fills absent fields where the parent exists, recursively', () => {
  const obj = widgetObject({ name: 'ab', items: [{ id: 'a' }, { id: 'b', weight: 5 }], byName: { x: {} } });
  applyDefaults(widget, obj);
  assert.deepEqual(obj.spec, {
    name: 'ab',
    mode: 'fast',
    wait: '1s',
    nested: { on: true },
    items: [
      { id: 'a', weight: 1 },
      { id: 'b', weight: 5 },
    ],
    byName: { x: { size: 7 } },
  });
});

test('applyDefaults keeps values that are set, including false and 0', () => {
  const obj = widgetObject({ name: 'ab', mode: 'slow', nested: { on: false, deeper: {} }, absent: {} });
  applyDefaults(widget, obj);
  assert.deepEqual((obj.spec as Record<string, unknown>).nested, { on: false, deeper: { level: 3 } });
  assert.deepEqual((obj.spec as Record<string, unknown>).absent, { flag: false });
  assert.equal((obj.spec as Record<string, unknown>).mode, 'slow');
});

test('defaults are copies: mutating one object does not change the schema', () => {
  const a = widgetObject({ name: 'ab' });
  applyDefaults(widget, a);
  (a.spec as Record<string, Record<string, unknown>>).nested.on = false;
  const b = widgetObject({ name: 'ab' });
  applyDefaults(widget, b);
  assert.deepEqual((b.spec as Record<string, unknown>).nested, { on: true });
});

test('findUnknownFields reports undeclared fields with dotted paths, in metadata too', () => {
  const obj = widgetObject({
    name: 'ab',
    bogus: 1,
    items: [{ id: 'a', extra: true }],
    byName: { x: { size: 1, nope: 2 } },
    free: { anything: { goes: 1 }, known: { x: 1, y: 2 } },
    open: { whatever: 1 },
    labels: { 'any.key/name': 'v' },
  });
  obj.metadata.color = 'red';
  obj.topLevel = 1;
  assert.deepEqual(findUnknownFields(widget, obj), [
    '.metadata.color',
    '.spec.bogus',
    '.spec.items[0].extra',
    '.spec.byName[x].nope',
    '.spec.free.known.y',
    '.topLevel',
  ]);
});

test('pruneUnknownFields removes exactly the reported fields', () => {
  const obj = widgetObject({ name: 'ab', bogus: 1, items: [{ id: 'a', extra: true }], free: { kept: 1 } });
  assert.deepEqual(pruneUnknownFields(widget, obj), ['.spec.bogus', '.spec.items[0].extra']);
  assert.deepEqual(obj.spec, { name: 'ab', items: [{ id: 'a' }], free: { kept: 1 } });
  assert.deepEqual(findUnknownFields(widget, obj), []);
});

test('pruneNulls drops nulls the schema does not declare nullable, keeps list items and free-form values, decodes metadata', () => {
  const obj = widgetObject({
    name: 'ab',
    mode: null,
    count: null,
    nested: { on: null, deeper: null },
    items: [{ id: 'a', weight: null }, null],
    labels: { a: null, b: 'x' },
    byName: { x: null },
    free: { anything: null, known: { x: null } },
    open: { whatever: null },
  });
  obj.metadata.labels = null as never;
  obj.metadata.annotations = { a: null } as never;
  pruneNulls(widget, obj);
  assert.deepEqual(obj.metadata, { name: 'w', namespace: 'default', annotations: { a: '' } });
  assert.deepEqual(obj.spec, {
    name: 'ab',
    nested: {},
    items: [{ id: 'a' }, null],
    labels: { b: 'x' },
    byName: {},
    free: { anything: null, known: {} },
    open: { whatever: null },
  });
  applyDefaults(widget, obj);
  const spec = obj.spec as Record<string, unknown>;
  assert.equal(spec.mode, 'fast', 'a defaulted field sent as null gets its default');
  assert.deepEqual(spec.nested, { on: true });
});

test('applyDefaults takes a null that is not nullable for absent, as an applied configuration keeps its nulls', () => {
  const obj = widgetObject({ name: 'ab', mode: null, count: null, nested: { on: null } });
  applyDefaults(widget, obj);
  assert.deepEqual(obj.spec, { name: 'ab', mode: 'fast', count: null, nested: { on: true }, wait: '1s' });
  assert.deepEqual(
    validateObject(widget, obj).map((e) => `${e.field}: ${e.message}`),
    [
      'spec.count: Invalid value: "null": spec.count in body must be of type integer: "null"',
      `${NOT_CHECKED.field}: ${NOT_CHECKED.message}`,
    ],
  );
});

test('decodeObjectMeta drops null and empty ObjectMeta fields and makes null labels and annotations empty', () => {
  const meta = { name: 'w', labels: { a: null, b: 'x' }, annotations: null, finalizers: null };
  decodeObjectMeta(meta);
  assert.deepEqual(meta, { name: 'w', labels: { a: '', b: 'x' } });
  const empty = { name: 'w', labels: {}, annotations: {}, finalizers: [], ownerReferences: [], managedFields: [] };
  decodeObjectMeta(empty);
  assert.deepEqual(empty, { name: 'w', managedFields: [] });
});

test('pruneNulls keeps a null the schema declares nullable', () => {
  const nullable: KindDefinition = {
    ...widget,
    schema: object('Nullable.', { spec: { type: 'object', description: 'Spec.', nullable: true } }),
  };
  const obj = widgetObject(null as never);
  pruneNulls(nullable, obj);
  assert.equal(obj.spec, null);
});

test('unknown-field detection leaves values of the wrong type to validation', () => {
  assert.deepEqual(findUnknownFields(widget, widgetObject({ name: { a: 1 }, items: 'x' })), []);
});

test('validateObject reports schema errors with Kubernetes paths, reasons and messages', () => {
  const obj = widgetObject({
    mode: 'medium',
    count: 0,
    wait: '5 minutes',
    items: [{ weight: 'heavy' }, { id: 'b' }, { id: 'c' }],
    labels: { a: 1 },
  });
  assert.deepEqual(validateObject(widget, obj), [
    { type: 'FieldValueRequired', field: 'spec.name', message: 'Required value' },
    {
      type: 'FieldValueNotSupported',
      field: 'spec.mode',
      message: 'Unsupported value: "medium": supported values: "fast", "slow"',
    },
    {
      type: 'FieldValueInvalid',
      field: 'spec.count',
      message: 'Invalid value: 0: spec.count in body should be greater than or equal to 1',
    },
    {
      type: 'FieldValueInvalid',
      field: 'spec.wait',
      message: 'Invalid value: "5 minutes": spec.wait in body must be of type duration: "5 minutes"',
    },
    { type: 'FieldValueTooMany', field: 'spec.items', message: 'Too many: 3: must have at most 2 items' },
    { type: 'FieldValueRequired', field: 'spec.items[0].id', message: 'Required value' },
    {
      type: 'FieldValueTypeInvalid',
      field: 'spec.items[0].weight',
      message: 'Invalid value: "string": spec.items[0].weight in body must be of type integer: "string"',
    },
    {
      type: 'FieldValueTypeInvalid',
      field: 'spec.labels[a]',
      message: 'Invalid value: "number": spec.labels[a] in body must be of type string: "number"',
    },
    NOT_CHECKED,
  ]);
});

test('validateObject reports lengths and item counts', () => {
  assert.deepEqual(validateObject(widget, widgetObject({ name: 'a', count: 11, items: [] })), [
    {
      type: 'FieldValueInvalid',
      field: 'spec.count',
      message: 'Invalid value: 11: spec.count in body should be less than or equal to 10',
    },
    {
      type: 'FieldValueInvalid',
      field: 'spec.name',
      message: 'Invalid value: "a": spec.name in body should be at least 2 chars long',
    },
    {
      type: 'FieldValueInvalid',
      field: 'spec.items',
      message: 'Invalid value: 0: spec.items in body should have at least 1 items',
    },
  ]);
  assert.deepEqual(validateObject(widget, widgetObject({ name: 'abcdef' })), [
    { type: 'FieldValueTooLong', field: 'spec.name', message: 'Too long: may not be more than 5 bytes' },
    NOT_CHECKED,
  ]);
});

test('validateObject runs the strategy unless the schema found a blocking error, and then says so, as kube runs CRD rules', () => {
  assert.deepEqual(validateObject(widget, widgetObject({ name: 'nope' })), [
    { type: 'FieldValueForbidden', field: 'spec.name', message: 'Forbidden: nope' },
  ]);
  assert.deepEqual(
    validateObject(widget, widgetObject({ name: 'nope', count: 'x' })).map((e) => `${e.type} ${e.field}`),
    ['FieldValueTypeInvalid spec.count', 'FieldValueInvalid <nil>'],
  );
  // A bound is not blocking: one answer names both fields.
  assert.deepEqual(
    validateObject(widget, widgetObject({ name: 'nope', count: 11 })).map((e) => `${e.type} ${e.field}`),
    ['FieldValueInvalid spec.count', 'FieldValueForbidden spec.name'],
  );
  assert.deepEqual(validateObject(widget, widgetObject({ name: 'fine' })), []);
});

test('validateObject says rules were not checked when a strategy cannot check an object the schema refused', () => {
  const relying: KindDefinition = {
    ...widget,
    strategy: {
      validate: (obj) => {
        if ((obj.spec as { count: number }).count > 10) throw new RangeError('count past the schema bound');
        return [];
      },
    },
  };
  assert.deepEqual(validateObject(relying, widgetObject({ name: 'ok', count: 11 })), [
    {
      type: 'FieldValueInvalid',
      field: 'spec.count',
      message: 'Invalid value: 11: spec.count in body should be less than or equal to 10',
    },
    NOT_CHECKED,
  ]);
});

test('validateObject type-checks metadata and the envelope', () => {
  const obj = {
    apiVersion: 1,
    kind: 'Widget',
    metadata: { name: 'w', labels: { a: 1 }, generation: 'x' },
    spec: { name: 'ab' },
  } as unknown as KubeObject;
  assert.deepEqual(
    validateObject(widget, obj).map((e) => `${e.type} ${e.field}`),
    [
      'FieldValueTypeInvalid apiVersion',
      'FieldValueTypeInvalid metadata.generation',
      'FieldValueTypeInvalid metadata.labels[a]',
      'FieldValueInvalid <nil>',
    ],
  );
});
