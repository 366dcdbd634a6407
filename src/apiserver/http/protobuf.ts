// Kubernetes protobuf (`application/vnd.kubernetes.protobuf`) for the built-in kinds we serve:
// request bodies, which kubectl's imperative commands send (`kubectl create namespace|secret|
// configmap`, `kubectl auth can-i`), and responses, which kubectl and client-go's typed clients ask
// for first (`Accept: application/vnd.kubernetes.protobuf,application/json`). A body is the magic
// `k8s\0` followed by a runtime.Unknown envelope {typeMeta=1 {apiVersion=1, kind=2}, raw=2,
// contentEncoding=3, contentType=4} whose `raw` is the object's own message. One message table per
// kind (k8s.io/api's generated.proto field numbers) serves both directions; fields a table does not
// name are skipped when decoding and never written. Kinds without a table (ours, like custom
// resources) are JSON and YAML only.
import protobuf from 'protobufjs';
import { ApiError, errors } from '../errors.ts';

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** `bytes` are base64 strings in Kubernetes JSON; `raw-json` is a message {raw=1} holding a value's JSON
 * (FieldsV1, RawExtension); `strings` is a message {items=1} holding a list of strings (ExtraValue). */
type Scalar = 'string' | 'bytes' | 'int64' | 'int32' | 'bool' | 'time' | 'microtime' | 'raw-json' | 'strings';

/** One field of a message table. */
interface Field {
  name: string;
  type: Scalar | Message;
  repeated?: true;
  /** A map<string, value>: on the wire, repeated entry messages {key=1, value=2}. */
  map?: 'string' | 'bytes' | 'strings';
}

type Message = { readonly [fieldNumber: number]: Field };

// k8s.io/apimachinery/pkg/apis/meta/v1 Time and MicroTime: {seconds=1, nanos=2}.
const TIMESTAMP: Message = { 1: { name: 'seconds', type: 'int64' }, 2: { name: 'nanos', type: 'int32' } };

const OWNER_REFERENCE: Message = {
  1: { name: 'kind', type: 'string' },
  3: { name: 'name', type: 'string' },
  4: { name: 'uid', type: 'string' },
  5: { name: 'apiVersion', type: 'string' },
  6: { name: 'controller', type: 'bool' },
  7: { name: 'blockOwnerDeletion', type: 'bool' },
};

const MANAGED_FIELDS_ENTRY: Message = {
  1: { name: 'manager', type: 'string' },
  2: { name: 'operation', type: 'string' },
  3: { name: 'apiVersion', type: 'string' },
  4: { name: 'time', type: 'time' },
  6: { name: 'fieldsType', type: 'string' },
  7: { name: 'fieldsV1', type: 'raw-json' },
  8: { name: 'subresource', type: 'string' },
};

const OBJECT_META: Message = {
  1: { name: 'name', type: 'string' },
  2: { name: 'generateName', type: 'string' },
  3: { name: 'namespace', type: 'string' },
  4: { name: 'selfLink', type: 'string' },
  5: { name: 'uid', type: 'string' },
  6: { name: 'resourceVersion', type: 'string' },
  7: { name: 'generation', type: 'int64' },
  8: { name: 'creationTimestamp', type: 'time' },
  9: { name: 'deletionTimestamp', type: 'time' },
  10: { name: 'deletionGracePeriodSeconds', type: 'int64' },
  11: { name: 'labels', type: 'string', map: 'string' },
  12: { name: 'annotations', type: 'string', map: 'string' },
  13: { name: 'ownerReferences', type: OWNER_REFERENCE, repeated: true },
  14: { name: 'finalizers', type: 'string', repeated: true },
  17: { name: 'managedFields', type: MANAGED_FIELDS_ENTRY, repeated: true },
};

const LIST_META: Message = {
  1: { name: 'selfLink', type: 'string' },
  2: { name: 'resourceVersion', type: 'string' },
  3: { name: 'continue', type: 'string' },
  4: { name: 'remainingItemCount', type: 'int64' },
};

// meta/v1 Status, the body of errors and of some deletes.
const STATUS: Message = {
  1: { name: 'metadata', type: LIST_META },
  2: { name: 'status', type: 'string' },
  3: { name: 'message', type: 'string' },
  4: { name: 'reason', type: 'string' },
  5: {
    name: 'details',
    type: {
      1: { name: 'name', type: 'string' },
      2: { name: 'group', type: 'string' },
      3: { name: 'kind', type: 'string' },
      4: {
        name: 'causes',
        type: {
          1: { name: 'reason', type: 'string' },
          2: { name: 'message', type: 'string' },
          3: { name: 'field', type: 'string' },
        },
        repeated: true,
      },
      5: { name: 'retryAfterSeconds', type: 'int32' },
      6: { name: 'uid', type: 'string' },
    },
  },
  6: { name: 'code', type: 'int32' },
};

const USER_INFO: Message = {
  1: { name: 'username', type: 'string' },
  2: { name: 'uid', type: 'string' },
  3: { name: 'groups', type: 'string', repeated: true },
  4: { name: 'extra', type: 'string', map: 'strings' },
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

// authorization.k8s.io/v1, which `kubectl auth can-i` sends as protobuf. ResourceAttributes' field and
// label selectors (8, 9) are not decoded: kubectl sends none of them, and clients that do send JSON.
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
  5: { name: 'extra', type: 'string', map: 'strings' },
  6: { name: 'uid', type: 'string' },
};
const ACCESS_REVIEW_STATUS: Message = {
  1: { name: 'allowed', type: 'bool' },
  2: { name: 'reason', type: 'string' },
  3: { name: 'evaluationError', type: 'string' },
  4: { name: 'denied', type: 'bool' },
};
const RESOURCE_RULE: Message = {
  1: { name: 'verbs', type: 'string', repeated: true },
  2: { name: 'apiGroups', type: 'string', repeated: true },
  3: { name: 'resources', type: 'string', repeated: true },
  4: { name: 'resourceNames', type: 'string', repeated: true },
};
const NON_RESOURCE_RULE: Message = {
  1: { name: 'verbs', type: 'string', repeated: true },
  2: { name: 'nonResourceURLs', type: 'string', repeated: true },
};
const review = (spec: Message, status: Message = ACCESS_REVIEW_STATUS): Message => ({
  1: { name: 'metadata', type: OBJECT_META },
  2: { name: 'spec', type: spec },
  3: { name: 'status', type: status },
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
    3: {
      name: 'status',
      type: {
        1: { name: 'phase', type: 'string' },
        2: {
          name: 'conditions',
          type: {
            1: { name: 'type', type: 'string' },
            2: { name: 'status', type: 'string' },
            4: { name: 'lastTransitionTime', type: 'time' },
            5: { name: 'reason', type: 'string' },
            6: { name: 'message', type: 'string' },
          },
          repeated: true,
        },
      },
    },
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
    11: {
      name: 'series',
      type: { 1: { name: 'count', type: 'int32' }, 2: { name: 'lastObservedTime', type: 'microtime' } },
    },
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
  'authorization.k8s.io/v1/SelfSubjectRulesReview': review(
    { 1: { name: 'namespace', type: 'string' } },
    {
      1: { name: 'resourceRules', type: RESOURCE_RULE, repeated: true },
      2: { name: 'nonResourceRules', type: NON_RESOURCE_RULE, repeated: true },
      3: { name: 'incomplete', type: 'bool' },
      4: { name: 'evaluationError', type: 'string' },
    },
  ),
  'v1/ServiceAccount': {
    1: { name: 'metadata', type: OBJECT_META },
    2: { name: 'secrets', type: OBJECT_REFERENCE, repeated: true },
    3: { name: 'imagePullSecrets', type: { 1: { name: 'name', type: 'string' } }, repeated: true },
    4: { name: 'automountServiceAccountToken', type: 'bool' },
  },
  // authentication.k8s.io/v1, which `kubectl create token` and `kubectl auth whoami` send as protobuf.
  'authentication.k8s.io/v1/TokenRequest': review(
    {
      1: { name: 'audiences', type: 'string', repeated: true },
      3: {
        name: 'boundObjectRef',
        type: {
          1: { name: 'kind', type: 'string' },
          2: { name: 'apiVersion', type: 'string' },
          3: { name: 'name', type: 'string' },
          4: { name: 'uid', type: 'string' },
        },
      },
      4: { name: 'expirationSeconds', type: 'int64' },
    },
    { 1: { name: 'token', type: 'string' }, 2: { name: 'expirationTimestamp', type: 'time' } },
  ),
  'authentication.k8s.io/v1/TokenReview': review(
    {
      1: { name: 'token', type: 'string' },
      2: { name: 'audiences', type: 'string', repeated: true },
    },
    {
      1: { name: 'authenticated', type: 'bool' },
      2: { name: 'user', type: USER_INFO },
      3: { name: 'error', type: 'string' },
      4: { name: 'audiences', type: 'string', repeated: true },
    },
  ),
  'authentication.k8s.io/v1/SelfSubjectReview': {
    1: { name: 'metadata', type: OBJECT_META },
    2: { name: 'status', type: { 1: { name: 'userInfo', type: USER_INFO } } },
  },
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
  constructor(
    private readonly buf: Uint8Array,
    start = 0,
    private readonly end = buf.length,
  ) {
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
    if (length > BigInt(this.end - this.pos))
      throw new Malformed('length-delimited field runs past the end of its message');
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
        this.advance(8);
        return;
      case 2:
        this.delimited();
        return;
      case 5:
        this.advance(4);
        return;
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
      if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER))
        throw new Malformed(`field ${path} is out of range`);
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
    case 'raw-json': {
      expectWireType(wireType, 2, path);
      const [start, end] = reader.delimited();
      const raw = decodeMessage({ 1: { name: 'raw', type: 'string' } }, buf, start, end, path).raw;
      try {
        return JSON.parse(typeof raw === 'string' ? raw : 'null');
      } catch {
        throw new Malformed(`field ${path} does not hold JSON`);
      }
    }
    case 'strings': {
      expectWireType(wireType, 2, path);
      const [start, end] = reader.delimited();
      return decodeMessage({ 1: { name: 'items', type: 'string', repeated: true } }, buf, start, end, path).items ?? [];
    }
  }
}

function decodeMessage(
  table: Message,
  buf: Uint8Array,
  start: number,
  end: number,
  path: string,
): Record<string, unknown> {
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
      const entry = decodeMessage(
        { 1: { name: 'key', type: 'string' }, 2: { name: 'value', type: field.map } },
        buf,
        s,
        e,
        fieldPath,
      );
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
    throw new ApiError(
      'UnsupportedMediaType',
      `the protobuf body for ${what} uses content encoding "${String(envelope.contentEncoding)}", which is not supported`,
    );
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

// ---- encoding ----

export const PROTOBUF_TYPE = 'application/vnd.kubernetes.protobuf';
/** The Content-Type of a protobuf watch: length-prefixed frames (see encodeWatchEvent). */
export const PROTOBUF_WATCH_TYPE = 'application/vnd.kubernetes.protobuf;stream=watch';

const listOf = (item: Message): Message => ({
  1: { name: 'metadata', type: LIST_META },
  2: { name: 'items', type: item, repeated: true },
});

/** The table an object of `apiVersion`/`kind` is written with: a kind above, its list, or meta/v1 Status. */
function tableOf(apiVersion: string, kind: string): Message | undefined {
  if (apiVersion === 'v1' && kind === 'Status') return STATUS;
  const table = KINDS[`${apiVersion}/${kind}`];
  if (table) return table;
  const item = kind.endsWith('List') ? KINDS[`${apiVersion}/${kind.slice(0, -'List'.length)}`] : undefined;
  return item && listOf(item);
}

/** Whether responses of a kind can be protobuf (kube-apiserver offers it for built-in kinds only). */
export function encodesProtobuf(apiVersion: string, kind: string): boolean {
  return KINDS[`${apiVersion}/${kind}`] !== undefined;
}

const LENGTH_DELIMITED = 2;
const VARINT = 0;

function writeTimestamp(w: protobuf.Writer, value: string): void {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new Error(`"${value}" is not an RFC 3339 time`);
  const fraction = /\.(\d+)/.exec(value)?.[1] ?? '';
  const seconds = Math.floor(ms / 1000);
  const nanos = Number(fraction.slice(0, 9).padEnd(9, '0'));
  if (seconds) w.uint32((1 << 3) | VARINT).int64(seconds);
  if (nanos) w.uint32((2 << 3) | VARINT).int32(nanos);
}

function writeValue(w: protobuf.Writer, number: number, type: Scalar | Message, value: unknown): void {
  if (typeof type !== 'string') {
    w.uint32((number << 3) | LENGTH_DELIMITED).fork();
    writeMessage(w, type, value as Record<string, unknown>);
    w.ldelim();
    return;
  }
  switch (type) {
    case 'string':
      w.uint32((number << 3) | LENGTH_DELIMITED).string(String(value));
      return;
    case 'bytes':
      w.uint32((number << 3) | LENGTH_DELIMITED).bytes(Buffer.from(String(value), 'base64'));
      return;
    case 'int64':
      w.uint32((number << 3) | VARINT).int64(Number(value));
      return;
    case 'int32':
      w.uint32((number << 3) | VARINT).int32(Number(value));
      return;
    case 'bool':
      w.uint32((number << 3) | VARINT).bool(Boolean(value));
      return;
    case 'time':
    case 'microtime':
      w.uint32((number << 3) | LENGTH_DELIMITED).fork();
      writeTimestamp(w, String(value));
      w.ldelim();
      return;
    case 'raw-json':
      w.uint32((number << 3) | LENGTH_DELIMITED).fork();
      w.uint32((1 << 3) | LENGTH_DELIMITED).bytes(Buffer.from(JSON.stringify(value)));
      w.ldelim();
      return;
    case 'strings':
      w.uint32((number << 3) | LENGTH_DELIMITED).fork();
      for (const item of value as unknown[]) w.uint32((1 << 3) | LENGTH_DELIMITED).string(String(item));
      w.ldelim();
  }
}

function writeMessage(w: protobuf.Writer, table: Message, obj: Record<string, unknown>): void {
  for (const [key, field] of Object.entries(table)) {
    const number = Number(key);
    const value = obj[field.name];
    if (value === undefined || value === null) continue;
    if (field.map) {
      // Sorted by key, as Go's generated marshallers write maps.
      const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      for (const [k, v] of entries) {
        w.uint32((number << 3) | LENGTH_DELIMITED).fork();
        writeValue(w, 1, 'string', k);
        writeValue(w, 2, field.map, v);
        w.ldelim();
      }
    } else if (field.repeated) {
      for (const item of value as unknown[]) writeValue(w, number, field.type, item);
    } else {
      writeValue(w, number, field.type, value);
    }
  }
}

/** An object (a kind with a table, its list, or a Status) as a Kubernetes protobuf body: the magic and
 * a runtime.Unknown envelope around the object's message. Throws for kinds without a table. */
export function encodeProtobuf(obj: Record<string, unknown>): Buffer {
  const apiVersion = String(obj.apiVersion ?? '');
  const kind = String(obj.kind ?? '');
  const table = tableOf(apiVersion, kind);
  if (!table) throw new Error(`${kind} (${apiVersion}) has no protobuf message table`);
  const raw = protobuf.Writer.create();
  writeMessage(raw, table, obj);
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | LENGTH_DELIMITED).fork();
  writeValue(w, 1, 'string', apiVersion);
  writeValue(w, 2, 'string', kind);
  w.ldelim();
  w.uint32((2 << 3) | LENGTH_DELIMITED).bytes(raw.finish());
  return Buffer.concat([MAGIC, w.finish()]);
}

/** One frame of a protobuf watch, as kube-apiserver writes it: a 4-byte big-endian length, then a bare
 * meta/v1 WatchEvent {type=1, object=2 RawExtension {raw=1}} whose raw is the object's full protobuf
 * body (encodeProtobuf). */
export function encodeWatchEvent(type: string, object: Record<string, unknown>): Buffer {
  const w = protobuf.Writer.create();
  writeValue(w, 1, 'string', type);
  w.uint32((2 << 3) | LENGTH_DELIMITED).fork();
  w.uint32((1 << 3) | LENGTH_DELIMITED).bytes(encodeProtobuf(object));
  w.ldelim();
  const event = w.finish();
  const length = Buffer.alloc(4);
  length.writeUInt32BE(event.length);
  return Buffer.concat([length, event]);
}
