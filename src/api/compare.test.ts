import assert from 'node:assert/strict';
import { test } from 'node:test';
import { secretKind } from './core/secret/index.ts';
import type { KubeObject } from './kind.ts';
import { apiDefinitionKind } from './kinds/api-definition/index.ts';
import { compareObjects } from './compare.ts';

const api = (spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'gatehouse.dev/v1alpha1',
  kind: 'ApiDefinition',
  metadata: { name: 'shop', namespace: 'default', ...metadata },
  spec,
});

test('ignores server-set metadata and status', () => {
  const live = api(
    { listenPath: '/a' },
    { uid: 'u', resourceVersion: '7', generation: 3, creationTimestamp: '2024-01-01T00:00:00Z', managedFields: [{}] },
  );
  const desired = { ...api({ listenPath: '/a' }), status: { observedGeneration: 1 } };
  assert.deepEqual(compareObjects(apiDefinitionKind, live, desired), []);
});

test('reports leaf fields with Kubernetes paths: list indexes and map keys in brackets', () => {
  const live = api(
    {
      upstream: { targets: [{ url: 'http://127.0.0.1:1' }, { url: 'http://127.0.0.1:2' }] },
      requestHeaders: { set: { 'X-A': '1' } },
    },
    { labels: { app: 'a' } },
  );
  const desired = api(
    { upstream: { targets: [{ url: 'http://127.0.0.1:3' }] }, requestHeaders: { set: { 'X-A': '2' } } },
    { labels: { app: 'a', 'gatehouse.dev/sync-name': 's' } },
  );
  assert.deepEqual(compareObjects(apiDefinitionKind, live, desired), [
    { path: 'metadata.labels[gatehouse.dev/sync-name]', desired: 's' },
    { path: 'spec.requestHeaders.set[X-A]', live: '1', desired: '2' },
    { path: 'spec.upstream.targets[0].url', live: 'http://127.0.0.1:1', desired: 'http://127.0.0.1:3' },
    { path: 'spec.upstream.targets[1].url', live: 'http://127.0.0.1:2' },
  ]);
});

test('without a live object every desired leaf is a change; a type change is one change', () => {
  const secret: KubeObject = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's', namespace: 'default' },
    data: { password: 'cHc=' },
  };
  assert.deepEqual(compareObjects(secretKind, undefined, secret), [
    { path: 'apiVersion', desired: 'v1' },
    { path: 'data[password]', desired: 'cHc=' },
    { path: 'kind', desired: 'Secret' },
    { path: 'metadata.name', desired: 's' },
    { path: 'metadata.namespace', desired: 'default' },
  ]);
  assert.deepEqual(compareObjects(apiDefinitionKind, api({ hosts: 'x' }), api({ hosts: ['x'] })), [
    { path: 'spec.hosts', live: 'x', desired: ['x'] },
  ]);
});

test('an empty map or list equals an absent one', () => {
  assert.deepEqual(compareObjects(apiDefinitionKind, api({ hosts: [] }, { labels: {} }), api({})), []);
});
