import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseResourcePath } from './request-info.ts';
import { humanDuration } from './table.ts';
import { negotiate } from './negotiate.ts';

test('splits resource paths like kube-apiserver', () => {
  assert.deepEqual(parseResourcePath('/apis/gatehouse.dev/v1alpha1/namespaces/default/apidefinitions/shop/status'), {
    group: 'gatehouse.dev',
    version: 'v1alpha1',
    namespace: 'default',
    resource: 'apidefinitions',
    name: 'shop',
    subresource: 'status',
    watchPrefix: false,
  });
  assert.deepEqual(parseResourcePath('/apis/gatehouse.dev/v1alpha1/apidefinitions'), {
    group: 'gatehouse.dev',
    version: 'v1alpha1',
    namespace: undefined,
    resource: 'apidefinitions',
    name: undefined,
    subresource: undefined,
    watchPrefix: false,
  });
  assert.equal(parseResourcePath('/api/v1/namespaces/team-a')?.name, 'team-a');
  assert.equal(parseResourcePath('/api/v1/namespaces/team-a/status')?.subresource, 'status');
  assert.equal(parseResourcePath('/api/v1/namespaces/team-a/secrets')?.resource, 'secrets');
  assert.equal(
    parseResourcePath('/apis/gatehouse.dev/v1alpha1/watch/namespaces/default/apidefinitions')?.watchPrefix,
    true,
  );
  assert.equal(parseResourcePath('/apis/gatehouse.dev'), undefined);
  assert.equal(parseResourcePath('/healthz'), undefined);
});

test('renders ages as kubectl does', () => {
  assert.equal(humanDuration(5_000), '5s');
  assert.equal(humanDuration(119_000), '119s');
  assert.equal(humanDuration(150_000), '2m30s');
  assert.equal(humanDuration(3 * 3600_000 + 5 * 60_000), '3h5m');
  assert.equal(humanDuration(30 * 3600_000), '30h');
  assert.equal(humanDuration(3 * 86400_000 + 4 * 3600_000), '3d4h');
  assert.equal(humanDuration(400 * 86400_000), '400d');
  assert.equal(humanDuration(-5_000), '<invalid>');
});

test('negotiates Table, metadata and plain representations', () => {
  assert.equal(
    negotiate(
      'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json',
      true,
    ).shape,
    'table',
  );
  assert.equal(negotiate('application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io', true).shape, 'metadata');
  assert.equal(negotiate('application/vnd.kubernetes.protobuf, application/json', true).shape, 'object');
  assert.equal(negotiate('application/yaml', true).encoding, 'yaml');
  assert.throws(() => negotiate('application/vnd.kubernetes.protobuf', true), /only the following media types/);
});
