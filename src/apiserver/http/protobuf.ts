// Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`), which
// kubectl's imperative commands for built-in kinds send (`kubectl create namespace|secret|
// configmap`, `kubectl auth can-i`). A body is the magic `k8s\0` followed by a runtime.Unknown envelope
// {typeMeta=1 {apiVersion=1, kind=2}, raw=2, contentEncoding=3, contentType=4} whose `raw`
// is the object's own message. We decode, never encode: responses stay JSON, which
// clients accept back. Only the core kinds we serve and the access reviews have message tables
// below; their fields are decoded into the JSON the rest of the server handles, and fields we do not
// keep (timestamps and ownerReferences of ObjectMeta, managedFields…) are skipped.
import { ApiError, errors } from '../errors.ts';

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Scalar = 'string' | 'bytes' | 'int64' | 'int32' | 'bool' | 'time' | 'microtime';

/** One field of a message table. `bytes` become base64 strings, as in Kubernetes JSON. */
interface Field {
  name: string;
  type: Scalar | Message;
  repeated?: true;
  /** A map<string, value>: on the wire, repeated entry messages {key=1, value=2}. */
  map?: 'string' | 'bytes';
}

type Message = { readonly [fieldNumber: number]: Field };

// k8s.io/apimachinery/pkg/apis/meta/v1 Time and MicroTime: {seconds=1, nanos=2}.
const TIMESTAMP: Message = { 1: { name: 'seconds', type: 'int64' }, 2: { name: 'nanos', type: 'int32' } };

const OBJECT_META: Message = {
  1: { name: 'name', type: 'string' },
  2: { name: 'generateName', type: 'string' },
  3: { name: 'namespace', type: 'string' },
  5: { name: 'uid', type: 'string' },
  6: { name: 'resourceVersion', type: 'string' },
  7: { name: 'generation', type: 'int64' },
  11: { name: 'labels', type: 'string', map: 'string' },
  12: { name: 'annotations', type: 'string', map: 'string' },
  14: { name: 'finalizers', type: 'string', repeated: true },
};

const OBJECT_REFERENCE: Message = {
  1: { name: 'kind', type: 'string' },
  2: { name: 'namespace', type: 'string' },
  3: { name: 'name', type: 'string' },
  4: { name: 'uid', type: 'string' },
  5: { name: 'apiVersion', type: 'string' },
  6: { name: 'resourceVersion', type: 'string' },
  7: { name: 'fieldPath', type: 'string' },
};

// authorization.k8s.io/v1, which `kubectl auth can-i` sends as protobuf. SubjectAccessReviewSpec's extra
// (5, a map of ExtraValue messages) and ResourceAttributes' field and label selectors (8, 9) are not
// decoded: kubectl sends none of them, and clients that do send JSON.
const RESOURCE_ATTRIBUTES: Message = {
  1: { name: 'namespace', type: 'string' },
  2: { name: 'verb', type: 'string' },
  3: { name: 'group', type: 'string' },
  4: { name: 'version', type: 'string' },
  5: { name: 'resource', type: 'string' },
  6: { name: 'subresource', type: 'string' },
  7: { name: 'name', type: 'string' },
};
const NON_RESOURCE_ATTRIBUTES: Message = { 1: { name: 'path', type: 'string' }, 2: { name: 'verb', type: 'string' } };
const SELF_REVIEW_SPEC: Message = {
  1: { name: 'resourceAttributes', type: RESOURCE_ATTRIBUTES },
  2: { name: 'nonResourceAttributes', type: NON_RESOURCE_ATTRIBUTES },
};
const REVIEW_SPEC: Message = {
  ...SELF_REVIEW_SPEC,
  3: { name: 'user', type: 'string' },
  4: { name: 'groups', type: 'string', repeated: true },
  6: { name: 'uid', type: 'string' },
};
const review = (spec: Message): Message => ({
  1: { name: 'metadata', type: OBJECT_META },
  2: { name: 'spec', type: spec },
});

// rbac.authorization.k8s.io/v1, which `kubectl create role|clusterrole|rolebinding|clusterrolebinding` sends
// as protobuf (k8s.io/api/rbac/v1/generated.proto).
const POLICY_RULE: Message = {
  1: { name: 'verbs', type: 'string', repeated: true },
  2: { name: 'apiGroups', type: 'string', repeated: true },
  3: { name: 'resources', type: 'string', repeated: true },
  4: { name: 'resourceNames', type: 'string', repeated: true },
  5: { name: 'nonResourceURLs', type: 'string', repeated: true },
};
const LABEL_REQUIREMENT: Message = {
  1: { name: 'key', type: 'string' },
  2: { name: 'operator', type: 'string' },
  3: { name: 'values', type: 'string', repeated: true },
};
const LABEL_SELECTOR: Message = {
  1: { name: 'matchLabels', type: 'string', map: 'string' },
  2: { name: 'matchExpressions', type: LABEL_REQUIREMENT, repeated: true },
};
const SUBJECT: Message = {
  1: { name: 'kind', type: 'string' },
  2: { name: 'apiGroup', type: 'string' },
  3: { name: 'name', type: 'string' },
  4: { name: 'namespace', type: 'string' },
};
const ROLE_REF: Message = {
  1: { name: 'apiGroup', type: 'string' },
  2: { name: 'kind', type: 'string' },
  3: { name: 'name', type: 'string' },
};
const BINDING: Message = {
  1: { name: 'metadata', type: OBJECT_META },
  2: { name: 'subjects', type: SUBJECT, repeated: true },
  3: { name: 'roleRef', type: ROLE_REF },
};

/** Message tables of the kinds accepted as protobuf, by `apiVersion/kind`. */
const KINDS: Record<string, Message> = {
  'v1/Namespace': {
    1: { name: 'metadata', type: OBJECT_META },
    2: { name: 'spec', type: { 1: { name: 'finalizers', type: 'string', repeated: true } } },
    3: { name: 'status', type: { 1: { name: 'phase', type: 'string' } } },
  },
  'v1/Secret': {
    1: { name: 'metadata', type: OBJECT_META },
    2: { name: 'data', type: 'string', map: 'bytes' },
    3: { name: 'type', type: 'string' },
    4: { name: 'stringData', type: 'string', map: 'string' },
    5: { name: 'immutable', type: 'bool' },
  },
  'v1/ConfigMap': {
    1: { name: 'metadata', type: OBJECT_META },
    2: { name: 'data', type: 'string', map: 'string' },
    3: { name: 'binaryData', type: 'string', map: 'bytes' },
    4: { name: 'immutable', type: 'bool' },
  },
  'v1/Event': {
    1: { name: 'metadata', type: OBJECT_META },
    2: { name: 'involvedObject', type: OBJECT_REFERENCE },
    3: { name: 'reason', type: 'string' },
    4: { name: 'message', type: 'string' },
    5: { name: 'source', type: { 1: { name: 'component', type: 'string' }, 2: { name: 'host', type: 'string' } } },
    6: { name: 'firstTimestamp', type: 'time' },
    7: { name: 'lastTimestamp', type: 'time' },
    8: { name: 'count', type: 'int32' },
    9: { name: 'type', type: 'string' },
    10: { name: 'eventTime', type: 'microtime' },
    12: { name: 'action', type: 'string' },
    13: { name: 'related', type: OBJECT_REFERENCE },
    14: { name: 'reportingComponent', type: 'string' },
    15: { name: 'reportingInstance', type: 'string' },
  },
  'rbac.authorization.k8s.io/v1/Role': {
    1: { name: 'metadata', type: OBJECT_META },
    2: { name: 'rules', type: POLICY_RULE, repeated: true },
  },
  'rbac.authorization.k8s.io/v1/ClusterRole': {
    1: { name: 'metadata', type: OBJECT_META },
    2: { name: 'rules', type: POLICY_RULE, repeated: true },
    3: { name: 'aggregationRule', type: { 1: { name: 'clusterRoleSelectors', type: LABEL_SELECTOR, repeated: true } } },
  },
  'rbac.authorization.k8s.io/v1/RoleBinding': BINDING,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': BINDING,
  'authorization.k8s.io/v1/SubjectAccessReview': review(REVIEW_SPEC),
  'authorization.k8s.io/v1/LocalSubjectAccessReview': review(REVIEW_SPEC),
  'authorization.k8s.io/v1/SelfSubjectAccessReview': review(SELF_REVIEW_SPEC),
  'authorization.k8s.io/v1/SelfSubjectRulesReview': review({ 1: { name: 'namespace', type: 'string' } }),
  'v1/ServiceAccount': {
    1: { name: 'metadata', type: OBJECT_META },
    2: { name: 'secrets', type: OBJECT_REFERENCE, repeated: true },
    3: { name: 'imagePullSecrets', type: { 1: { name: 'name', type: 'string' } }, repeated: true },
    4: { name: 'automountServiceAccountToken', type: 'bool' },
  },
  // authentication.k8s.io/v1, which `kubectl create token` and `kubectl auth whoami` send as protobuf.
  'authentication.k8s.io/v1/TokenRequest': review({
    1: { name: 'audiences', type: 'string', repeated: true },
    3: { name: 'boundObjectRef', type: { 1: { name: 'kind', type: 'string' }, 3: { name: 'name', type: 'string' } } },
    4: { name: 'expirationSeconds', type: 'int64' },
  }),
  'authentication.k8s.io/v1/TokenReview': review({
    1: { name: 'token', type: 'string' },
    2: { name: 'audiences', type: 'string', repeated: true },
  }),
  'authentication.k8s.io/v1/SelfSubjectReview': { 1: { name: 'metadata', type: OBJECT_META } },
};

const ENVELOPE: Message = {
  1: { name: 'typeMeta', type: { 1: { name: 'apiVersion', type: 'string' }, 2: { name: 'kind', type: 'string' } } },
  2: { name: 'raw', type: 'bytes' },
  3: { name: 'contentEncoding', type: 'string' },
  4: { name: 'contentType', type: 'string' },
};

/** Thrown inside the reader for bytes that are not a valid message; becomes 400. */
class Malformed extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true });

class Reader {
  private pos: number;
  constructor(private readonly buf: Uint8Array, start = 0, private readonly end = buf.length) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.end) throw new Malformed('truncated varint');
      const byte = this.buf[this.pos++];
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return BigInt.asUintN(64, result);
    }
    throw new Malformed('varint longer than 10 bytes');
  }

  /** Returns the bounds of a length-delimited value and moves past it. */
  delimited(): [number, number] {
    const length = this.varint();
    if (length > BigInt(this.end - this.pos)) throw new Malformed('length-delimited field runs past the end of its message');
    const start = this.pos;
    this.pos += Number(length);
    return [start, this.pos];
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        return this.advance(8);
      case 2:
        this.delimited();
        return;
      case 5:
        return this.advance(4);
      default:
        throw new Malformed(`unsupported wire type ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new Malformed('truncated fixed-width field');
    this.pos += n;
  }
}

function expectWireType(actual: number, expected: number, field: string): void {
  if (actual !== expected) throw new Malformed(`field ${field} has wire type ${actual}, expected ${expected}`);
}

function toTime(ts: Record<string, unknown>, micro: boolean): string {
  const ms = Number(ts.seconds ?? 0) * 1000 + Math.floor(Number(ts.nanos ?? 0) / 1e6);
  const iso = new Date(ms).toISOString();
  if (!micro) return iso.replace(/\.\d{3}Z$/, 'Z');
  const micros = String(Math.floor(Number(ts.nanos ?? 0) / 1000)).padStart(6, '0');
  return iso.replace(/\.\d{3}Z$/, `.${micros}Z`);
}

function decodeScalar(type: Scalar, buf: Uint8Array, reader: Reader, wireType: number, path: string): unknown {
  switch (type) {
    case 'string':
    case 'bytes': {
      expectWireType(wireType, 2, path);
      const [start, end] = reader.delimited();
      const bytes = buf.subarray(start, end);
      if (type === 'bytes') return Buffer.from(bytes).toString('base64');
      try {
        return utf8.decode(bytes);
      } catch {
        throw new Malformed(`field ${path} is not valid UTF-8`);
      }
    }
    case 'int64':
    case 'int32': {
      expectWireType(wireType, 0, path);
      const value = BigInt.asIntN(type === 'int64' ? 64 : 32, reader.varint());
      if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) throw new Malformed(`field ${path} is out of range`);
      return Number(value);
    }
    case 'bool':
      expectWireType(wireType, 0, path);
      return reader.varint() !== 0n;
    case 'time':
    case 'microtime': {
      expectWireType(wireType, 2, path);
      const [start, end] = reader.delimited();
      return toTime(decodeMessage(TIMESTAMP, buf, start, end, path), type === 'microtime');
    }
  }
}

function decodeMessage(table: Message, buf: Uint8Array, start: number, end: number, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const reader = new Reader(buf, start, end);
  while (!reader.done) {
    const tag = reader.varint();
    const number = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    if (number === 0) throw new Malformed('field number 0');
    const field = table[number];
    if (!field) {
      reader.skip(wireType);
      continue;
    }
    const fieldPath = path ? `${path}.${field.name}` : field.name;
    let value: unknown;
    if (field.map) {
      expectWireType(wireType, 2, fieldPath);
      const [s, e] = reader.delimited();
      const entry = decodeMessage({ 1: { name: 'key', type: 'string' }, 2: { name: 'value', type: field.map } }, buf, s, e, fieldPath);
      const map = (out[field.name] ??= {}) as Record<string, unknown>;
      map[(entry.key as string | undefined) ?? ''] = entry.value ?? '';
      continue;
    }
    if (typeof field.type === 'string') {
      value = decodeScalar(field.type, buf, reader, wireType, fieldPath);
    } else {
      expectWireType(wireType, 2, fieldPath);
      const [s, e] = reader.delimited();
      value = decodeMessage(field.type, buf, s, e, fieldPath);
    }
    if (field.repeated) ((out[field.name] ??= []) as unknown[]).push(value);
    // Go's encoder writes non-pointer strings and numbers even when empty, and Kubernetes
    // JSON omits them (omitempty): an empty value is an absent one, so defaults apply.
    else if (value === '' || value === 0) delete out[field.name];
    else out[field.name] = value;
  }
  return out;
}

/** The kinds (`apiVersion/kind`) that may be sent as protobuf, for error messages. */
export const PROTOBUF_KINDS = Object.keys(KINDS);

/** Decodes a Kubernetes protobuf body into the JSON object {apiVersion, kind, metadata, …}. */
export function decodeProtobuf(raw: Buffer, what: string): Record<string, unknown> {
  if (raw.length < MAGIC.length || !raw.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw errors.badRequest(`the protobuf body for ${what} does not start with the Kubernetes protobuf magic number`);
  }
  let envelope: Record<string, unknown>;
  try {
    envelope = decodeMessage(ENVELOPE, raw, MAGIC.length, raw.length, '');
  } catch (err) {
    if (err instanceof Malformed) throw errors.badRequest(`the protobuf body for ${what} is malformed: ${err.message}`);
    throw err;
  }
  const typeMeta = (envelope.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const apiVersion = typeMeta.apiVersion ?? '';
  const kind = typeMeta.kind ?? '';
  if (envelope.contentEncoding) {
    throw new ApiError('UnsupportedMediaType', `the protobuf body for ${what} uses content encoding "${String(envelope.contentEncoding)}", which is not supported`);
  }
  const table = KINDS[`${apiVersion}/${kind}`];
  if (!table) {
    throw new ApiError(
      'UnsupportedMediaType',
      `the protobuf body for ${what} holds ${kind || 'an object without a kind'}${apiVersion ? ` (${apiVersion})` : ''}; protobuf is accepted only for ${PROTOBUF_KINDS.join(', ')} - send other kinds as application/json or application/yaml`,
    );
  }
  const bytes = Buffer.from((envelope.raw as string | undefined) ?? '', 'base64');
  try {
    const object = decodeMessage(table, bytes, 0, bytes.length, '');
    return { apiVersion, kind, ...object, metadata: object.metadata ?? {} };
  } catch (err) {
    if (err instanceof Malformed) throw errors.badRequest(`the protobuf body for ${what} is malformed: ${err.message}`);
    throw err;
  }
}
