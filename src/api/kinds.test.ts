import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JSONSchema } from './kind.ts';
import { allKinds, apiVersionOf, kindFor, kindForResource, resolveKind } from './kinds.ts';
import { fullSchema, validateObject } from './schema/index.ts';

test('allKinds lists core kinds first, then the gatehouse.dev kinds', () => {
  assert.deepEqual(
    allKinds.map((k) => `${apiVersionOf(k)} ${k.kind}`),
    [
      'v1 Namespace',
      'v1 Secret',
      'v1 ConfigMap',
      'v1 Event',
      'v1 ServiceAccount',
      'coordination.k8s.io/v1 Lease',
      'rbac.authorization.k8s.io/v1 Role',
      'rbac.authorization.k8s.io/v1 ClusterRole',
      'rbac.authorization.k8s.io/v1 RoleBinding',
      'rbac.authorization.k8s.io/v1 ClusterRoleBinding',
      'gatehouse.dev/v1alpha1 ApiDefinition',
      'gatehouse.dev/v1alpha1 SecurityPolicy',
      'gatehouse.dev/v1alpha1 Consumer',
      'gatehouse.dev/v1alpha1 ApiKey',
      'gatehouse.dev/v1alpha1 GitRepository',
      'gatehouse.dev/v1alpha1 Sync',
      'gatehouse.dev/v1alpha1 Receiver',
      'gatehouse.dev/v1alpha1 Provider',
      'gatehouse.dev/v1alpha1 Alert',
      'gatehouse.dev/v1alpha1 SubresourceRequest',
    ],
  );
});

test('every gatehouse.dev kind is namespaced, tracks generation and has a conditions status subresource', () => {
  for (const def of allKinds.filter((k) => k.group === 'gatehouse.dev')) {
    assert.equal(def.namespaced && def.statusSubresource && def.generation, true, def.kind);
    assert.deepEqual(def.categories, ['gatehouse'], def.kind);
    const status = def.schema.properties!.status.properties!;
    assert.ok(status.observedGeneration && status.conditions, def.kind);
    assert.deepEqual(Object.keys(status.conditions.items!.properties!), [
      'type',
      'status',
      'reason',
      'message',
      'lastTransitionTime',
      'observedGeneration',
    ]);
    assert.equal(
      def.printerColumns.some((c) => c.name === 'Age' && c.type === 'date'),
      true,
      def.kind,
    );
  }
});

test('every schema property carries a description, so kubectl explain is useful', () => {
  const missing: string[] = [];
  const visit = (schema: JSONSchema, path: string) => {
    if (!schema.description && path.split('.').length > 1 && !path.endsWith('[]')) missing.push(path);
    for (const [name, child] of Object.entries(schema.properties ?? {})) visit(child, `${path}.${name}`);
    if (schema.items) visit(schema.items, `${path}[]`);
  };
  for (const def of allKinds) visit(fullSchema(def), def.kind);
  assert.deepEqual(missing, []);
});

test('every kind validates an object with the wrong kind of values without throwing', () => {
  for (const def of allKinds) {
    const wrong = { spec: 42, status: 'x', data: [], rules: 7, secrets: 7 };
    const errors = validateObject(def, {
      apiVersion: apiVersionOf(def),
      kind: def.kind,
      metadata: { name: 'x' },
      ...wrong,
    });
    assert.ok(errors.length > 0, def.kind);
  }
});

test('kinds are found by apiVersion and kind, by resource, and by the names kubectl accepts', () => {
  assert.equal(kindFor('gatehouse.dev/v1alpha1', 'Sync')?.plural, 'syncs');
  assert.equal(kindFor('v1', 'Secret')?.plural, 'secrets');
  assert.equal(kindFor('gatehouse.dev/v1', 'Sync'), undefined);
  assert.equal(kindForResource('gatehouse.dev', 'apidefinitions')?.kind, 'ApiDefinition');
  assert.equal(kindForResource('', 'namespaces')?.kind, 'Namespace');
  assert.equal(kindForResource('', 'apidefinitions'), undefined);
  for (const name of ['api', 'apis', 'ApiDefinition', 'apidefinition', 'apidefinitions', 'apis.gatehouse.dev'])
    assert.equal(resolveKind(name)?.kind, 'ApiDefinition', name);
  assert.equal(resolveKind('policy')?.kind, 'SecurityPolicy');
  assert.equal(resolveKind('gitrepo')?.kind, 'GitRepository');
  assert.equal(resolveKind('ns')?.kind, 'Namespace');
  assert.equal(resolveKind('cm')?.kind, 'ConfigMap');
  assert.equal(resolveKind('nothing'), undefined);
});
