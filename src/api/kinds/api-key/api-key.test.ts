import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { admitCreate, admitUpdate, describe, NOT_CHECKED } from '../../testing.ts';
import { apiKeyKind, hashApiKey } from './index.ts';
import type { ApiKeySpec } from './types.ts';

function apiKey(spec: Record<string, unknown>) {
  return { apiVersion: 'gatehouse.dev/v1alpha1', kind: 'ApiKey', metadata: { name: 'ci', namespace: 'shop' }, spec };
}

// What the registry stores is checked against the real store in test/cli-apikey.test.ts.
test('create mints a key, puts only its hash in the object and returns the plaintext beside it', () => {
  const { obj, errors, responseOnly } = admitCreate(
    apiKeyKind,
    apiKey({ consumer: 'billing', expires: '2030-01-01T00:00:00Z' }),
  );
  assert.deepEqual(errors, []);
  const key = responseOnly?.key;
  assert.equal(typeof key, 'string');
  assert.match(key as string, /^gh_[A-Za-z0-9_-]{43}$/);
  const spec = obj.spec as ApiKeySpec;
  assert.equal(
    spec.hash,
    `sha256:${createHash('sha256')
      .update(key as string)
      .digest('hex')}`,
  );
  assert.equal(spec.hash, hashApiKey(key as string));
  assert.equal(spec.prefix, (key as string).slice(0, 11));
  assert.equal(JSON.stringify(obj).includes(key as string), false, 'plaintext never in the stored object');
});

test('every create mints a different key', () => {
  const a = admitCreate(apiKeyKind, apiKey({ consumer: 'billing' }));
  const b = admitCreate(apiKeyKind, apiKey({ consumer: 'billing' }));
  assert.notEqual(a.responseOnly?.key, b.responseOnly?.key);
  assert.notEqual((a.obj.spec as ApiKeySpec).hash, (b.obj.spec as ApiKeySpec).hash);
});

test('a hash given on create is kept and nothing is minted; an update cannot re-key', () => {
  const fromGit = hashApiKey('gh_minted-outside');
  const kept = admitCreate(apiKeyKind, apiKey({ consumer: 'billing', hash: fromGit }));
  assert.deepEqual(kept.errors, []);
  assert.equal((kept.obj.spec as ApiKeySpec).hash, fromGit);
  assert.equal(kept.responseOnly, undefined, 'no plaintext exists to return');
  assert.deepEqual(describe(admitCreate(apiKeyKind, apiKey({ consumer: 'billing', hash: 'md5:abc' })).errors), [
    'spec.hash: Invalid value: "md5:abc": must be "sha256:" and 64 lower-case hex digits (the SHA-256 of the key)',
  ]);

  const planted = hashApiKey('gh_chosen-later');
  const created = admitCreate(apiKeyKind, apiKey({ consumer: 'billing' }));
  const stored = created.obj.spec as ApiKeySpec;
  assert.equal(stored.hash, hashApiKey(created.responseOnly?.key as string));

  const updated = admitUpdate(
    apiKeyKind,
    apiKey({ consumer: 'billing', policies: ['gold'], hash: planted, prefix: 'gh_chosen' }),
    created.obj,
  );
  assert.deepEqual(updated.errors, []);
  assert.deepEqual(updated.obj.spec, {
    consumer: 'billing',
    policies: ['gold'],
    hash: stored.hash,
    prefix: stored.prefix,
  });
});

test('consumer is required and immutable; expires is a date-time', () => {
  assert.deepEqual(describe(admitCreate(apiKeyKind, apiKey({ expires: 'tomorrow' })).errors), [
    'spec.consumer: Required value',
    'spec.expires: Invalid value: "tomorrow": spec.expires in body must be of type date-time: "tomorrow"',
    NOT_CHECKED,
  ]);
  const created = admitCreate(apiKeyKind, apiKey({ consumer: 'billing' }));
  assert.deepEqual(describe(admitUpdate(apiKeyKind, apiKey({ consumer: 'other' }), created.obj).errors), [
    'spec.consumer: Invalid value: "other": field is immutable',
  ]);
  assert.deepEqual(describe(admitCreate(apiKeyKind, apiKey({ consumer: 'billing', policies: ['a', 'a'] })).errors), [
    'spec.policies[1]: Duplicate value: "a"',
  ]);
});

test('printer columns show the consumer and prefix, never the hash', () => {
  const { obj } = admitCreate(apiKeyKind, apiKey({ consumer: 'billing', expires: '2030-01-01T00:00:00Z' }));
  const cells = apiKeyKind.printerColumns.map((c) => c.cell(obj));
  assert.deepEqual(cells.slice(0, 3), ['billing', (obj.spec as ApiKeySpec).prefix, '2030-01-01T00:00:00Z']);
  assert.equal(cells.includes((obj.spec as ApiKeySpec).hash), false);
});
