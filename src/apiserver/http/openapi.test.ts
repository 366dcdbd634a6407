import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { JSONSchema, KindDefinition } from '../../api/kind.ts';
import { object, specAndStatus, statusSchema, string } from '../../api/schema/build.ts';
import { allKinds } from '../../api/kinds.ts';
import type { ExtraSubresource } from './discovery.ts';
import {
  definitionName,
  openApiHash,
  openApiV2,
  openApiV3GroupVersion,
  openApiV3Root,
  PATCH_CONTENT_TYPES,
} from './openapi.ts';

// biome-ignore lint/suspicious/noExplicitAny: the test reads API responses loosely, deep into JSON whose shape it asserts
type Json = Record<string, any>;

function kind(
  group: string,
  version: string,
  kindName: string,
  namespaced: boolean,
  schema: JSONSchema,
): KindDefinition {
  return {
    group,
    version,
    kind: kindName,
    listKind: `${kindName}List`,
    plural: `${kindName.toLowerCase()}s`,
    singular: kindName.toLowerCase(),
    shortNames: [],
    categories: [],
    namespaced,
    statusSubresource: group !== '',
    generation: group !== '',
    schema,
    printerColumns: [],
    strategy: {},
    description: `${kindName} for tests.`,
  };
}

const apiDefinition = kind(
  'gatehouse.dev',
  'v1alpha1',
  'ApiDefinition',
  true,
  specAndStatus(
    'One API served by the gateway.',
    object('Desired state of the API.', {
      listenPath: string('Path prefix the gateway serves the API on.', { default: '/' }),
      upstream: object('Where requests are proxied.', { timeout: string('Upstream timeout.', { nullable: true }) }),
    }),
    statusSchema('Observed state of the API.'),
  ),
);
const sync = kind(
  'gatehouse.dev',
  'v1alpha1',
  'Sync',
  true,
  specAndStatus('A sync.', object('Spec.', {}), statusSchema('Status.')),
);
const namespace = { ...kind('', 'v1', 'Namespace', false, object('A namespace.', {})), statusSubresource: true };
const secret = kind('', 'v1', 'Secret', true, object('A secret.', { type: string('Secret type.') }));
const kinds = [namespace, secret, apiDefinition, sync];

const extras: ExtraSubresource[] = [
  {
    kind: 'ApiDefinition',
    name: 'history',
    verbs: ['get'],
    responseKind: { group: 'gatehouse.dev', version: 'v1alpha1', kind: 'Sync' },
  },
  { kind: 'ApiDefinition', name: 'probe', verbs: ['create'] },
  {
    kind: 'Sync',
    name: 'diff',
    verbs: ['get'],
    responseKind: { group: 'gatehouse.dev', version: 'v1alpha1', kind: 'SyncDiff' },
  },
];

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
const ACTION_OF: Record<string, string[]> = {
  get: ['get', 'list'],
  post: ['post'],
  put: ['put'],
  patch: ['patch'],
  delete: ['delete', 'deletecollection'],
};

function operations(doc: Json): Array<{ path: string; method: string; op: Json }> {
  return Object.entries(doc.paths as Json).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => ({ path, method, op: item[method] as Json })),
  );
}

function refs(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refs(v, found);
  else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === '$ref') found.push(v as string);
      else refs(v, found);
    }
  }
  return found;
}

function hasKey(value: unknown, name: string): boolean {
  if (Array.isArray(value)) return value.some((v) => hasKey(v, name));
  if (value && typeof value === 'object')
    return Object.entries(value).some(([key, v]) => key === name || hasKey(v, name));
  return false;
}

/** kubectl's check before it relies on server-side field validation: the first PATCH
 * operation tagged with the kind must list `fieldValidation` among its own parameters. */
function kubectlSupportsFieldValidation(doc: Json, gvk: { group: string; version: string; kind: string }): boolean {
  for (const item of Object.values(doc.paths as Json)) {
    const op = item.patch;
    if (!op) continue;
    const tagged = op['x-kubernetes-group-version-kind'];
    if (tagged?.group !== gvk.group || tagged?.version !== gvk.version || tagged?.kind !== gvk.kind) continue;
    return (op.parameters as Json[]).some((param) => param.name === 'fieldValidation');
  }
  return false;
}

describe('definitionName', () => {
  it('reverses the group and keeps upstream names for core kinds', () => {
    assert.equal(
      definitionName({ group: 'gatehouse.dev', version: 'v1alpha1', kind: 'ApiDefinition' }),
      'dev.gatehouse.v1alpha1.ApiDefinition',
    );
    assert.equal(definitionName({ group: '', version: 'v1', kind: 'Secret' }), 'io.k8s.api.core.v1.Secret');
  });
});

describe('openApiV2', () => {
  const doc = openApiV2(kinds, extras) as unknown as Json;

  it('is a Swagger 2.0 document whose references all resolve', () => {
    assert.equal(doc.swagger, '2.0');
    assert.ok(doc.info.title && doc.info.version);
    for (const ref of refs(doc)) {
      assert.match(ref, /^#\/definitions\//);
      assert.ok(doc.definitions[ref.slice('#/definitions/'.length)], `unresolved ${ref}`);
    }
  });

  it('publishes every kind and list with its group-version-kind', () => {
    for (const def of kinds) {
      const gvk = { group: def.group, version: def.version, kind: def.kind };
      assert.deepEqual(doc.definitions[definitionName(gvk)]['x-kubernetes-group-version-kind'], [gvk]);
      const list = doc.definitions[definitionName({ ...gvk, kind: def.listKind })];
      assert.deepEqual(list['x-kubernetes-group-version-kind'], [{ ...gvk, kind: def.listKind }]);
      assert.deepEqual(list.properties.items.items, { $ref: `#/definitions/${definitionName(gvk)}` });
      assert.deepEqual(list.required, ['items']);
    }
    const meta = 'io.k8s.apimachinery.pkg.apis.meta.v1';
    for (const name of ['ObjectMeta', 'ListMeta', 'Status', 'StatusDetails', 'DeleteOptions', 'Patch', 'WatchEvent']) {
      assert.equal(doc.definitions[`${meta}.${name}`].type, 'object', name);
    }
  });

  it('converts v3-only keywords', () => {
    assert.equal(hasKey(doc, 'nullable'), false);
    const spec = doc.definitions['dev.gatehouse.v1alpha1.ApiDefinition'].properties.spec;
    assert.equal(spec.properties.upstream.properties.timeout['x-nullable'], true);
    assert.equal(spec.properties.listenPath.default, '/');
  });

  it('references ObjectMeta from metadata', () => {
    const metadata = doc.definitions['dev.gatehouse.v1alpha1.ApiDefinition'].properties.metadata;
    assert.equal(metadata.$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
  });

  it('serves collection, object, subresource and all-namespaces paths with kube operation ids', () => {
    const ids = Object.fromEntries(
      operations(doc).map(({ path, method, op }) => [`${method} ${path}`, op.operationId]),
    );
    const ns = '/apis/gatehouse.dev/v1alpha1/namespaces/{namespace}/apidefinitions';
    assert.equal(ids[`get ${ns}`], 'listGatehouseDevV1alpha1NamespacedApiDefinition');
    assert.equal(ids[`post ${ns}`], 'createGatehouseDevV1alpha1NamespacedApiDefinition');
    assert.equal(ids[`delete ${ns}`], 'deleteGatehouseDevV1alpha1CollectionNamespacedApiDefinition');
    assert.equal(ids[`get ${ns}/{name}`], 'readGatehouseDevV1alpha1NamespacedApiDefinition');
    assert.equal(ids[`put ${ns}/{name}`], 'replaceGatehouseDevV1alpha1NamespacedApiDefinition');
    assert.equal(ids[`patch ${ns}/{name}`], 'patchGatehouseDevV1alpha1NamespacedApiDefinition');
    assert.equal(ids[`delete ${ns}/{name}`], 'deleteGatehouseDevV1alpha1NamespacedApiDefinition');
    assert.equal(ids[`patch ${ns}/{name}/status`], 'patchGatehouseDevV1alpha1NamespacedApiDefinitionStatus');
    assert.equal(ids[`get ${ns}/{name}/history`], 'readGatehouseDevV1alpha1NamespacedApiDefinitionHistory');
    assert.equal(ids[`post ${ns}/{name}/probe`], 'createGatehouseDevV1alpha1NamespacedApiDefinitionProbe');
    assert.equal(
      ids['get /apis/gatehouse.dev/v1alpha1/apidefinitions'],
      'listGatehouseDevV1alpha1ApiDefinitionForAllNamespaces',
    );
    assert.equal(ids['get /api/v1/namespaces'], 'listCoreV1Namespace');
    assert.equal(ids['put /api/v1/namespaces/{name}/status'], 'replaceCoreV1NamespaceStatus');
    assert.equal(ids['get /api/v1/secrets'], 'listCoreV1SecretForAllNamespaces');
    assert.equal(doc.paths['/api/v1/namespaces/{name}/probe'], undefined);
    const all = Object.values(ids);
    assert.equal(new Set(all).size, all.length, 'operation ids are unique');
  });

  it('publishes only the create path of a create-only kind, and no list of it', () => {
    const review = {
      ...kind('authorization.k8s.io', 'v1', 'Review', false, object('A review.', {})),
      createOnly: true,
    };
    const reviews = openApiV2([review], []);
    assert.deepEqual(Object.keys(reviews.paths), ['/apis/authorization.k8s.io/v1/reviews']);
    const operationsOf = Object.keys(reviews.paths['/apis/authorization.k8s.io/v1/reviews']).filter(
      (k) => k !== 'parameters',
    );
    assert.deepEqual(operationsOf, ['post']);
    assert.ok(reviews.definitions['io.k8s.authorization.v1.Review']);
    assert.equal(reviews.definitions['io.k8s.authorization.v1.ReviewList'], undefined);
  });

  it('declares path parameters once per path and write parameters on each operation', () => {
    const item = doc.paths['/apis/gatehouse.dev/v1alpha1/namespaces/{namespace}/apidefinitions/{name}'];
    assert.deepEqual(
      item.parameters.map((p: Json) => [p.name, p.in, p.required ?? false]),
      [
        ['name', 'path', true],
        ['namespace', 'path', true],
        ['pretty', 'query', false],
      ],
    );
    for (const { path, method, op } of operations(doc)) {
      assert.ok(ACTION_OF[method].includes(op['x-kubernetes-action']), `${method} ${path}`);
      assert.ok(op['x-kubernetes-group-version-kind'].kind, `${method} ${path}`);
      assert.deepEqual(op.responses['401'], { description: 'Unauthorized' });
      if (method === 'post' || method === 'put' || method === 'patch') {
        const names = op.parameters.map((p: Json) => p.name);
        for (const name of ['body', 'dryRun', 'fieldManager', 'fieldValidation'])
          assert.ok(names.includes(name), `${name} on ${method} ${path}`);
      }
      if (method === 'patch') {
        assert.deepEqual(op.consumes, PATCH_CONTENT_TYPES);
        assert.equal(op.parameters[0].schema.$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch');
      }
    }
  });

  it('types subresource operations by their response kind', () => {
    const ns = '/apis/gatehouse.dev/v1alpha1/namespaces/{namespace}';
    const history = doc.paths[`${ns}/apidefinitions/{name}/history`].get;
    assert.deepEqual(history['x-kubernetes-group-version-kind'], {
      group: 'gatehouse.dev',
      version: 'v1alpha1',
      kind: 'Sync',
    });
    assert.equal(history.responses['200'].schema.$ref, '#/definitions/dev.gatehouse.v1alpha1.Sync');
    // No schema is published for SyncDiff: the response is an untyped object.
    assert.deepEqual(doc.paths[`${ns}/syncs/{name}/diff`].get.responses['200'].schema, { type: 'object' });
  });
});

describe('openApiV3GroupVersion', () => {
  const doc = openApiV3GroupVersion(kinds, 'gatehouse.dev', 'v1alpha1', extras) as unknown as Json;
  const core = openApiV3GroupVersion(kinds, '', 'v1', extras) as unknown as Json;

  it('returns undefined for a group version that is not served', () => {
    assert.equal(openApiV3GroupVersion(kinds, 'gatehouse.dev', 'v1', extras), undefined);
    assert.equal(openApiV3GroupVersion(kinds, 'apps', 'v1', extras), undefined);
  });

  it('holds only its own kinds, and references that all resolve', () => {
    assert.equal(doc.openapi, '3.0.0');
    for (const d of [doc, core]) {
      for (const ref of refs(d)) {
        assert.match(ref, /^#\/components\/schemas\//);
        assert.ok(d.components.schemas[ref.slice('#/components/schemas/'.length)], `unresolved ${ref}`);
      }
    }
    assert.ok(doc.components.schemas['dev.gatehouse.v1alpha1.SyncList']);
    assert.equal(doc.components.schemas['io.k8s.api.core.v1.Secret'], undefined);
    assert.ok(core.components.schemas['io.k8s.api.core.v1.Secret']);
    assert.ok(Object.keys(core.paths).every((path) => path.startsWith('/api/v1/')));
  });

  it('publishes the kind schema for kubectl explain', () => {
    const schema = doc.components.schemas['dev.gatehouse.v1alpha1.ApiDefinition'];
    assert.deepEqual(schema['x-kubernetes-group-version-kind'], [
      { group: 'gatehouse.dev', version: 'v1alpha1', kind: 'ApiDefinition' },
    ]);
    assert.equal(schema.description, 'ApiDefinition for tests.');
    assert.deepEqual(schema.properties.metadata.allOf, [
      { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' },
    ]);
    assert.deepEqual(schema.properties.metadata.default, {});
    assert.equal(schema.properties.spec.description, 'Desired state of the API.');
    assert.equal(
      schema.properties.spec.properties.listenPath.description,
      'Path prefix the gateway serves the API on.',
    );
    assert.equal(schema.properties.spec.properties.listenPath.default, '/');
    assert.equal(schema.properties.spec.properties.upstream.properties.timeout.nullable, true);
    const list = doc.components.schemas['dev.gatehouse.v1alpha1.ApiDefinitionList'];
    assert.deepEqual(list.properties.items.items, {
      default: {},
      allOf: [{ $ref: '#/components/schemas/dev.gatehouse.v1alpha1.ApiDefinition' }],
    });
  });

  it('lets kubectl rely on server-side field validation for every kind', () => {
    for (const def of kinds) {
      const d = def.group === '' ? core : doc;
      assert.ok(
        kubectlSupportsFieldValidation(d, { group: def.group, version: def.version, kind: def.kind }),
        def.kind,
      );
    }
    for (const { path, method, op } of operations(doc)) {
      if (method !== 'post' && method !== 'put' && method !== 'patch') continue;
      const names = op.parameters.map((p: Json) => p.name);
      for (const name of ['dryRun', 'fieldManager', 'fieldValidation'])
        assert.ok(names.includes(name), `${name} on ${method} ${path}`);
      assert.equal(op.requestBody.required, true);
    }
  });

  it('describes request and response bodies by media type', () => {
    const item = doc.paths['/apis/gatehouse.dev/v1alpha1/namespaces/{namespace}/apidefinitions/{name}'];
    assert.deepEqual(Object.keys(item.patch.requestBody.content), PATCH_CONTENT_TYPES);
    assert.deepEqual(item.put.requestBody.content['*/*'].schema, {
      $ref: '#/components/schemas/dev.gatehouse.v1alpha1.ApiDefinition',
    });
    assert.equal(
      item.delete.responses['200'].content['application/json'].schema.$ref,
      '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Status',
    );
    assert.equal(item.delete.requestBody.required, false);
    const list = doc.paths['/apis/gatehouse.dev/v1alpha1/namespaces/{namespace}/apidefinitions'].get;
    assert.deepEqual(Object.keys(list.responses['200'].content), ['application/json', 'application/json;stream=watch']);
    assert.ok(list.parameters.some((p: Json) => p.name === 'watch' && p.schema.type === 'boolean'));
  });
});

describe('openApiV3Root and openApiHash', () => {
  it('points at each group version document by its hash', () => {
    const root = openApiV3Root(kinds, extras);
    assert.deepEqual(Object.keys(root.paths), ['api/v1', 'apis/gatehouse.dev/v1alpha1']);
    const hash = openApiHash(openApiV3GroupVersion(kinds, 'gatehouse.dev', 'v1alpha1', extras));
    assert.equal(
      root.paths['apis/gatehouse.dev/v1alpha1'].serverRelativeURL,
      `/openapi/v3/apis/gatehouse.dev/v1alpha1?hash=${hash}`,
    );
    assert.match(root.paths['api/v1'].serverRelativeURL, /^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]{128}$/);
  });

  it('is the upper-case sha512 of the served JSON and follows content changes', () => {
    const doc = openApiV3GroupVersion(kinds, '', 'v1', extras);
    assert.equal(openApiHash(doc), createHash('sha512').update(JSON.stringify(doc)).digest('hex').toUpperCase());
    const changed = openApiV3GroupVersion([namespace], '', 'v1', extras);
    assert.notEqual(openApiHash(changed), openApiHash(doc));
  });
});

describe('list and map types of the served kinds', () => {
  /** Paths of the arrays in a schema, with their list types. */
  function lists(schema: JSONSchema, path: string, out: Map<string, JSONSchema>): void {
    for (const [name, child] of Object.entries(schema.properties ?? {})) {
      const p = `${path}.${name}`;
      if (child.type === 'array') out.set(p, child);
      lists(child.type === 'array' ? (child.items ?? {}) : child, child.type === 'array' ? `${p}[]` : p, out);
    }
  }

  it('every list of a gatehouse.dev kind declares how server-side apply merges it', () => {
    for (const def of allKinds.filter((k) => k.group === 'gatehouse.dev')) {
      const found = new Map<string, JSONSchema>();
      lists(def.schema, '', found);
      for (const [path, list] of found) {
        assert.ok(list['x-kubernetes-list-type'], `${def.kind} ${path} has no x-kubernetes-list-type`);
        if (list['x-kubernetes-list-type'] === 'map') assert.ok(list['x-kubernetes-list-map-keys']?.length, path);
      }
    }
  });

  it('are published in OpenAPI v2 and v3, with the keys users expect', () => {
    const v2 = openApiV2(allKinds, []) as unknown as Json;
    const v3 = openApiV3GroupVersion(allKinds, 'gatehouse.dev', 'v1alpha1', []) as unknown as Json;
    for (const schemas of [v2.definitions, v3.components.schemas]) {
      const spec = (kindName: string) => schemas[`dev.gatehouse.v1alpha1.${kindName}`].properties.spec.properties;
      const targets = spec('ApiDefinition').upstream.properties.targets;
      assert.equal(targets['x-kubernetes-list-type'], 'map');
      assert.deepEqual(targets['x-kubernetes-list-map-keys'], ['url']);
      assert.deepEqual(spec('SecurityPolicy').apis['x-kubernetes-list-map-keys'], ['name', 'namespace']);
      assert.equal(spec('ApiDefinition').hosts['x-kubernetes-list-type'], 'set');
      assert.equal(spec('Consumer').policies['x-kubernetes-list-type'], 'set');
    }
    // Core kinds as kube declares them.
    const serviceAccount = v2.definitions['io.k8s.api.core.v1.ServiceAccount'].properties;
    assert.deepEqual(serviceAccount.secrets['x-kubernetes-list-map-keys'], ['name']);
    assert.equal(serviceAccount.imagePullSecrets['x-kubernetes-list-type'], 'atomic');
  });
});
