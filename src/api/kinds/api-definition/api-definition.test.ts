import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findUnknownFields } from '../../schema/index.ts';
import { admitCreate, describe, NOT_CHECKED } from '../../testing.ts';
import { apiDefinitionKind } from './index.ts';

function api(spec: Record<string, unknown>) {
  return {
    apiVersion: 'gatehouse.dev/v1alpha1',
    kind: 'ApiDefinition',
    metadata: { name: 'orders', namespace: 'shop' },
    spec,
  };
}

const minimal = { listenPath: '/orders', upstream: { targets: [{ url: 'http://orders.shop:8080' }] } };

test('a minimal ApiDefinition gets its defaults', () => {
  const { obj, errors } = admitCreate(apiDefinitionKind, api(minimal));
  assert.deepEqual(errors, []);
  assert.deepEqual(obj.spec, {
    active: true,
    visibility: 'public',
    listenPath: '/orders',
    stripListenPath: false,
    upstream: { targets: [{ url: 'http://orders.shop:8080' }], timeout: '30s', connectTimeout: '5s', retries: 0 },
    auth: { type: 'keyless', forwardCredentials: false },
  });
});

test('nested blocks get their defaults when present', () => {
  const { obj, errors } = admitCreate(
    apiDefinitionKind,
    api({
      ...minimal,
      upstream: { ...minimal.upstream, healthCheck: {}, circuitBreaker: {} },
      auth: { type: 'apiKey', apiKey: {} },
      cors: {},
    }),
  );
  assert.deepEqual(errors, []);
  const spec = obj.spec as Record<string, Record<string, unknown>>;
  assert.deepEqual(spec.upstream.healthCheck, {
    path: '/',
    interval: '10s',
    timeout: '2s',
    healthyThreshold: 2,
    unhealthyThreshold: 3,
  });
  assert.deepEqual(spec.upstream.circuitBreaker, { consecutiveFailures: 5, openDuration: '30s', halfOpenRequests: 1 });
  assert.deepEqual(spec.auth, { type: 'apiKey', apiKey: { header: 'X-API-Key' }, forwardCredentials: false });
  assert.deepEqual(spec.cors, { allowCredentials: false });
});

test('a complete ApiDefinition validates and declares every field', () => {
  const full = api({
    active: false,
    visibility: 'internal',
    hosts: ['api.example.com', '*.example.org'],
    listenPath: '/v1/orders',
    stripListenPath: true,
    upstream: {
      targets: [
        { url: 'https://a.internal', weight: 3 },
        { url: 'http://[::1]:8080/base', weight: 0 },
      ],
      timeout: '1m30s',
      connectTimeout: '500ms',
      retries: 2,
      healthCheck: { path: '/healthz', interval: '5s', timeout: '1s', healthyThreshold: 1, unhealthyThreshold: 2 },
      circuitBreaker: { consecutiveFailures: 3, openDuration: '1m', halfOpenRequests: 2 },
    },
    auth: {
      type: 'jwt',
      jwt: {
        issuer: 'https://idp.example.com',
        audiences: ['orders'],
        jwks: { keys: [{ kty: 'RSA', n: 'x', e: 'AQAB' }] },
        consumerClaim: 'client_id',
      },
      forwardCredentials: true,
    },
    rateLimit: { requests: 100, per: '1s' },
    cors: {
      allowOrigins: ['https://app.example.com'],
      allowMethods: ['GET'],
      allowHeaders: ['Authorization'],
      exposeHeaders: ['X-Request-Id'],
      allowCredentials: true,
      maxAge: 600,
    },
    ipAllow: ['10.0.0.0/8', '2001:db8::/32'],
    ipDeny: ['10.1.0.0/16'],
    requestHeaders: { set: { 'X-Forwarded-Api': 'orders' }, remove: ['Cookie'] },
    responseHeaders: { set: { 'Cache-Control': 'no-store' }, remove: ['Server'] },
    maxBodyBytes: 1048576,
  });
  const { obj, errors } = admitCreate(apiDefinitionKind, full);
  assert.deepEqual(errors, []);
  assert.deepEqual(findUnknownFields(apiDefinitionKind, obj), []);
});

test('schema violations are reported per field', () => {
  const { errors } = admitCreate(
    apiDefinitionKind,
    api({
      visibility: 'private',
      hosts: ['Bad_Host'],
      listenPath: 'orders',
      upstream: { targets: [], timeout: '10' },
      auth: { type: 'oauth' },
      rateLimit: { requests: 'many', per: '1m' },
      ipAllow: ['10.0.0.1', '10.0.0.0/8'],
      ipDeny: ['::/200'],
      maxBodyBytes: -1,
    }),
  );
  assert.deepEqual(describe(errors), [
    'spec.visibility: Unsupported value: "private": supported values: "public", "internal"',
    `spec.hosts[0]: Invalid value: "Bad_Host": spec.hosts[0] in body should match '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'`,
    `spec.listenPath: Invalid value: "orders": spec.listenPath in body should match '^/'`,
    'spec.upstream.targets: Invalid value: 0: spec.upstream.targets in body should have at least 1 items',
    'spec.upstream.timeout: Invalid value: "10": spec.upstream.timeout in body must be of type duration: "10"',
    'spec.auth.type: Unsupported value: "oauth": supported values: "keyless", "apiKey", "jwt", "basic"',
    'spec.rateLimit.requests: Invalid value: "string": spec.rateLimit.requests in body must be of type integer: "string"',
    'spec.ipAllow[0]: Invalid value: "10.0.0.1": spec.ipAllow[0] in body must be of type cidr: "10.0.0.1"',
    'spec.ipDeny[0]: Invalid value: "::/200": spec.ipDeny[0] in body must be of type cidr: "::/200"',
    'spec.maxBodyBytes: Invalid value: -1: spec.maxBodyBytes in body should be greater than or equal to 0',
    NOT_CHECKED,
  ]);
});

test('listenPath and upstream are required', () => {
  assert.deepEqual(describe(admitCreate(apiDefinitionKind, api({})).errors), [
    'spec.listenPath: Required value',
    'spec.upstream: Required value',
    NOT_CHECKED,
  ]);
  assert.deepEqual(
    describe(admitCreate(apiDefinitionKind, api({ listenPath: '/', upstream: { targets: [{ weight: 2 }] } })).errors),
    ['spec.upstream.targets[0].url: Required value', NOT_CHECKED],
  );
});

test('upstream URLs must be http or https', () => {
  const { errors } = admitCreate(
    apiDefinitionKind,
    api({
      listenPath: '/',
      upstream: { targets: [{ url: 'ftp://files' }, { url: 'not a url' }, { url: 'http://u:p@host' }] },
    }),
  );
  assert.deepEqual(describe(errors), [
    'spec.upstream.targets[0].url: Invalid value: "ftp://files": must be an http or https URL',
    'spec.upstream.targets[1].url: Invalid value: "not a url": must be an absolute http or https URL',
    'spec.upstream.targets[2].url: Invalid value: "http://u:p@host": must not contain credentials',
  ]);
});

test('jwt auth needs exactly one of jwksUri and jwks', () => {
  const withJwt = (jwt: Record<string, unknown> | undefined) =>
    describe(admitCreate(apiDefinitionKind, api({ ...minimal, auth: { type: 'jwt', jwt } })).errors);
  assert.deepEqual(withJwt(undefined), ['spec.auth.jwt: Required value: required when spec.auth.type is jwt']);
  assert.deepEqual(withJwt({ issuer: 'x' }), ['spec.auth.jwt: Required value: one of jwksUri or jwks is required']);
  assert.deepEqual(withJwt({ jwksUri: 'https://idp/jwks', jwks: { keys: [] } }), [
    'spec.auth.jwt.jwks: Forbidden: may not be set together with jwksUri',
  ]);
  assert.deepEqual(withJwt({ jwksUri: 'file:///etc/jwks' }), [
    'spec.auth.jwt.jwksUri: Invalid value: "file:///etc/jwks": must be an http or https URL',
  ]);
  assert.deepEqual(withJwt({ jwksUri: 'https://idp/jwks' }), []);
});

test('header names, zero windows and zero timeouts are rejected', () => {
  const { errors } = admitCreate(
    apiDefinitionKind,
    api({
      ...minimal,
      upstream: { ...minimal.upstream, timeout: '0s' },
      rateLimit: { requests: 1, per: '0' },
      auth: { type: 'apiKey', apiKey: { header: 'X Key' } },
      requestHeaders: { set: { 'Bad Header': 'x' }, remove: ['Ok', 'Not:Ok'] },
    }),
  );
  assert.deepEqual(describe(errors), [
    'spec.auth.apiKey.header: Invalid value: "X Key": must be a valid HTTP header name',
    'spec.rateLimit.per: Invalid value: "0": must be greater than zero',
    'spec.upstream.timeout: Invalid value: "0s": must be greater than zero',
    'spec.requestHeaders.set: Invalid value: "Bad Header": must be a valid HTTP header name',
    'spec.requestHeaders.remove: Invalid value: "Not:Ok": must be a valid HTTP header name',
  ]);
});

test('unknown fields are found at any depth', () => {
  const obj = api({ ...minimal, upstream: { targets: [{ url: 'http://x', bogus: 1 }] }, listen: '/typo' });
  assert.deepEqual(findUnknownFields(apiDefinitionKind, obj), ['.spec.upstream.targets[0].bogus', '.spec.listen']);
});

test('printer columns', () => {
  const { obj } = admitCreate(
    apiDefinitionKind,
    api({ ...minimal, hosts: ['a.example', 'b.example'], auth: { type: 'apiKey' } }),
  );
  obj.metadata.creationTimestamp = '2025-01-01T00:00:00Z';
  const cells = Object.fromEntries(apiDefinitionKind.printerColumns.map((c) => [c.name, c.cell(obj)]));
  assert.deepEqual(cells, {
    'Listen Path': '/orders',
    Upstream: 'http://orders.shop:8080',
    Auth: 'apiKey',
    Ready: '',
    Age: '2025-01-01T00:00:00Z',
    Hosts: 'a.example,b.example',
    Visibility: 'public',
  });
  assert.deepEqual(
    apiDefinitionKind.printerColumns.filter((c) => c.priority > 0).map((c) => c.name),
    ['Hosts', 'Visibility'],
  );
  assert.equal(apiDefinitionKind.printerColumns.find((c) => c.name === 'Age')!.type, 'date');
  obj.status = { conditions: [{ type: 'Ready', status: 'True', reason: 'Serving' }] };
  assert.equal(apiDefinitionKind.printerColumns.find((c) => c.name === 'Ready')!.cell(obj), 'True');
});
