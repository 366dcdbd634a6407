import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KindDefinition, KubeObject } from '../../api/kind.ts';
import { secretKind } from '../../api/core/secret/index.ts';
import { apiDefinitionKind } from '../../api/kinds/api-definition/index.ts';
import { compareEnvironments, type LiveObject } from './environment-diff.ts';
import { identityOf } from './manifest.ts';

function live(def: KindDefinition, object: KubeObject): LiveObject {
  return { def, identity: identityOf(object), object };
}

function api(namespace: string, name: string, url: string, extra: Record<string, unknown> = {}): LiveObject {
  return live(apiDefinitionKind, {
    apiVersion: 'gatehouse.dev/v1alpha1',
    kind: 'ApiDefinition',
    metadata: {
      name,
      namespace,
      uid: `${namespace}-${name}`,
      resourceVersion: String(url.length),
      creationTimestamp: namespace === 'staging' ? '2026-01-01T00:00:00Z' : '2026-02-02T00:00:00Z',
      labels: { team: 'shop', 'gatehouse.dev/sync-name': namespace, 'gatehouse.dev/sync-namespace': namespace },
      annotations: { 'gatehouse.dev/source-path': `${namespace}/apis.yaml` },
    },
    spec: { listenPath: `/${name}/`, upstream: { targets: [{ url }] }, ...extra },
    status: { observedGeneration: namespace.length },
  });
}

describe('compareEnvironments', () => {
  it('matches objects across a namespace map and reports only-in-A, only-in-B and the fields that differ', () => {
    const a = [api('staging', 'orders', 'http://orders.staging'), api('staging', 'cart', 'http://cart')];
    a.push(api('staging', 'beta', 'http://beta'));
    const b = [api('production', 'orders', 'http://orders.production'), api('production', 'cart', 'http://cart')];
    b.push(api('production', 'legacy', 'http://legacy'));
    const diff = compareEnvironments(a, b, { staging: 'production' });
    assert.deepEqual(diff, [
      {
        kind: 'ApiDefinition',
        group: 'gatehouse.dev',
        a: { namespace: 'staging', name: 'orders' },
        b: { namespace: 'production', name: 'orders' },
        state: 'different',
        changes: [{ path: 'spec.upstream.targets[0].url', a: 'http://orders.staging', b: 'http://orders.production' }],
      },
      {
        kind: 'ApiDefinition',
        group: 'gatehouse.dev',
        a: { namespace: 'staging', name: 'cart' },
        b: { namespace: 'production', name: 'cart' },
        state: 'equal',
        changes: [],
      },
      {
        kind: 'ApiDefinition',
        group: 'gatehouse.dev',
        a: { namespace: 'staging', name: 'beta' },
        state: 'onlyA',
        changes: [],
      },
      {
        kind: 'ApiDefinition',
        group: 'gatehouse.dev',
        b: { namespace: 'production', name: 'legacy' },
        state: 'onlyB',
        changes: [],
      },
    ]);
  });

  it('without a namespace map, matches by the same namespace only', () => {
    const diff = compareEnvironments([api('staging', 'orders', 'u')], [api('production', 'orders', 'u')], {});
    assert.deepEqual(
      diff.map((d) => d.state),
      ['onlyA', 'onlyB'],
    );
  });

  it('reports labels and annotations of their own, and fields only one side has', () => {
    const a = api('shop', 'orders', 'u', { timeout: '5s' });
    const b = api('shop', 'orders', 'u');
    b.object.metadata.labels = { ...b.object.metadata.labels, team: 'payments' };
    const [diff] = compareEnvironments([a], [b], {});
    assert.deepEqual(diff.changes, [
      { path: 'metadata.labels[team]', a: 'shop', b: 'payments' },
      { path: 'spec.timeout', a: '5s' },
    ]);
  });

  it('masks Secret values on both sides', () => {
    const secret = (value: string) =>
      live(secretKind, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'upstream-key', namespace: 'shop' },
        data: { key: Buffer.from(value).toString('base64'), same: 'eA==' },
      } as KubeObject);
    const [diff] = compareEnvironments([secret('staging-key')], [secret('production-key')], {});
    assert.deepEqual(diff.changes, [{ path: 'data[key]', a: '*** (A)', b: '*** (B)' }]);
    assert.doesNotMatch(JSON.stringify(diff), /c3RhZ2luZy1rZXk|cHJvZHVjdGlvbi1rZXk/);
  });
});
