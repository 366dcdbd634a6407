// SecurityPolicy, Consumer, GitRepository and Sync: defaults, validation, columns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KindDefinition, KubeObject } from '../kind.ts';
import { findUnknownFields } from '../schema/index.ts';
import { admitCreate, describe, NOT_CHECKED } from '../testing.ts';
import { apiDefinitionKind } from './api-definition/index.ts';
import { consumerKind } from './consumer/index.ts';
import { gitRepositoryKind } from './git-repository/index.ts';
import { securityPolicyKind } from './security-policy/index.ts';
import { syncKind } from './sync/index.ts';

function make(def: KindDefinition, spec: unknown): Record<string, unknown> {
  return {
    apiVersion: 'gatehouse.dev/v1alpha1',
    kind: def.kind,
    metadata: { name: 'x', namespace: 'ops', creationTimestamp: '2025-01-01T00:00:00Z' },
    spec,
  };
}

function cells(def: KindDefinition, obj: KubeObject): Record<string, unknown> {
  return Object.fromEntries(def.printerColumns.map((c) => [c.name, c.cell(obj)]));
}

test('SecurityPolicy: access rights, rate limit and quota', () => {
  const good = admitCreate(
    securityPolicyKind,
    make(securityPolicyKind, {
      apis: [
        { name: 'orders', methods: ['GET', 'POST'], paths: ['/items'] },
        { name: 'billing', namespace: 'finance' },
      ],
      rateLimit: { requests: 10, per: '1s' },
      quota: { max: 10000, per: '24h' },
    }),
  );
  assert.deepEqual(good.errors, []);
  assert.deepEqual(findUnknownFields(securityPolicyKind, good.obj), []);
  assert.deepEqual(cells(securityPolicyKind, good.obj), {
    APIs: 'orders,billing',
    'Rate Limit': '10/1s',
    Quota: '10000/24h',
    Ready: '',
    Age: '2025-01-01T00:00:00Z',
  });

  assert.deepEqual(
    (admitCreate(securityPolicyKind, make(securityPolicyKind, {})).obj.spec as Record<string, unknown>).apis,
    [],
  );
  assert.deepEqual(
    describe(
      admitCreate(
        securityPolicyKind,
        make(securityPolicyKind, {
          apis: [{ methods: ['FETCH'], paths: ['items'] }],
          rateLimit: { requests: 0 },
          quota: { max: 1, per: 'daily' },
        }),
      ).errors,
    ),
    [
      'spec.apis[0].name: Required value',
      'spec.apis[0].methods[0]: Unsupported value: "FETCH": supported values: "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"',
      `spec.apis[0].paths[0]: Invalid value: "items": spec.apis[0].paths[0] in body should match '^/'`,
      'spec.rateLimit.per: Required value',
      'spec.rateLimit.requests: Invalid value: 0: spec.rateLimit.requests in body should be greater than or equal to 1',
      'spec.quota.per: Invalid value: "daily": spec.quota.per in body must be of type duration: "daily"',
      NOT_CHECKED,
    ],
  );
  assert.deepEqual(
    describe(admitCreate(securityPolicyKind, make(securityPolicyKind, { quota: { max: 1, per: '0s' } })).errors),
    ['spec.quota.per: Invalid value: "0s": must be greater than zero'],
  );
});

test('Consumer: spec is optional and its lists default to empty sets', () => {
  const { obj, errors } = admitCreate(consumerKind, {
    apiVersion: 'gatehouse.dev/v1alpha1',
    kind: 'Consumer',
    metadata: { name: 'billing', namespace: 'shop' },
  });
  assert.deepEqual(errors, []);
  assert.deepEqual(obj.spec, { policies: [], jwtSubjects: [] });
  assert.deepEqual(
    describe(
      admitCreate(consumerKind, make(consumerKind, { policies: ['gold', 'Gold', 'gold'], jwtSubjects: [''] })).errors,
    ),
    [
      `spec.policies[1]: Invalid value: "Gold": spec.policies[1] in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'`,
      'spec.jwtSubjects[0]: Invalid value: "": spec.jwtSubjects[0] in body should be at least 1 chars long',
    ],
  );
  assert.deepEqual(describe(admitCreate(consumerKind, make(consumerKind, { policies: ['gold', 'gold'] })).errors), [
    'spec.policies[1]: Duplicate value: "gold"',
  ]);
  const withPolicies = admitCreate(
    consumerKind,
    make(consumerKind, { policies: ['gold', 'silver'], description: 'Billing team' }),
  ).obj;
  assert.deepEqual(cells(consumerKind, withPolicies), {
    Policies: 'gold,silver',
    Ready: '',
    Age: '2025-01-01T00:00:00Z',
    Description: 'Billing team',
  });
});

test('GitRepository: Flux defaults, URL schemes, credentials stay out of the URL', () => {
  const { obj, errors } = admitCreate(
    gitRepositoryKind,
    make(gitRepositoryKind, {
      url: 'ssh://git@github.com/acme/apis.git',
      ref: { branch: 'main' },
      secretRef: { name: 'git' },
    }),
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(obj.spec, {
    url: 'ssh://git@github.com/acme/apis.git',
    ref: { branch: 'main' },
    secretRef: { name: 'git' },
    interval: '1m',
    timeout: '60s',
    suspend: false,
  });
  for (const url of ['git@github.com:acme/apis.git', 'file:///srv/git/apis', 'https://git.example/apis.git']) {
    assert.deepEqual(admitCreate(gitRepositoryKind, make(gitRepositoryKind, { url })).errors, [], url);
  }
  assert.deepEqual(
    describe(admitCreate(gitRepositoryKind, make(gitRepositoryKind, { url: 'ftp://git.example/apis.git' })).errors),
    [
      `spec.url: Invalid value: "ftp://git.example/apis.git": spec.url in body should match '^((https?|ssh|file)://.+|[A-Za-z0-9._-]+@[^:/]+:.+)$'`,
    ],
  );
  assert.deepEqual(
    describe(
      admitCreate(
        gitRepositoryKind,
        make(gitRepositoryKind, { url: 'https://bot:s3cret@git.example/apis.git', interval: '0s' }),
      ).errors,
    ),
    [
      'spec.interval: Invalid value: "0s": must be greater than zero',
      'spec.url: Invalid value: "https://bot:***@git.example/apis.git": must not contain a password; use spec.secretRef',
    ],
  );
  obj.status = {
    conditions: [
      { type: 'Ready', status: 'True', reason: 'Succeeded', message: 'stored artifact for revision main@sha1:abc' },
    ],
    artifact: {
      revision: 'main@sha1:abc',
      digest: 'sha256:00',
      path: 'gitrepository/ops/x/abc.tar.gz',
      lastUpdateTime: '2025-01-01T00:00:00Z',
    },
  };
  assert.deepEqual(findUnknownFields(gitRepositoryKind, obj), []);
  assert.deepEqual(cells(gitRepositoryKind, obj), {
    URL: 'ssh://git@github.com/acme/apis.git',
    Ready: 'True',
    Status: 'stored artifact for revision main@sha1:abc',
    Age: '2025-01-01T00:00:00Z',
    Revision: 'main@sha1:abc',
  });
});

test('Sync: kubeConfig, dependsOn and promotion name their Secret and Syncs', () => {
  const spec = {
    sourceRef: { name: 'apis' },
    kubeConfig: { secretRef: { name: 'production', key: 'value.yaml' } },
    dependsOn: [{ name: 'policies' }, { name: 'shared', namespace: 'platform' }],
    promotion: { from: { name: 'staging', healthyFor: '10m' } },
  };
  const { obj, errors } = admitCreate(syncKind, make(syncKind, spec));
  assert.deepEqual(errors, []);
  obj.status = { healthy: { revision: 'main@sha1:abc', since: '2025-01-01T00:00:00Z' } };
  assert.deepEqual(findUnknownFields(syncKind, obj), []);
  const refused = (changed: object) => describe(admitCreate(syncKind, make(syncKind, { ...spec, ...changed })).errors);
  assert.deepEqual(
    refused({ dependsOn: [{ name: 'policies' }, { name: 'x', namespace: 'ops' }, { name: 'policies' }] }),
    [
      'spec.dependsOn[1]: Invalid value: "ops/x": must not name the Sync itself',
      'spec.dependsOn[2]: Invalid value: "ops/policies": names a Sync already listed',
    ],
  );
  assert.deepEqual(refused({ promotion: { from: { name: 'x', healthyFor: '10m' } } }), [
    'spec.promotion.from: Invalid value: "ops/x": must not name the Sync itself',
  ]);
  assert.deepEqual(refused({ promotion: { from: { name: 'staging' } } }), [
    'spec.promotion.from.healthyFor: Required value',
    NOT_CHECKED,
  ]);
  assert.deepEqual(refused({ promotion: { from: { name: 'staging', healthyFor: '-1m' } } }), [
    'spec.promotion.from.healthyFor: Invalid value: "-1m": ' +
      'spec.promotion.from.healthyFor in body must be of type duration: "-1m"',
  ]);
  assert.deepEqual(refused({ promotion: { from: { name: 'staging', healthyFor: '0s' } } }), []);
  assert.deepEqual(refused({ kubeConfig: { secretRef: { key: 'a/b' } } }), [
    'spec.kubeConfig.secretRef.name: Required value',
    'spec.kubeConfig.secretRef.key: Invalid value: "a/b": ' +
      "spec.kubeConfig.secretRef.key in body should match '^[-._a-zA-Z0-9]+$'",
    NOT_CHECKED,
  ]);
});

test('Sync: health checks and their timeout name the field at fault', () => {
  const spec = { sourceRef: { name: 'apis' }, wait: true, healthChecks: [{ name: 'orders' }], timeout: '2m' };
  const { obj, errors } = admitCreate(syncKind, make(syncKind, spec));
  assert.deepEqual(errors, []);
  assert.deepEqual((obj.spec as { healthChecks: unknown }).healthChecks, [{ kind: 'ApiDefinition', name: 'orders' }]);
  const rollback = { revision: 'main@sha1:a', from: 'main@sha1:b', time: '2025-01-01T00:00:00Z', by: 'u', reason: 'r' };
  obj.status = {
    rolledBackTo: { ...rollback, automatic: true },
    history: [{ revision: 'main@sha1:a', time: rollback.time, status: 'RolledBack', message: 'r' }],
  };
  assert.deepEqual(findUnknownFields(syncKind, obj), []);
  const refused = (changed: object) => describe(admitCreate(syncKind, make(syncKind, { ...spec, ...changed })).errors);
  assert.deepEqual(refused({ timeout: '0s' }), ['spec.timeout: Invalid value: "0s": must be greater than zero']);
  assert.deepEqual(refused({ healthChecks: [{ kind: 'Consumer', name: 'orders' }] }), [
    'spec.healthChecks[0].kind: Unsupported value: "Consumer": supported values: "ApiDefinition"',
    NOT_CHECKED,
  ]);
});

test('Sync: spec.rollback needs maxErrorRate from 0 to 1 and a window, named by field', () => {
  const spec = { sourceRef: { name: 'apis' }, wait: true, rollback: { maxErrorRate: 0.1, window: '30s' } };
  assert.deepEqual(admitCreate(syncKind, make(syncKind, spec)).errors, []);
  const refused = (rollback: object) => describe(admitCreate(syncKind, make(syncKind, { ...spec, rollback })).errors);
  assert.deepEqual(refused({ maxErrorRate: 0.1 }), ['spec.rollback.window: Required value', NOT_CHECKED]);
  assert.deepEqual(refused({ window: '30s' }), ['spec.rollback.maxErrorRate: Required value', NOT_CHECKED]);
  assert.deepEqual(refused({ maxErrorRate: 1.5, window: '30s' }), [
    'spec.rollback.maxErrorRate: Invalid value: 1.5: spec.rollback.maxErrorRate in body should be less than or equal to 1',
  ]);
  assert.deepEqual(refused({ maxErrorRate: 0.1, window: '0s' }), [
    'spec.rollback.window: Invalid value: "0s": must be greater than zero',
  ]);
  assert.deepEqual(refused({ maxErrorRate: 0, window: '1m' }), []);
});

test('ApiDefinition: status.traffic is a known status field', () => {
  const spec = { listenPath: '/orders', upstream: { targets: [{ url: 'http://127.0.0.1:1' }] } };
  const { obj, errors } = admitCreate(apiDefinitionKind, make(apiDefinitionKind, spec));
  assert.deepEqual(errors, []);
  obj.status = { traffic: { requests: 12, serverErrors: 5, since: '2025-01-01T00:00:00Z' } };
  assert.deepEqual(findUnknownFields(apiDefinitionKind, obj), []);
});

test('Sync: defaults, relative paths, substitution names, columns', () => {
  const { obj, errors } = admitCreate(
    syncKind,
    make(syncKind, { sourceRef: { name: 'apis' }, substitute: { ENV: 'prod', _x1: 'y' } }),
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(obj.spec, {
    sourceRef: { kind: 'GitRepository', name: 'apis' },
    path: './',
    interval: '5m',
    prune: false,
    suspend: false,
    lock: true,
    substitute: { ENV: 'prod', _x1: 'y' },
  });
  assert.deepEqual(
    describe(
      admitCreate(syncKind, make(syncKind, { sourceRef: { kind: 'Bucket', name: 'apis' }, targetNamespace: 'Prod' }))
        .errors,
    ),
    [
      'spec.sourceRef.kind: Unsupported value: "Bucket": supported values: "GitRepository"',
      `spec.targetNamespace: Invalid value: "Prod": spec.targetNamespace in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'`,
      NOT_CHECKED,
    ],
  );
  assert.deepEqual(
    describe(
      admitCreate(
        syncKind,
        make(syncKind, { sourceRef: { name: 'apis' }, path: './a/../../etc', substitute: { 'my-var': 'x' } }),
      ).errors,
    ),
    [
      'spec.path: Invalid value: "./a/../../etc": must be a relative path inside the artifact',
      `spec.substitute: Invalid value: "my-var": variable names must match '^[_a-zA-Z][_a-zA-Z0-9]*$'`,
    ],
  );
  assert.deepEqual(
    describe(admitCreate(syncKind, make(syncKind, { sourceRef: { name: 'apis' }, path: '/abs' })).errors),
    ['spec.path: Invalid value: "/abs": must be a relative path inside the artifact'],
  );
  obj.status = {
    observedGeneration: 1,
    conditions: [
      {
        type: 'Ready',
        status: 'False',
        reason: 'ValidationFailed',
        message: 'orders: spec.listenPath: Required value',
        lastTransitionTime: '2025-01-01T00:00:00Z',
        observedGeneration: 1,
      },
    ],
    lastAppliedRevision: 'main@sha1:abc',
    lastAttemptedRevision: 'main@sha1:def',
    inventory: { entries: [{ id: 'shop_orders_gatehouse.dev_ApiDefinition', v: 'v1alpha1' }] },
    history: [{ revision: 'main@sha1:abc', digest: 'sha256:00', time: '2025-01-01T00:00:00Z', status: 'Succeeded' }],
  };
  assert.deepEqual(findUnknownFields(syncKind, obj), []);
  assert.deepEqual(cells(syncKind, obj), {
    Source: 'GitRepository/apis',
    Path: './',
    Suspended: false,
    Ready: 'False',
    Status: 'orders: spec.listenPath: Required value',
    Age: '2025-01-01T00:00:00Z',
    Revision: 'main@sha1:abc',
  });
});
