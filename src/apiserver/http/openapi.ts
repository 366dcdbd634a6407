// OpenAPI documents in kube-apiserver's layout: Swagger 2.0 at /openapi/v2, and OpenAPI
// 3.0 per group version at /openapi/v3/<api/v1 | apis/GROUP/VERSION> with a root index.
// kubectl reads them for `explain` (schemas found by x-kubernetes-group-version-kind),
// and to decide whether the server validates fields itself (a PATCH operation of the
// kind that lists the `fieldValidation` query parameter). Pure functions; the HTTP layer
// caches the results and must serve `JSON.stringify(doc)` so that `openApiHash` matches.

import { createHash } from 'node:crypto';
import type { JSONSchema, KindDefinition } from '../../api/kind.ts';
import { array, boolean, integer, object, string } from '../../api/schema/build.ts';
import { fullSchema } from '../../api/schema/full-schema.ts';
import { objectMetaSchema } from '../../api/schema/object-meta.ts';
import {
  groupVersions,
  gvkOf,
  kindsOf,
  subresourcesOf,
  type ExtraSubresource,
  type GroupVersionKind,
} from './discovery.ts';

type Schema = Record<string, unknown>;

export interface SwaggerDocument {
  swagger: '2.0';
  info: { title: string; version: string };
  paths: Record<string, Schema>;
  definitions: Record<string, Schema>;
  securityDefinitions: Record<string, Schema>;
  security: Array<Record<string, string[]>>;
}

export interface OpenApiV3Document {
  openapi: '3.0.0';
  info: { title: string; version: string };
  paths: Record<string, Schema>;
  components: { schemas: Record<string, Schema>; securitySchemes: Record<string, Schema> };
  security: Array<Record<string, string[]>>;
}

export interface OpenApiV3Root {
  paths: Record<string, { serverRelativeURL: string }>;
}

const INFO = { title: 'Gatehouse', version: 'unversioned' };
const BEARER_TOKEN = {
  type: 'apiKey',
  name: 'authorization',
  in: 'header',
  description: 'Bearer token: "Authorization: Bearer <token>".',
};

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const OBJECT_META = `${META}.ObjectMeta`;
const LIST_META = `${META}.ListMeta`;
const STATUS = `${META}.Status`;
const DELETE_OPTIONS = `${META}.DeleteOptions`;
const PATCH = `${META}.Patch`;
const PRECONDITIONS = `${META}.Preconditions`;
const STATUS_CAUSE = `${META}.StatusCause`;
const STATUS_DETAILS = `${META}.StatusDetails`;
const WATCH_EVENT = `${META}.WatchEvent`;
const RAW_EXTENSION = 'io.k8s.apimachinery.pkg.runtime.RawExtension';

/** Media types of PATCH bodies; strategic merge patch is not offered (as for CRDs). */
export const PATCH_CONTENT_TYPES: readonly string[] = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/apply-patch+yaml',
];

/** `dev.gatehouse.v1alpha1.ApiDefinition`: the group reversed, as kube names CRD schemas;
 * core kinds keep their upstream names (`io.k8s.api.core.v1.Secret`). */
export function definitionName(gvk: GroupVersionKind): string {
  const prefix = gvk.group === '' ? 'io.k8s.api.core' : gvk.group.split('.').reverse().join('.');
  return `${prefix}.${gvk.version}.${gvk.kind}`;
}

/** Upper-case hex sha512 of the document's JSON: the `?hash=` of the v3 root and the ETag,
 * computed as kube-openapi does. */
export function openApiHash(doc: unknown): string {
  return createHash('sha512').update(JSON.stringify(doc)).digest('hex').toUpperCase();
}

/** `/openapi/v2`. */
export function openApiV2(
  kinds: readonly KindDefinition[],
  extraSubresources: readonly ExtraSubresource[],
): SwaggerDocument {
  return {
    swagger: '2.0',
    info: INFO,
    paths: renderPaths(SWAGGER2, kinds, kinds, extraSubresources),
    definitions: renderDefinitions(SWAGGER2, kinds),
    securityDefinitions: { BearerToken: BEARER_TOKEN },
    security: [{ BearerToken: [] }],
  };
}

/** `/openapi/v3`: one entry per served group version, pointing at its document by hash. */
export function openApiV3Root(
  kinds: readonly KindDefinition[],
  extraSubresources: readonly ExtraSubresource[],
): OpenApiV3Root {
  const paths: OpenApiV3Root['paths'] = {};
  for (const { group, version } of groupVersions(kinds)) {
    const key = group === '' ? `api/${version}` : `apis/${group}/${version}`;
    const doc = openApiV3GroupVersion(kinds, group, version, extraSubresources);
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${openApiHash(doc)}` };
  }
  return { paths };
}

/** `/openapi/v3/api/v1` (group '') or `/openapi/v3/apis/GROUP/VERSION`, or undefined when
 * nothing is served there. Holds the group version's kinds, the kinds its subresources
 * respond with, and the meta types they reference. */
export function openApiV3GroupVersion(
  kinds: readonly KindDefinition[],
  group: string,
  version: string,
  extraSubresources: readonly ExtraSubresource[],
): OpenApiV3Document | undefined {
  const served = kindsOf(kinds, group, version);
  if (served.length === 0) return undefined;
  const responseKinds = served.flatMap((def) => subresourcesOf(def, extraSubresources).map((sub) => sub.responseKind));
  const described = kinds.filter(
    (def) => served.includes(def) || responseKinds.some((gvk) => sameGvk(gvk, gvkOf(def))),
  );
  return {
    openapi: '3.0.0',
    info: INFO,
    paths: renderPaths(OPENAPI3, served, described, extraSubresources),
    components: { schemas: renderDefinitions(OPENAPI3, described), securitySchemes: { BearerToken: BEARER_TOKEN } },
    security: [{ BearerToken: [] }],
  };
}

// ---- dialects: what differs between Swagger 2.0 and OpenAPI 3.0 ----

interface Dialect {
  /** A reference to a named schema, carrying sibling keywords (description, default). */
  ref(name: string, siblings?: Schema): Schema;
  /** A kind's structural schema as this dialect publishes it. */
  schema(schema: JSONSchema): Schema;
  parameter(param: Param): Schema;
  operation(op: Operation): Schema;
}

const SWAGGER2: Dialect = {
  // Swagger 2 ignores siblings of $ref; kube's v2 document keeps the description there for
  // readers and drops defaults.
  ref(name, siblings = {}) {
    const { default: _ignored, ...kept } = siblings;
    return { ...kept, $ref: `#/definitions/${name}` };
  },
  schema: swagger2Schema,
  parameter(param) {
    return { name: param.name, in: param.in, description: param.description, type: param.type, ...requiredFlag(param) };
  },
  operation(op) {
    const body = op.body && {
      name: 'body',
      in: 'body',
      required: op.body.required,
      schema: schemaOrObject(SWAGGER2, op.body.schema),
    };
    return {
      description: op.description,
      operationId: op.operationId,
      tags: [op.tag],
      consumes: op.body?.mediaTypes ?? ['*/*'],
      produces: op.produces,
      schemes: ['https'],
      parameters: [...(body ? [body] : []), ...op.query.map((param) => SWAGGER2.parameter(param))],
      responses: responses(SWAGGER2, op, (schema) => ({ schema })),
      ...operationExtensions(op),
    };
  },
};

const OPENAPI3: Dialect = {
  // OpenAPI 3.0 also ignores siblings of $ref, so kube wraps the reference in allOf to keep
  // the description and default; `kubectl explain` follows either form.
  ref(name, siblings) {
    const target = { $ref: `#/components/schemas/${name}` };
    return siblings ? { ...siblings, allOf: [target] } : target;
  },
  schema: (schema) => structuredClone(schema) as Schema,
  parameter(param) {
    return {
      name: param.name,
      in: param.in,
      description: param.description,
      ...requiredFlag(param),
      schema: { type: param.type },
    };
  },
  operation(op) {
    const body = op.body;
    const requestBody = body && {
      content: Object.fromEntries(
        (body.mediaTypes ?? ['*/*']).map((type) => [type, { schema: schemaOrObject(OPENAPI3, body.schema) }]),
      ),
      required: body.required,
    };
    return {
      tags: [op.tag],
      description: op.description,
      operationId: op.operationId,
      parameters: op.query.map((param) => OPENAPI3.parameter(param)),
      ...(requestBody ? { requestBody } : {}),
      responses: responses(OPENAPI3, op, (schema) => ({
        content: Object.fromEntries(op.produces.map((type) => [type, { schema }])),
      })),
      ...operationExtensions(op),
    };
  },
};

/** Swagger 2.0 has no `nullable`, `anyOf`, `oneOf` or `not`: `nullable` becomes the
 * `x-nullable` extension and the others are dropped, as kube does when publishing v2. */
function swagger2Schema(schema: JSONSchema): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    switch (key) {
      case 'nullable':
        out['x-nullable'] = value;
        break;
      case 'anyOf':
      case 'oneOf':
      case 'not':
        break;
      case 'properties':
        out.properties = Object.fromEntries(
          Object.entries(value as Record<string, JSONSchema>).map(([name, prop]) => [name, swagger2Schema(prop)]),
        );
        break;
      case 'items':
        out.items = swagger2Schema(value as JSONSchema);
        break;
      case 'additionalProperties':
        out.additionalProperties = typeof value === 'object' ? swagger2Schema(value as JSONSchema) : value;
        break;
      default:
        out[key] = structuredClone(value);
    }
  }
  return out;
}

function requiredFlag(param: Param): { required?: true } {
  return param.required ? { required: true } : {};
}

// ---- definitions ----

function renderDefinitions(d: Dialect, kinds: readonly KindDefinition[]): Record<string, Schema> {
  const definitions: Record<string, Schema> = {};
  for (const def of kinds) {
    const gvk = gvkOf(def);
    definitions[definitionName(gvk)] = kindDefinition(d, def);
    if (!def.createOnly) definitions[definitionName({ ...gvk, kind: def.listKind })] = listDefinition(d, def);
  }
  return { ...definitions, ...metaDefinitions(d, kinds) };
}

/** The kind's published schema; `metadata` points at ObjectMeta so every kind shares one
 * definition and `kubectl explain KIND.metadata` resolves it. */
function kindDefinition(d: Dialect, def: KindDefinition): Schema {
  const schema = d.schema(fullSchema(def));
  const properties = schema.properties as Record<string, Schema>;
  return {
    ...schema,
    properties: {
      ...properties,
      metadata: d.ref(OBJECT_META, { default: {}, description: properties.metadata.description }),
    },
    'x-kubernetes-group-version-kind': [gvkOf(def)],
  };
}

function listDefinition(d: Dialect, def: KindDefinition): Schema {
  const apiVersion = def.group === '' ? def.version : `${def.group}/${def.version}`;
  return {
    description: `${def.listKind} is a list of ${def.kind} objects.`,
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: { type: 'string', description: `APIVersion of the list: ${apiVersion}.` },
      items: {
        type: 'array',
        description: `The ${def.kind} objects.`,
        items: d.ref(definitionName(gvkOf(def)), { default: {} }),
      },
      kind: { type: 'string', description: `Kind of the list: ${def.listKind}.` },
      metadata: d.ref(LIST_META, { default: {}, description: 'Standard list metadata (ListMeta).' }),
    },
    'x-kubernetes-group-version-kind': [{ ...gvkOf(def), kind: def.listKind }],
  };
}

/** The meta/v1 types the kinds and operations reference. DeleteOptions and WatchEvent are
 * registered in every group version, so their gvk lists name each one. */
function metaDefinitions(d: Dialect, kinds: readonly KindDefinition[]): Record<string, Schema> {
  const inEveryGroupVersion = (kind: string) => [
    { group: '', version: 'v1', kind },
    ...groupVersions(kinds)
      .filter((gv) => gv.group !== '')
      .map((gv) => ({ ...gv, kind })),
  ];
  const typeMeta = {
    apiVersion: string('APIVersion of the object.'),
    kind: string('Kind of the object.'),
  };
  const listMeta = d.ref(LIST_META, { default: {}, description: 'Standard list metadata (ListMeta).' });
  return {
    [OBJECT_META]: d.schema(objectMetaSchema()),
    [LIST_META]: metaType(d, 'Standard list metadata (ListMeta).', {
      continue: string('Token to fetch the next page; empty on the last page.'),
      remainingItemCount: integer('Number of items after this page, when known.', { format: 'int64' }),
      resourceVersion: string('Version of the list snapshot; start a watch from it.'),
      selfLink: string('Deprecated; never set by the server.'),
    }),
    [STATUS]: {
      ...metaType(
        d,
        'Result of an operation that does not return an object, such as a failure.',
        {
          ...typeMeta,
          code: integer('HTTP status code of the result.', { format: 'int32' }),
          message: string('Human readable description of the result.'),
          reason: string('Machine readable CamelCase reason, e.g. NotFound or Conflict.'),
          status: string('Success or Failure.'),
        },
        {
          details: d.ref(STATUS_DETAILS, { description: 'Extra data about the reason.' }),
          metadata: listMeta,
        },
      ),
      'x-kubernetes-group-version-kind': [{ group: '', version: 'v1', kind: 'Status' }],
    },
    [STATUS_DETAILS]: metaType(
      d,
      'Details of a Status: the object concerned and the causes per field.',
      {
        group: string('API group of the object.'),
        kind: string('Kind of the object.'),
        name: string('Name of the object.'),
        retryAfterSeconds: integer('Seconds to wait before retrying.', { format: 'int32' }),
        uid: string('UID of the object.'),
      },
      {
        causes: {
          type: 'array',
          description: 'Causes of the error, per field.',
          items: d.ref(STATUS_CAUSE, { default: {} }),
        },
      },
    ),
    [STATUS_CAUSE]: metaType(d, 'One cause of an error.', {
      field: string('Path of the field at fault, e.g. spec.upstream.targets[0].url.'),
      message: string('Human readable description of the cause.'),
      reason: string('Machine readable cause, e.g. FieldValueInvalid.'),
    }),
    [DELETE_OPTIONS]: {
      ...metaType(
        d,
        'Options of a delete request.',
        {
          ...typeMeta,
          dryRun: array(
            'When present with All, the deletion is validated but not persisted.',
            string('Dry run stage.'),
          ),
          gracePeriodSeconds: integer('Seconds before the object is deleted.', { format: 'int64' }),
          orphanDependents: boolean('Deprecated; use propagationPolicy.'),
          propagationPolicy: string('Garbage collection of dependents: Orphan, Background or Foreground.'),
        },
        { preconditions: d.ref(PRECONDITIONS, { description: 'Must hold for the deletion to proceed.' }) },
      ),
      'x-kubernetes-group-version-kind': inEveryGroupVersion('DeleteOptions'),
    },
    [PRECONDITIONS]: metaType(d, 'Conditions a delete request requires.', {
      resourceVersion: string('The object must still have this resourceVersion.'),
      uid: string('The object must still have this UID.'),
    }),
    [PATCH]: d.schema({
      type: 'object',
      description: 'A patch body, in the format named by the request Content-Type.',
    }),
    [WATCH_EVENT]: {
      ...metaType(
        d,
        'One event of a watch stream.',
        { type: string('ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.') },
        { object: d.ref(RAW_EXTENSION, { description: 'The object, or a Status for ERROR.' }) },
        { required: ['type', 'object'] },
      ),
      'x-kubernetes-group-version-kind': inEveryGroupVersion('WatchEvent'),
    },
    [RAW_EXTENSION]: d.schema({ type: 'object', description: 'An embedded object, as JSON.' }),
  };
}

/** An object schema from plain fields plus fields that reference other definitions. */
function metaType(
  d: Dialect,
  description: string,
  fields: Record<string, JSONSchema>,
  refs: Record<string, Schema> = {},
  extra: Pick<JSONSchema, 'required'> = {},
): Schema {
  const schema = d.schema(object(description, fields, extra));
  return { ...schema, properties: { ...(schema.properties as Record<string, Schema>), ...refs } };
}

// ---- paths ----

interface Param {
  name: string;
  in: 'query' | 'path';
  type: 'string' | 'boolean' | 'integer';
  description: string;
  required?: boolean;
}

type Action = 'get' | 'list' | 'post' | 'put' | 'patch' | 'delete' | 'deletecollection';
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** One operation, independent of the dialect. Schema names that are undefined stand for an
 * untyped object (a subresource whose response kind has no published schema). */
interface Operation {
  method: Method;
  action: Action;
  operationId: string;
  description: string;
  tag: string;
  gvk: GroupVersionKind;
  query: Param[];
  body?: { schema: string | undefined; required: boolean; mediaTypes?: readonly string[] };
  /** Schema per success status code; every operation also answers 401. */
  responses: Record<string, string | undefined>;
  produces: string[];
}

interface PathItem {
  path: string;
  params: Param[];
  operations: Operation[];
}

function query(name: string, type: Param['type'], description: string): Param {
  return { name, in: 'query', type, description };
}

const Q = {
  pretty: query('pretty', 'string', "If 'true', the output is indented."),
  allowWatchBookmarks: query(
    'allowWatchBookmarks',
    'boolean',
    'Watch only: ask for BOOKMARK events carrying the latest resourceVersion.',
  ),
  continue: query('continue', 'string', 'Token from a previous page of the same list, to fetch the next page.'),
  dryRun: query('dryRun', 'string', 'When All, the request is validated and defaulted but nothing is persisted.'),
  fieldManager: query(
    'fieldManager',
    'string',
    'Name of the actor making the change, recorded in managedFields; required by apply patches.',
  ),
  fieldSelector: query('fieldSelector', 'string', 'Restricts the objects by fields, e.g. metadata.name=x.'),
  fieldValidation: query(
    'fieldValidation',
    'string',
    'What to do with unknown or duplicate fields in the body: Ignore, Warn (default) or Strict (reject the request).',
  ),
  force: query(
    'force',
    'boolean',
    'Apply patches only: take over fields owned by other managers instead of reporting a conflict.',
  ),
  gracePeriodSeconds: query('gracePeriodSeconds', 'integer', 'Seconds before the object is deleted.'),
  labelSelector: query('labelSelector', 'string', 'Restricts the objects by labels, e.g. app=web,tier!=db.'),
  limit: query('limit', 'integer', 'Maximum number of objects in one page; continue with the returned token.'),
  orphanDependents: query('orphanDependents', 'boolean', 'Deprecated; use propagationPolicy.'),
  propagationPolicy: query(
    'propagationPolicy',
    'string',
    'Garbage collection of dependents: Orphan, Background or Foreground.',
  ),
  resourceVersion: query(
    'resourceVersion',
    'string',
    'Serve the list or start the watch at this version; see resourceVersionMatch.',
  ),
  resourceVersionMatch: query(
    'resourceVersionMatch',
    'string',
    'How resourceVersion applies to a list: Exact or NotOlderThan.',
  ),
  sendInitialEvents: query(
    'sendInitialEvents',
    'boolean',
    'Watch only: start with ADDED events for the current objects.',
  ),
  timeoutSeconds: query('timeoutSeconds', 'integer', 'Time limit of the list or watch call.'),
  watch: query('watch', 'boolean', 'Stream changes (ADDED, MODIFIED, DELETED) instead of returning a list.'),
};

const LIST_PARAMS = [
  Q.allowWatchBookmarks,
  Q.continue,
  Q.fieldSelector,
  Q.labelSelector,
  Q.limit,
  Q.resourceVersion,
  Q.resourceVersionMatch,
  Q.sendInitialEvents,
  Q.timeoutSeconds,
  Q.watch,
];
const WRITE_PARAMS = [Q.dryRun, Q.fieldManager, Q.fieldValidation];
const DELETE_PARAMS = [Q.dryRun, Q.gracePeriodSeconds, Q.orphanDependents, Q.propagationPolicy];
const DELETE_COLLECTION_PARAMS = [
  Q.continue,
  Q.dryRun,
  Q.fieldSelector,
  Q.gracePeriodSeconds,
  Q.labelSelector,
  Q.limit,
  Q.orphanDependents,
  Q.propagationPolicy,
  Q.resourceVersion,
  Q.resourceVersionMatch,
  Q.sendInitialEvents,
  Q.timeoutSeconds,
];

const NAMESPACE_PARAM: Param = {
  name: 'namespace',
  in: 'path',
  type: 'string',
  required: true,
  description: 'Namespace of the objects.',
};

/** How each discovery verb of an object or subresource is served over HTTP. Verbs outside
 * this table (list, watch, custom ones) have no per-object operation to publish. */
interface VerbOperation {
  method: Method;
  action: Action;
  /** Operation id prefix, as kube names operations. */
  id: string;
  text: string;
  query: Param[];
  codes: string[];
  body?: 'object' | 'patch' | 'delete';
}

const VERB_OPERATIONS: Record<string, VerbOperation> = {
  get: { method: 'get', action: 'get', id: 'read', text: 'read', query: [], codes: ['200'] },
  create: {
    method: 'post',
    action: 'post',
    id: 'create',
    text: 'create',
    query: WRITE_PARAMS,
    codes: ['200', '201', '202'],
    body: 'object',
  },
  update: {
    method: 'put',
    action: 'put',
    id: 'replace',
    text: 'replace',
    query: WRITE_PARAMS,
    codes: ['200', '201'],
    body: 'object',
  },
  patch: {
    method: 'patch',
    action: 'patch',
    id: 'patch',
    text: 'partially update',
    query: [...WRITE_PARAMS, Q.force],
    codes: ['200', '201'],
    body: 'patch',
  },
  delete: {
    method: 'delete',
    action: 'delete',
    id: 'delete',
    text: 'delete',
    query: DELETE_PARAMS,
    codes: ['200', '202'],
    body: 'delete',
  },
};

const JSON_ONLY = ['application/json'];
const JSON_AND_WATCH = ['application/json', 'application/json;stream=watch'];
const STATUS_TEXT: Record<string, string> = { '200': 'OK', '201': 'Created', '202': 'Accepted' };

function renderPaths(
  d: Dialect,
  served: readonly KindDefinition[],
  described: readonly KindDefinition[],
  extraSubresources: readonly ExtraSubresource[],
): Record<string, Schema> {
  const published = new Set(described.map((def) => definitionName(gvkOf(def))));
  const schemaOf = (gvk: GroupVersionKind) => (published.has(definitionName(gvk)) ? definitionName(gvk) : undefined);
  const paths: Record<string, Schema> = {};
  for (const def of served) {
    for (const item of kindPathItems(def, extraSubresources, schemaOf)) {
      paths[item.path] = {
        ...Object.fromEntries(item.operations.map((op) => [op.method, d.operation(op)])),
        parameters: item.params.map((param) => d.parameter(param)),
      };
    }
  }
  return paths;
}

/** Collection, object, subresource and (for namespaced kinds) all-namespaces paths, with
 * operation ids built like kube's: verb, group, version, scope, kind, subresource. */
function kindPathItems(
  def: KindDefinition,
  extraSubresources: readonly ExtraSubresource[],
  schemaOf: (gvk: GroupVersionKind) => string | undefined,
): PathItem[] {
  const gvk = gvkOf(def);
  const self = definitionName(gvk);
  const list = definitionName({ ...gvk, kind: def.listKind });
  const groupWords = def.group === '' ? ['core'] : def.group.split(/[.-]/);
  const tag = `${lowerFirst(groupWords.map(upperFirst).join(''))}_${def.version}`;
  const idInfix = `${groupWords.map(upperFirst).join('')}${upperFirst(def.version)}`;
  const scope = def.namespaced ? 'Namespaced' : '';
  const base = def.group === '' ? `/api/${def.version}` : `/apis/${def.group}/${def.version}`;
  const collectionPath = `${base}${def.namespaced ? '/namespaces/{namespace}' : ''}/${def.plural}`;
  const scopeParams = def.namespaced ? [NAMESPACE_PARAM] : [];
  const nameParam: Param = {
    name: 'name',
    in: 'path',
    type: 'string',
    required: true,
    description: `Name of the ${def.kind}.`,
  };

  const listOperation = (idSuffix: string): Operation => ({
    method: 'get',
    action: 'list',
    operationId: `list${idInfix}${idSuffix}`,
    description: `list or watch objects of kind ${def.kind}`,
    tag,
    gvk,
    query: LIST_PARAMS,
    responses: { '200': list },
    produces: JSON_AND_WATCH,
  });
  const verbOperation = (
    verb: VerbOperation,
    idSuffix: string,
    subject: string,
    target: { gvk: GroupVersionKind; schema: string | undefined },
  ): Operation => {
    const response = verb.body === 'delete' ? STATUS : target.schema;
    const bodySchema = verb.body === 'patch' ? PATCH : verb.body === 'delete' ? DELETE_OPTIONS : target.schema;
    return {
      method: verb.method,
      action: verb.action,
      operationId: `${verb.id}${idInfix}${scope}${idSuffix}`,
      description: `${verb.text} ${subject}`,
      tag,
      gvk: target.gvk,
      query: verb.query,
      ...(verb.body
        ? {
            body: {
              schema: bodySchema,
              required: verb.body !== 'delete',
              ...(verb.body === 'patch' ? { mediaTypes: PATCH_CONTENT_TYPES } : {}),
            },
          }
        : {}),
      responses: Object.fromEntries(verb.codes.map((code) => [code, response])),
      produces: JSON_ONLY,
    };
  };
  const selfTarget = { gvk, schema: self };
  const createOperation = verbOperation(
    VERB_OPERATIONS.create,
    def.kind,
    `${article(def.kind)} ${def.kind}`,
    selfTarget,
  );
  if (def.createOnly)
    return [{ path: collectionPath, params: [...scopeParams, Q.pretty], operations: [createOperation] }];

  const items: PathItem[] = [
    {
      path: collectionPath,
      params: [...scopeParams, Q.pretty],
      operations: [
        listOperation(`${scope}${def.kind}`),
        createOperation,
        {
          method: 'delete',
          action: 'deletecollection',
          operationId: `delete${idInfix}Collection${scope}${def.kind}`,
          description: `delete collection of ${def.kind}`,
          tag,
          gvk,
          query: DELETE_COLLECTION_PARAMS,
          body: { schema: DELETE_OPTIONS, required: false },
          responses: { '200': STATUS },
          produces: JSON_ONLY,
        },
      ],
    },
    {
      path: `${collectionPath}/{name}`,
      params: [nameParam, ...scopeParams, Q.pretty],
      operations: ['get', 'update', 'patch', 'delete'].map((verb) =>
        verbOperation(VERB_OPERATIONS[verb], def.kind, `the specified ${def.kind}`, selfTarget),
      ),
    },
    ...subresourcesOf(def, extraSubresources).map((sub) => ({
      path: `${collectionPath}/{name}/${sub.name}`,
      params: [nameParam, ...scopeParams, Q.pretty],
      operations: sub.verbs
        .filter((verb) => verb in VERB_OPERATIONS)
        .map((verb) =>
          verbOperation(
            VERB_OPERATIONS[verb],
            `${def.kind}${upperFirst(sub.name)}`,
            `${sub.name} of the specified ${def.kind}`,
            {
              gvk: sub.responseKind,
              schema: schemaOf(sub.responseKind),
            },
          ),
        ),
    })),
  ];
  if (def.namespaced) {
    items.push({
      path: `${base}/${def.plural}`,
      params: [Q.pretty],
      operations: [listOperation(`${def.kind}ForAllNamespaces`)],
    });
  }
  return items;
}

function schemaOrObject(d: Dialect, name: string | undefined): Schema {
  return name ? d.ref(name) : { type: 'object' };
}

function responses(d: Dialect, op: Operation, wrap: (schema: Schema) => Schema): Schema {
  const success = Object.entries(op.responses).map(([code, name]) => [
    code,
    { description: STATUS_TEXT[code], ...wrap(schemaOrObject(d, name)) },
  ]);
  return { ...Object.fromEntries(success), '401': { description: 'Unauthorized' } };
}

function operationExtensions(op: Operation): Schema {
  return { 'x-kubernetes-action': op.action, 'x-kubernetes-group-version-kind': op.gvk };
}

function sameGvk(a: GroupVersionKind, b: GroupVersionKind): boolean {
  return a.group === b.group && a.version === b.version && a.kind === b.kind;
}

function upperFirst(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function lowerFirst(word: string): string {
  return word.charAt(0).toLowerCase() + word.slice(1);
}

function article(word: string): string {
  return /^[AEIOU]/i.test(word) ? 'an' : 'a';
}
