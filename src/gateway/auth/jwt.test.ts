import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { SignJWT, UnsecuredJWT } from 'jose';
import type { Refusal } from '../errors.ts';
import { RemoteKeySets } from './jwks.ts';
import { bearerToken, jwtStep } from './jwt.ts';
import { apiDefinition, consumer, directory, policy, requestContext as request } from './testing.ts';

const secret = randomBytes(32);
const api = apiDefinition({
  type: 'jwt',
  jwt: {
    issuer: 'https://idp.test',
    audiences: ['orders', 'other'],
    jwks: { keys: [{ kty: 'oct', k: secret.toString('base64url') }] },
    consumerClaim: 'sub',
  },
});
const consumers = directory(
  [consumer('acme', ['orders'], ['user-1'])],
  [policy('orders', { apis: [{ name: 'orders' }] })],
);

const seconds = () => Math.floor(Date.now() / 1000);
function token(claims: Record<string, unknown> = {}, key: Uint8Array = secret): Promise<string> {
  return new SignJWT({ iss: 'https://idp.test', aud: 'orders', sub: 'user-1', exp: seconds() + 600, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(key);
}

test('verifies a token once, then admits it without waiting until its exp or a minute has passed', async () => {
  let now = Date.now();
  const step = jwtStep(api, { apiId: 'shop/orders', consumers, keySets: new RemoteKeySets(), now: () => now });
  const lasting = `Bearer ${await token()}`;
  const first = request(lasting);
  const waited = step(first);
  assert.ok(waited instanceof Promise, 'a token not seen before is verified asynchronously');
  assert.equal(await waited, undefined);
  assert.equal(first.consumer?.consumer, 'acme');
  const again = request(lasting);
  assert.equal(step(again), undefined, 'a verified token is admitted synchronously');
  assert.equal(again.consumer?.consumer, 'acme');
  now += 61_000;
  assert.ok(step(request(lasting)) instanceof Promise, 'remembered for a minute at most');

  const short = `Bearer ${await token({ exp: Math.floor(now / 1000) + 5 })}`;
  assert.equal(await step(request(short)), undefined);
  assert.equal(step(request(short)), undefined);
  now += 6_000;
  assert.ok(step(request(short)) instanceof Promise, 'never remembered past exp');
});

test('refuses bad tokens with an RFC 6750 challenge describing the failure', async () => {
  const step = jwtStep(api, { apiId: 'shop/orders', consumers, keySets: new RemoteKeySets(), now: Date.now });
  const refusal = async (authorization?: string) => (await step(request(authorization))) as Refusal;
  assert.deepEqual(await refusal(), {
    code: 'CREDENTIALS_MISSING',
    message: 'a bearer token is required in the Authorization header',
    headers: { 'www-authenticate': 'Bearer realm="shop/orders"' },
  });
  assert.equal(
    (await refusal(`Basic ${Buffer.from('a:b').toString('base64')}`)).code,
    'CREDENTIALS_MISSING',
    'another scheme carries no bearer token',
  );
  const cases: Array<[string, string]> = [
    [await token({ iss: 'https://evil.test' }), 'the iss claim is not accepted'],
    [await token({ aud: ['billing'] }), 'the aud claim is not accepted'],
    [await token({ exp: seconds() - 120 }), 'the token has expired'],
    [await token({ nbf: seconds() + 120 }), 'the token is not valid yet'],
    [await token({ exp: undefined }), 'the exp claim is missing'],
    [await token({ sub: undefined }), 'the sub claim is missing or not a string'],
    [await token({}, randomBytes(32)), 'the signature is invalid'],
    [new UnsecuredJWT({ sub: 'user-1' }).encode(), 'the alg of the token is not accepted'],
    ['not-a-jwt', 'the token is malformed'],
  ];
  for (const [jwt, description] of cases) {
    const refused = await refusal(`Bearer ${jwt}`);
    assert.equal(refused.code, 'CREDENTIALS_INVALID', description);
    assert.equal(refused.message, description);
    assert.equal(
      refused.headers?.['www-authenticate'],
      `Bearer realm="shop/orders", error="invalid_token", error_description="${description}"`,
    );
  }
  assert.equal(
    await step(request(`Bearer ${await token({ exp: seconds() - 10, aud: ['x', 'other'] })}`)),
    undefined,
    'within the clock tolerance, any listed audience',
  );
});

test('refuses a verified token that names no Consumer with 403', async () => {
  const step = jwtStep(api, { apiId: 'shop/orders', consumers, keySets: new RemoteKeySets(), now: Date.now });
  assert.deepEqual(await step(request(`Bearer ${await token({ sub: 'stranger' })}`)), {
    code: 'ACCESS_FORBIDDEN',
    message: 'no Consumer in namespace shop lists sub "stranger" in spec.jwtSubjects or is named so',
  });
});

test('takes the consumer from the claim spec.auth.jwt.consumerClaim names', async () => {
  const byClient = apiDefinition({ type: 'jwt', jwt: { jwks: api.spec.auth.jwt!.jwks, consumerClaim: 'client_id' } });
  const step = jwtStep(byClient, { apiId: 'shop/orders', consumers, keySets: new RemoteKeySets(), now: Date.now });
  const ctx = request(`Bearer ${await token({ sub: 'someone', client_id: 'user-1' })}`);
  assert.equal(await step(ctx), undefined);
  assert.equal(ctx.consumer?.consumer, 'acme');
  assert.equal(
    ((await step(request(`Bearer ${await token()}`))) as Refusal).message,
    'the client_id claim is missing or not a string',
  );
});

test('reads the token of a Bearer Authorization header', () => {
  assert.equal(bearerToken('Bearer abc.def.ghi'), 'abc.def.ghi');
  assert.equal(bearerToken('bearer   abc '), 'abc');
  assert.equal(bearerToken('Bearer '), undefined);
  assert.equal(bearerToken('Basic abc'), undefined);
  assert.equal(bearerToken(undefined), undefined);
});
