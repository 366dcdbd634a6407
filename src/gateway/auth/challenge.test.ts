import assert from 'node:assert/strict';
import { test } from 'node:test';
import { challenge } from './challenge.ts';

test('renders auth-params as quoted strings', () => {
  assert.equal(challenge('Bearer', { realm: 'shop/orders' }), 'Bearer realm="shop/orders"');
  assert.equal(
    challenge('Bearer', { realm: 'a/b', error: 'invalid_token', error_description: 'the token has expired' }),
    'Bearer realm="a/b", error="invalid_token", error_description="the token has expired"',
  );
});

test('replaces characters RFC 6750 does not allow in a value, so the header stays well-formed', () => {
  assert.equal(
    challenge('Bearer', { error_description: 'unexpected "iss" claim\\value\r\nX: é' }),
    'Bearer error_description="unexpected ?iss? claim?value??X: ?"',
  );
});
