// /openapi/v2 as gnostic's protobuf Document, the way client-go's discovery client (kubectl explain,
// Argo CD's cluster cache) asks for it, read back by the real kubectl and by protobufjs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type protobuf from 'protobufjs';
import { parse as parseYaml } from 'yaml';
import { GNOSTIC_V2 } from '../src/apiserver/http/openapi-protobuf.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';

/** The Accept header of client-go's DiscoveryClient.OpenAPISchema, which Argo CD's cluster cache calls. */
const ARGO_CD_ACCEPT = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

// Messages that hold one of several members (a oneof) or a list standing for one JSON value.
const ONE_OF = new Set([
  'ParametersItem',
  'Parameter',
  'NonBodyParameter',
  'ResponseValue',
  'SchemaItem',
  'SecurityDefinitionsItem',
  'AdditionalPropertiesItem',
]);
const NAMED_LISTS: Record<string, string> = { Paths: 'path', Responses: 'response_code' };

const camelCase = (name: string): string =>
  name === '_ref' ? '$ref' : name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** A decoded gnostic message back as the JSON it stands for, following gnostic's field meanings. */
function toJson(type: protobuf.Type, message: Record<string, unknown>): unknown {
  const sub = (name: string) => type.fields[name].resolvedType as protobuf.Type;
  switch (type.name) {
    case 'Any':
      return parseYaml(message.yaml as string);
    case 'TypeItem':
    case 'StringArray': {
      const value = (message.value ?? []) as string[];
      return type.name === 'TypeItem' && value.length === 1 ? value[0] : value;
    }
    case 'ItemsItem': {
      const schemas = (message.schema as Record<string, unknown>[]).map((s) => toJson(sub('schema'), s));
      return schemas.length === 1 ? schemas[0] : schemas;
    }
  }
  const set = Object.keys(message);
  if (ONE_OF.has(type.name)) {
    assert.equal(set.length, 1, `${type.name} holds exactly one member`);
    const field = type.fields[set[0]];
    const member = message[set[0]];
    return field.resolvedType ? toJson(field.resolvedType as protobuf.Type, member as Record<string, unknown>) : member;
  }
  const out: Record<string, unknown> = {};
  for (const name of set) {
    const field = type.fields[name];
    const value = message[name];
    // Vendor extensions, map messages (Definitions, Properties…), paths and responses: named entries.
    const map = name === 'additional_properties' && type.fieldsArray.length === 1;
    const entries = map || name === 'vendor_extension' || name === NAMED_LISTS[type.name];
    if (entries) {
      const valueType = (field.resolvedType as protobuf.Type).fields.value.resolvedType as protobuf.Type;
      for (const entry of value as Array<{ name: string; value: Record<string, unknown> }>) {
        out[entry.name] = toJson(valueType, entry.value ?? {});
      }
      continue;
    }
    const fieldType = field.resolvedType as protobuf.Type | null;
    const convert = (v: unknown) => (fieldType ? toJson(fieldType, v as Record<string, unknown>) : v);
    out[camelCase(name)] = field.repeated ? (value as unknown[]).map(convert) : convert(value);
  }
  return out;
}

/** The JSON without the keys proto3 cannot carry: fields holding false, 0, '' or [] (gnostic's Go encoding
 * drops them too); values kept as YAML (default, example, vendor extensions) keep theirs. */
function withoutZeroFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutZeroFields);
  if (typeof value !== 'object' || value === null) return value;
  const zero = (v: unknown) => v === false || v === 0 || v === '' || (Array.isArray(v) && v.length === 0);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'default' || k === 'example' || k.startsWith('x-')) out[k] = v;
    else if (!zero(v)) out[k] = withoutZeroFields(v);
  }
  return out;
}

describe('OpenAPI v2 as protobuf', () => {
  let t: TestApiServer;
  before(async () => {
    t = await startTestApiServer();
  });
  after(async () => {
    await t.stop();
  });

  it('answers the request Argo CD sends with a Document that decodes to the JSON document', async () => {
    const json = await t.request('/openapi/v2', { headers: { accept: 'application/json' } });
    assert.equal(json.status, 200);
    const expected = await json.json();
    const res = await t.request('/openapi/v2', { headers: { accept: ARGO_CD_ACCEPT } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    assert.equal(res.headers.get('vary'), 'Accept');
    assert.equal(res.headers.get('etag'), json.headers.get('etag'), "the protobuf carries the JSON document's ETag");
    assert.match(res.headers.get('etag') ?? '', /^"[0-9A-F]{128}"$/, 'an upper-case hex sha512, as kube-openapi');
    const Document = GNOSTIC_V2.lookupType('openapi.v2.Document');
    const decoded = Document.toObject(Document.decode(new Uint8Array(await res.arrayBuffer())), { longs: Number });
    assert.deepEqual(withoutZeroFields(toJson(Document, decoded)), withoutZeroFields(expected));
  });

  it('serves the other spelling of the protobuf type, 304 for a known ETag, a bare 406 for other types', async () => {
    const accept = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
    const res = await t.request('/openapi/v2', { headers: { accept } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    await res.arrayBuffer();
    const etag = res.headers.get('etag') ?? '';
    const cached = await t.request('/openapi/v2', { headers: { accept: ARGO_CD_ACCEPT, 'if-none-match': etag } });
    assert.equal(cached.status, 304);
    const refused = await t.request('/openapi/v2', { headers: { accept: 'application/xml' } });
    assert.equal(refused.status, 406);
    assert.equal(await refused.text(), '');
    const wildcard = await t.request('/openapi/v2', { headers: { accept: '*/*' } });
    assert.equal(wildcard.headers.get('content-type'), 'application/json');
    await wildcard.arrayBuffer();
  });

  it('kubectl explain --output=plaintext-openapiv2 reads it', async () => {
    const out = await t.kubectl(['explain', '--output=plaintext-openapiv2', 'apidefinition.spec']);
    assert.match(out, /^KIND:\s+ApiDefinition/m);
    assert.match(out, /^VERSION:\s+gatehouse\.dev\/v1alpha1/m);
    assert.match(out, /^FIELDS:/m);
    assert.match(out, /^\s+listenPath\s+<string>/m);
    const core = await t.kubectl(['explain', '--output=plaintext-openapiv2', 'secret.type']);
    assert.match(core, /^KIND:\s+Secret/m);
    assert.match(core, /^FIELD:\s+type\s+<string>/m);
  });
});
