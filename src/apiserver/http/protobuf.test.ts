import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../errors.ts';
import { apiVersionOf, servedKinds } from '../../api/kinds.ts';
import type { JSONSchema } from '../../api/kind.ts';
import { fullSchema } from '../../api/schema/full-schema.ts';
import { decodeBody } from './body.ts';
import { decodeProtobuf, encodeProtobuf, encodesProtobuf } from './protobuf.ts';

// A tiny protobuf encoder for test bodies: fields are [number, value] pairs, where a
// number/bigint/boolean is a varint, a string or Buffer is length-delimited and an array
// of pairs is an embedded message.
type Pb = [number, number | bigint | boolean | string | Buffer | Pb[]];

function varint(value: bigint): Buffer {
  const bytes: number[] = [];
  let v = BigInt.asUintN(64, value);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (v > 0n);
  return Buffer.from(bytes);
}

function encode(fields: Pb[]): Buffer {
  return Buffer.concat(
    fields.map(([number, value]) => {
      if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
        return Buffer.concat([varint(BigInt(number << 3)), varint(BigInt(value))]);
      }
      const bytes = typeof value === 'string' ? Buffer.from(value) : Buffer.isBuffer(value) ? value : encode(value);
      return Buffer.concat([varint(BigInt((number << 3) | 2)), varint(BigInt(bytes.length)), bytes]);
    }),
  );
}

function entry(key: string, value: string | Buffer): Pb[] {
  return [
    [1, key],
    [2, value],
  ];
}

function body(apiVersion: string, kind: string, raw: Pb[] | Buffer, extra: Pb[] = []): Buffer {
  return Buffer.concat([
    Buffer.from('k8s\0', 'binary'),
    encode([
      [
        1,
        [
          [1, apiVersion],
          [2, kind],
        ],
      ],
      [2, Buffer.isBuffer(raw) ? raw : encode(raw)],
      [4, ''],
      ...extra,
    ]),
  ]);
}

function rejects(fn: () => unknown, reason: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ApiError);
    assert.equal(err.reason, reason);
    assert.match(err.message, message);
    return true;
  });
}

const META: Pb[] = [
  [1, 'creds'],
  [3, 'team-a'],
  [7, 3],
  [8, [[1, 1700000000]]], // creationTimestamp: decoded; the store sets its own on create
  [11, entry('app', 'shop')],
  [11, entry('tier', '')],
  [12, entry('note', 'hello')],
  [14, 'a.io/one'],
  [14, 'a.io/two'],
  [16, 'field-owner'], // unknown to the table: skipped by wire type
];

test('decodes a Secret: metadata, bytes map as base64, string map, type, immutable', () => {
  const obj = decodeProtobuf(
    body('v1', 'Secret', [
      [1, META],
      [2, entry('password', Buffer.from([0xff, 0x00, 0x73]))],
      [2, entry('user', 'admin')],
      [3, 'Opaque'],
      [4, entry('extra', 'plain')],
      [5, false],
    ]),
    'a new Secret',
  );
  assert.deepEqual(obj, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: 'creds',
      namespace: 'team-a',
      generation: 3,
      creationTimestamp: '2023-11-14T22:13:20Z',
      labels: { app: 'shop', tier: '' },
      annotations: { note: 'hello' },
      finalizers: ['a.io/one', 'a.io/two'],
    },
    data: {
      password: Buffer.from([0xff, 0x00, 0x73]).toString('base64'),
      user: Buffer.from('admin').toString('base64'),
    },
    type: 'Opaque',
    stringData: { extra: 'plain' },
    immutable: false,
  });
});

test('decodes a ConfigMap with data and binaryData, and omits empty scalars as Go JSON does', () => {
  const obj = decodeProtobuf(
    body('v1', 'ConfigMap', [
      [
        1,
        [
          [1, 'settings'],
          [2, ''],
          [6, ''],
          [7, 0],
        ],
      ],
      [2, entry('mode', 'fast')],
      [3, entry('blob', Buffer.from('bin'))],
      [4, true],
    ]),
    'a new ConfigMap',
  );
  assert.deepEqual(obj, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'settings' },
    data: { mode: 'fast' },
    binaryData: { blob: Buffer.from('bin').toString('base64') },
    immutable: true,
  });
});

test('decodes a Namespace with spec finalizers and status phase; metadata defaults to {}', () => {
  assert.deepEqual(
    decodeProtobuf(
      body('v1', 'Namespace', [
        [2, [[1, 'kubernetes']]],
        [3, [[1, 'Active']]],
      ]),
      'x',
    ),
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {},
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    },
  );
});

test('decodes an Event with references, counts and timestamps', () => {
  const obj = decodeProtobuf(
    body('v1', 'Event', [
      [
        1,
        [
          [1, 'shop.1'],
          [3, 'default'],
        ],
      ],
      [
        2,
        [
          [1, 'ApiDefinition'],
          [3, 'shop'],
          [5, 'gatehouse.dev/v1alpha1'],
        ],
      ],
      [3, 'Synced'],
      [4, 'applied'],
      [5, [[1, 'gitops']]],
      [6, [[1, 1700000000]]],
      [8, 2],
      [9, 'Normal'],
      [
        10,
        [
          [1, 1700000000],
          [2, 123456789],
        ],
      ],
    ]),
    'x',
  );
  assert.deepEqual(obj, {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'shop.1', namespace: 'default' },
    involvedObject: { kind: 'ApiDefinition', name: 'shop', apiVersion: 'gatehouse.dev/v1alpha1' },
    reason: 'Synced',
    message: 'applied',
    source: { component: 'gitops' },
    firstTimestamp: '2023-11-14T22:13:20Z',
    count: 2,
    type: 'Normal',
    eventTime: '2023-11-14T22:13:20.123456Z',
  });
});

test('reads negative int64 varints as signed', () => {
  const obj = decodeProtobuf(body('v1', 'ConfigMap', [[1, [[7, -1n]]]]), 'x');
  assert.deepEqual(obj.metadata, { generation: -1 });
});

test('refuses kinds without a table and content encodings with 415', () => {
  rejects(
    () => decodeProtobuf(body('gatehouse.dev/v1alpha1', 'ApiDefinition', []), 'a new ApiDefinition'),
    'UnsupportedMediaType',
    /holds ApiDefinition \(gatehouse\.dev\/v1alpha1\); protobuf is accepted only for v1\/Namespace, v1\/Secret, v1\/ConfigMap, v1\/Event/,
  );
  rejects(() => decodeProtobuf(body('v1', 'Pod', []), 'x'), 'UnsupportedMediaType', /holds Pod \(v1\)/);
  rejects(
    () => decodeProtobuf(body('v1', 'Secret', [], [[3, 'gzip']]), 'x'),
    'UnsupportedMediaType',
    /content encoding "gzip"/,
  );
});

test('refuses malformed bytes with 400', () => {
  rejects(
    () => decodeProtobuf(Buffer.from('{"kind":"Secret"}'), 'a new Secret'),
    'BadRequest',
    /for a new Secret does not start with the Kubernetes protobuf magic number/,
  );
  const truncated = body('v1', 'Secret', [[1, [[1, 'creds']]]]);
  rejects(
    () => decodeProtobuf(truncated.subarray(0, truncated.length - 3), 'x'),
    'BadRequest',
    /is malformed: length-delimited field runs past the end/,
  );
  rejects(
    () => decodeProtobuf(body('v1', 'Secret', Buffer.from([0x0a, 0x05, 0x0a])), 'x'),
    'BadRequest',
    /malformed: length-delimited field runs past the end/,
  );
  rejects(
    () => decodeProtobuf(body('v1', 'Secret', Buffer.from([0x08, 0x01])), 'x'),
    'BadRequest',
    /malformed: field metadata has wire type 0, expected 2/,
  );
  rejects(
    () => decodeProtobuf(body('v1', 'Secret', Buffer.from([0x33])), 'x'),
    'BadRequest',
    /malformed: unsupported wire type 3/,
  );
  rejects(
    () => decodeProtobuf(body('v1', 'Secret', encode([[1, [[1, Buffer.from([0xc3, 0x28])]]]])), 'x'),
    'BadRequest',
    /malformed: field metadata\.name is not valid UTF-8/,
  );
  rejects(
    () => decodeProtobuf(body('v1', 'Secret', Buffer.from([0x28, 0xff, 0xff])), 'x'),
    'BadRequest',
    /malformed: truncated varint/,
  );
});

test('decodeBody accepts protobuf only where the caller allows it', () => {
  const raw = body('v1', 'ConfigMap', [[1, [[1, 'c']]]]);
  assert.deepEqual(decodeBody(raw, 'application/vnd.kubernetes.protobuf', 'x', { protobuf: true }), {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'c' },
  });
  rejects(
    () => decodeBody(raw, 'application/vnd.kubernetes.protobuf', 'the patch'),
    'UnsupportedMediaType',
    /unknown format \(application\/vnd\.kubernetes\.protobuf\) - accepted media types include: application\/json, application\/yaml$/,
  );
  rejects(
    () => decodeBody(Buffer.alloc(0), 'application/vnd.kubernetes.protobuf', 'a new Secret', { protobuf: true }),
    'BadRequest',
    /request body for a new Secret is empty/,
  );
});

test('encodes what it decodes: every field of the tables, times with their precision, lists and Status', () => {
  const metadata = {
    name: 'creds',
    namespace: 'team-a',
    uid: 'u-1',
    resourceVersion: '42',
    generation: 2,
    creationTimestamp: '2024-05-06T07:08:09Z',
    deletionTimestamp: '2024-05-06T07:09:09Z',
    deletionGracePeriodSeconds: 30,
    labels: { b: '2', a: '1' },
    annotations: { note: 'héllo' },
    ownerReferences: [
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: 'u-0', controller: true, blockOwnerDeletion: true },
    ],
    finalizers: ['a.io/one'],
    managedFields: [
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'v1',
        time: '2024-05-06T07:08:09Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:data': { 'f:password': {} } },
      },
    ],
  };
  const data = { password: Buffer.from([0xff, 0]).toString('base64') };
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata, data, type: 'Opaque' };
  assert.deepEqual(decodeProtobuf(encodeProtobuf(secret), 'x'), secret);
  const event = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'e', namespace: 'team-a' },
    involvedObject: { kind: 'ConfigMap', name: 'owner', namespace: 'team-a' },
    reason: 'Synced',
    eventTime: '2024-05-06T07:08:09.123456Z',
    series: { count: 3, lastObservedTime: '2024-05-06T07:08:10.000001Z' },
    count: 2,
  };
  assert.deepEqual(decodeProtobuf(encodeProtobuf(event), 'x'), event);
  const review = {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenReview',
    metadata: {},
    spec: { token: 't' },
    status: { authenticated: true, user: { username: 'u', groups: ['g'], extra: { scopes: ['a', 'b'] } } },
  };
  assert.deepEqual(decodeProtobuf(encodeProtobuf(review), 'x'), review);
  // Lists and Status are never request bodies (no decoding table): their envelope and fields are checked.
  const list = encodeProtobuf({ apiVersion: 'v1', kind: 'SecretList', metadata: {}, items: [secret] });
  assert.ok(list.toString('latin1').includes('\n\x02v1\x12\nSecretList'));
  assert.ok(list.toString('latin1').includes('\n\x05creds'), 'the item, with its name');
  const status = encodeProtobuf({ apiVersion: 'v1', kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404 });
  assert.ok(status.toString('latin1').includes('\x12\x07Failure"\x08NotFound0\x94\x03'));
  assert.ok(encodesProtobuf('v1', 'Secret'));
  assert.ok(!encodesProtobuf('gatehouse.dev/v1alpha1', 'ApiDefinition'));
  const custom = { apiVersion: 'gatehouse.dev/v1alpha1', kind: 'ApiDefinition' };
  assert.throws(() => encodeProtobuf(custom), /no protobuf message table/);
});

/** An instance of `schema` with every declared property set (maps and lists with one entry); fields whose
 * schema declares nothing (managedFields, checked above) are left out. */
function everyField(schema: JSONSchema | undefined, depth = 0): unknown {
  if (!schema || depth > 10 || schema['x-kubernetes-preserve-unknown-fields']) return undefined;
  if (schema.properties) {
    const entries = Object.entries(schema.properties).map(([k, v]) => [k, everyField(v as JSONSchema, depth + 1)]);
    return Object.fromEntries(entries.filter(([, v]) => v !== undefined));
  }
  if (schema.type === 'object') {
    const value =
      typeof schema.additionalProperties === 'object' ? everyField(schema.additionalProperties, depth + 1) : 'v';
    return { key: value };
  }
  if (schema.type === 'array') {
    const item = everyField(schema.items, depth + 1);
    return item === undefined ? undefined : [item];
  }
  if (schema.type === 'integer') return 3;
  if (schema.type === 'boolean') return true;
  if (schema.format === 'date-time') return '2024-01-02T03:04:05Z';
  if (schema.format === 'byte') return 'AQI=';
  return (schema.enum?.[0] as string | undefined) ?? 'x';
}

test('every field a built-in kind declares survives its protobuf form', () => {
  const builtIn = servedKinds.filter((def) => encodesProtobuf(apiVersionOf(def), def.kind));
  assert.ok(builtIn.some((def) => def.kind === 'Event'));
  assert.ok(
    builtIn.every((def) => !def.group.endsWith('gatehouse.dev')),
    'our kinds have no protobuf form',
  );
  for (const def of builtIn) {
    const fields = everyField(fullSchema(def)) as Record<string, unknown>;
    const obj = { ...fields, apiVersion: apiVersionOf(def), kind: def.kind };
    const decoded = decodeProtobuf(encodeProtobuf(obj), def.kind);
    assert.deepEqual(instants(decoded), instants(obj), `${def.kind}: a field missing from its table`);
  }
});

/** `value` with each RFC 3339 time as its instant: a MicroTime (Event eventTime) comes back with microseconds. */
function instants(value: unknown): unknown {
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(value)) return new Date(value).toISOString();
  if (Array.isArray(value)) return value.map(instants);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, instants(v)]));
}
