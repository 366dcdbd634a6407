// The OpenAPI v2 document as kube-apiserver serves it to clients that ask for
// `application/com.github.proto-openapi.spec.v2@v1.0+protobuf` (client-go's
// discovery.OpenAPISchema, hence `kubectl explain --output=plaintext-openapiv2` and Argo CD's
// cluster cache): the message `openapi.v2.Document` of gnostic's OpenAPIv2.proto
// (github.com/google/gnostic, openapiv2/OpenAPIv2.proto), filled as gnostic's compiler fills it
// from the JSON document (kube-openapi's handler.ToProtoBinary). The message types are declared
// below with gnostic's field numbers and names, only those our documents use; a key of the JSON
// document that has no place in them throws, so a schema change cannot silently drop a field.
// Values gnostic keeps as free-form YAML (vendor extensions, default, example, enum) are
// `Any { yaml }`, which is how kubectl reads `x-kubernetes-group-version-kind` back.
import protobuf from 'protobufjs';
import { stringify as toYaml } from 'yaml';

type Json = Record<string, unknown>;
type Fields = Record<string, [id: number, type: string, rule?: 'repeated']>;

const R = 'repeated' as const;
const VENDOR_EXTENSION = (id: number): Fields => ({ vendor_extension: [id, 'NamedAny', R] });
const named = (type: string): Fields => ({ name: [1, 'string'], value: [2, type] });
const mapOf = (named: string): Fields => ({ additional_properties: [1, named, R] });

// The fields from `type` on, which the query and path parameter sub-schemas and PrimitivesItems share
// in the same order from a different first number.
function primitiveParameter(first: number): Fields {
  const names: Array<[string, string]> = [
    ['type', 'string'],
    ['format', 'string'],
    ['items', 'PrimitivesItems'],
    ['collection_format', 'string'],
    ['default', 'Any'],
    ['maximum', 'double'],
    ['exclusive_maximum', 'bool'],
    ['minimum', 'double'],
    ['exclusive_minimum', 'bool'],
    ['max_length', 'int64'],
    ['min_length', 'int64'],
    ['pattern', 'string'],
    ['max_items', 'int64'],
    ['min_items', 'int64'],
    ['unique_items', 'bool'],
  ];
  const fields: Fields = Object.fromEntries(names.map(([name, type], i) => [name, [first + i, type]]));
  const rest: Fields = { enum: [first + 15, 'Any', R], multiple_of: [first + 16, 'double'] };
  return { ...fields, ...rest, ...VENDOR_EXTENSION(first + 17) };
}

const PARAMETER_HEAD: Fields = {
  required: [1, 'bool'],
  in: [2, 'string'],
  description: [3, 'string'],
  name: [4, 'string'],
};

/** gnostic's openapi.v2 messages (field name: [number, type, rule]), as far as our documents need them. */
const MESSAGES: Record<string, Fields> = {
  Document: {
    swagger: [1, 'string'],
    info: [2, 'Info'],
    host: [3, 'string'],
    base_path: [4, 'string'],
    schemes: [5, 'string', R],
    consumes: [6, 'string', R],
    produces: [7, 'string', R],
    paths: [8, 'Paths'],
    definitions: [9, 'Definitions'],
    security: [12, 'SecurityRequirement', R],
    security_definitions: [13, 'SecurityDefinitions'],
    ...VENDOR_EXTENSION(16),
  },
  Info: { title: [1, 'string'], version: [2, 'string'], description: [3, 'string'], ...VENDOR_EXTENSION(7) },
  Any: { yaml: [2, 'string'] },
  NamedAny: named('Any'),
  Paths: { ...VENDOR_EXTENSION(1), path: [2, 'NamedPathItem', R] },
  NamedPathItem: named('PathItem'),
  PathItem: {
    _ref: [1, 'string'],
    get: [2, 'Operation'],
    put: [3, 'Operation'],
    post: [4, 'Operation'],
    delete: [5, 'Operation'],
    options: [6, 'Operation'],
    head: [7, 'Operation'],
    patch: [8, 'Operation'],
    parameters: [9, 'ParametersItem', R],
    ...VENDOR_EXTENSION(10),
  },
  Operation: {
    tags: [1, 'string', R],
    summary: [2, 'string'],
    description: [3, 'string'],
    operation_id: [5, 'string'],
    produces: [6, 'string', R],
    consumes: [7, 'string', R],
    parameters: [8, 'ParametersItem', R],
    responses: [9, 'Responses'],
    schemes: [10, 'string', R],
    deprecated: [11, 'bool'],
    security: [12, 'SecurityRequirement', R],
    ...VENDOR_EXTENSION(13),
  },
  ParametersItem: { parameter: [1, 'Parameter'], json_reference: [2, 'JsonReference'] },
  JsonReference: { _ref: [1, 'string'], description: [2, 'string'] },
  Parameter: { body_parameter: [1, 'BodyParameter'], non_body_parameter: [2, 'NonBodyParameter'] },
  BodyParameter: {
    description: [1, 'string'],
    name: [2, 'string'],
    in: [3, 'string'],
    required: [4, 'bool'],
    schema: [5, 'Schema'],
    ...VENDOR_EXTENSION(6),
  },
  NonBodyParameter: {
    query_parameter_sub_schema: [3, 'QueryParameterSubSchema'],
    path_parameter_sub_schema: [4, 'PathParameterSubSchema'],
  },
  QueryParameterSubSchema: { ...PARAMETER_HEAD, allow_empty_value: [5, 'bool'], ...primitiveParameter(6) },
  PathParameterSubSchema: { ...PARAMETER_HEAD, ...primitiveParameter(5) },
  PrimitivesItems: primitiveParameter(1),
  Responses: { response_code: [1, 'NamedResponseValue', R], ...VENDOR_EXTENSION(2) },
  NamedResponseValue: named('ResponseValue'),
  ResponseValue: { response: [1, 'Response'], json_reference: [2, 'JsonReference'] },
  Response: { description: [1, 'string'], schema: [2, 'SchemaItem'], ...VENDOR_EXTENSION(5) },
  SchemaItem: { schema: [1, 'Schema'] },
  Schema: {
    _ref: [1, 'string'],
    format: [2, 'string'],
    title: [3, 'string'],
    description: [4, 'string'],
    default: [5, 'Any'],
    multiple_of: [6, 'double'],
    maximum: [7, 'double'],
    exclusive_maximum: [8, 'bool'],
    minimum: [9, 'double'],
    exclusive_minimum: [10, 'bool'],
    max_length: [11, 'int64'],
    min_length: [12, 'int64'],
    pattern: [13, 'string'],
    max_items: [14, 'int64'],
    min_items: [15, 'int64'],
    unique_items: [16, 'bool'],
    max_properties: [17, 'int64'],
    min_properties: [18, 'int64'],
    required: [19, 'string', R],
    enum: [20, 'Any', R],
    additional_properties: [21, 'AdditionalPropertiesItem'],
    type: [22, 'TypeItem'],
    items: [23, 'ItemsItem'],
    all_of: [24, 'Schema', R],
    properties: [25, 'Properties'],
    discriminator: [26, 'string'],
    read_only: [27, 'bool'],
    example: [30, 'Any'],
    ...VENDOR_EXTENSION(31),
  },
  AdditionalPropertiesItem: { schema: [1, 'Schema'], boolean: [2, 'bool'] },
  TypeItem: { value: [1, 'string', R] },
  ItemsItem: { schema: [1, 'Schema', R] },
  Properties: mapOf('NamedSchema'),
  Definitions: mapOf('NamedSchema'),
  NamedSchema: named('Schema'),
  SecurityRequirement: mapOf('NamedStringArray'),
  NamedStringArray: named('StringArray'),
  StringArray: { value: [1, 'string', R] },
  SecurityDefinitions: mapOf('NamedSecurityDefinitionsItem'),
  NamedSecurityDefinitionsItem: named('SecurityDefinitionsItem'),
  SecurityDefinitionsItem: { api_key_security: [2, 'ApiKeySecurity'] },
  ApiKeySecurity: {
    type: [1, 'string'],
    name: [2, 'string'],
    in: [3, 'string'],
    description: [4, 'string'],
    ...VENDOR_EXTENSION(5),
  },
};

/** The messages as protobufjs types, in package `openapi.v2`: `GNOSTIC_V2.lookupType('openapi.v2.Document')`. */
export const GNOSTIC_V2 = protobuf.Root.fromJSON({
  nested: {
    openapi: {
      nested: {
        v2: {
          nested: Object.fromEntries(
            Object.entries(MESSAGES).map(([name, fields]) => {
              const described = Object.entries(fields).map(([field, [id, type, rule]]) => [field, { id, type, rule }]);
              return [name, { fields: Object.fromEntries(described) }];
            }),
          ),
        },
      },
    },
  },
});

const DOCUMENT = GNOSTIC_V2.lookupType('openapi.v2.Document');

const any = (value: unknown): Json => ({ yaml: toYaml(value) });
const snakeCase = (key: string): string =>
  key === '$ref' ? '_ref' : key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);
const entriesOf = (value: unknown): Array<[string, unknown]> => Object.entries(value as Json);
const extensionsOf = (value: unknown): Json[] =>
  entriesOf(value)
    .filter(([k]) => k.startsWith('x-'))
    .map(([name, v]) => ({ name, value: any(v) }));
/** A `$ref` object as a JsonReference, anything else as `member` of message `type` (a oneof of the two). */
const referenceOr =
  (member: string, type: string) =>
  (value: unknown, at: string): Json =>
    '$ref' in (value as Json)
      ? { json_reference: message('JsonReference', value, at) }
      : { [member]: message(type, value, at) };

/** The oneof member of each parameter location other than the body. */
const NON_BODY: Record<string, string> = { query: 'query_parameter_sub_schema', path: 'path_parameter_sub_schema' };

/** Messages gnostic fills by a rule of their own rather than key by key (maps, oneofs, lists). */
const SPECIAL: Record<string, (value: unknown, at: string) => Json> = {
  TypeItem: (value) => ({ value: asList(value) }),
  StringArray: (value) => ({ value }),
  ItemsItem: (value, at) => ({ schema: asList(value).map((s, i) => message('Schema', s, `${at}[${i}]`)) }),
  AdditionalPropertiesItem: (value, at) =>
    typeof value === 'boolean' ? { boolean: value } : { schema: message('Schema', value, at) },
  Paths: (value, at) => ({
    vendor_extension: extensionsOf(value),
    path: entriesOf(value)
      .filter(([k]) => !k.startsWith('x-'))
      .map(([name, v]) => ({ name, value: message('PathItem', v, `${at}[${name}]`) })),
  }),
  Responses: (value, at) => ({
    vendor_extension: extensionsOf(value),
    response_code: entriesOf(value)
      .filter(([k]) => !k.startsWith('x-'))
      .map(([name, v]) => ({ name, value: message('ResponseValue', v, `${at}[${name}]`) })),
  }),
  ParametersItem: referenceOr('parameter', 'Parameter'),
  ResponseValue: referenceOr('response', 'Response'),
  Parameter: (value, at) => {
    const where = String((value as Json).in);
    if (where === 'body') return { body_parameter: message('BodyParameter', value, at) };
    const member = NON_BODY[where];
    if (!member) throw new Error(`OpenAPI v2 ${at}: parameters in "${where}" have no gnostic message here`);
    return { non_body_parameter: { [member]: message(MESSAGES.NonBodyParameter[member][1], value, at) } };
  },
  SchemaItem: (value, at) => ({ schema: message('Schema', value, at) }),
  SecurityDefinitionsItem: (value, at) => {
    const type = (value as Json).type;
    if (type !== 'apiKey') {
      throw new Error(`OpenAPI v2 ${at}: security definitions of type ${String(type)} are not encoded`);
    }
    return { api_key_security: message('ApiKeySecurity', value, at) };
  },
};

/** A JSON value as the plain object of gnostic message `type`, for protobufjs to encode. */
function message(type: string, value: unknown, at: string): Json {
  const special = SPECIAL[type];
  if (special) return special(value, at);
  const fields = MESSAGES[type];
  // A message holding only a repeated Named* is a JSON map, its entries in document order.
  if (Object.keys(fields).length === 1 && fields.additional_properties) {
    const entry = MESSAGES[fields.additional_properties[1]].value[1];
    const entries = entriesOf(value).map(([name, v]) => ({ name, value: message(entry, v, `${at}.${name}`) }));
    return { additional_properties: entries };
  }
  const out: Json = {};
  for (const [key, v] of entriesOf(value)) {
    if (key.startsWith('x-') && fields.vendor_extension) {
      ((out.vendor_extension ??= []) as Json[]).push({ name: key, value: any(v) });
      continue;
    }
    const field = fields[snakeCase(key)];
    if (!field) throw new Error(`OpenAPI v2 ${at}.${key}: gnostic's ${type} has no such field`);
    const [, fieldType, rule] = field;
    const convert = (item: unknown, i?: number): unknown => {
      if (fieldType === 'Any') return any(item);
      const where = i === undefined ? `${at}.${key}` : `${at}.${key}[${i}]`;
      return MESSAGES[fieldType] ? message(fieldType, item, where) : item;
    };
    out[snakeCase(key)] = rule ? (v as unknown[]).map(convert) : convert(v);
  }
  return out;
}

/** The protobuf body of `/openapi/v2` for a client that asks for it. */
export function openApiV2Protobuf(doc: unknown): Buffer {
  return Buffer.from(DOCUMENT.encode(message('Document', doc, '')).finish());
}
