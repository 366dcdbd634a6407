import assert from 'node:assert/strict';
import { test } from 'node:test';
import bcrypt from 'bcryptjs';
import type { Secret } from '../../api/core/secret/index.ts';
import type { ApiDefinition } from '../../api/kinds/api-definition/index.ts';
import { hashApiKey } from '../../api/kinds/api-key/index.ts';
import type { Refusal } from '../errors.ts';
import { compileKeys } from '../keys.ts';
import { basicAuthSecrets, basicCredentials, basicStep, bcryptUsers } from './basic.ts';
import { apiDefinition, apiKey, consumer, directory, policy, requestContext as request } from './testing.ts';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const hash = bcrypt.hashSync('s3cret', 4);
const secret = (name: string, data: Record<string, string>, namespace = 'shop'): Secret => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: {
    name,
    namespace,
    uid: `uid-${name}`,
    resourceVersion: '7',
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"stringData":{"alice":"s3cret"}}' },
    labels: { team: 'a' },
  },
  type: 'Opaque',
  data,
});

test('reads user and password from a Basic Authorization header', () => {
  assert.deepEqual(
    basicCredentials(`Basic ${b64('alice:pa:ss wörd')}`),
    { user: 'alice', password: 'pa:ss wörd' },
    'the password may hold ":" and UTF-8',
  );
  assert.deepEqual(
    basicCredentials(`basic  ${b64('bob:')}`),
    { user: 'bob', password: '' },
    'the scheme is case-insensitive',
  );
  assert.equal(basicCredentials(undefined), undefined);
  assert.equal(basicCredentials(`Bearer ${b64('alice:x')}`), undefined);
  assert.equal(basicCredentials(`Basic ${b64('no-colon')}`), undefined);
  assert.equal(basicCredentials(`Basic ${b64(':no-user')}`), undefined);
  assert.equal(basicCredentials('Basic not*base64'), undefined);
});

test('takes bcrypt hashes ($2a$, $2b$, $2y$) from a Secret, ignoring surrounding whitespace', () => {
  const users = bcryptUsers(
    secret('users', {
      alice: b64(hash),
      bob: b64(`${hash.replace('$2b$', '$2y$')}\n`),
      carol: b64(hash.replace('$2b$', '$2a$')),
    }),
    'shop/users',
  );
  assert.deepEqual([...users.keys()], ['alice', 'bob', 'carol']);
  assert.ok(bcrypt.compareSync('s3cret', users.get('bob')!), 'an htpasswd -B ($2y$) hash verifies');
});

test('refuses a Secret holding anything but bcrypt hashes, naming the Secret and key but not the value', () => {
  assert.throws(
    () => bcryptUsers(secret('users', { alice: b64(hash), bob: b64('s3cret') }), 'shop/users'),
    (err: Error) => {
      assert.match(err.message, /^Secret shop\/users key bob is not a bcrypt hash/);
      assert.ok(!err.message.includes('s3cret'));
      return true;
    },
  );
  assert.throws(
    () => bcryptUsers(secret('users', { alice: b64(`alice:${hash}`) }), 'shop/users'),
    /key alice is not a bcrypt hash/,
    'an htpasswd line is not a hash',
  );
  assert.throws(
    () => bcryptUsers(undefined, 'shop/users'),
    /^Error: Secret shop\/users named in spec\.auth\.basic\.secretRef does not exist/,
  );
});

test('keeps only the Secrets basic-auth APIs refer to, without metadata beyond identity and without plaintext', () => {
  const apis = [
    apiDefinition({ type: 'basic', basic: { secretRef: { name: 'users' } } }, 'a'),
    apiDefinition({ type: 'basic' }, 'b'),
    apiDefinition({ type: 'apiKey', basic: { secretRef: { name: 'git' } } }, 'c'),
    apiDefinition({ type: 'basic', basic: { secretRef: { name: 'users' } } }, 'd', 'other'),
  ];
  const kept = basicAuthSecrets(apis, [
    secret('users', { alice: b64(hash), bob: b64('plain') }),
    secret('git', { password: b64('x') }),
    secret('users', { eve: b64(hash) }, 'third'),
  ]);
  assert.deepEqual(kept, [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'users', namespace: 'shop', uid: 'uid-users', resourceVersion: '7' },
      type: 'Opaque',
      data: { alice: b64(hash), bob: '' },
    },
  ]);
  assert.throws(
    () => bcryptUsers(kept[0], 'shop/users'),
    /key bob is not a bcrypt hash/,
    'an emptied value is still refused',
  );
});

test('checks a password with bcrypt once, then admits it without waiting; a wrong one is checked every time', async () => {
  const { step } = basicFixture({ type: 'basic', basic: { secretRef: { name: 'users' } } });
  const right = `Basic ${b64('alice:s3cret')}`;
  const waited = step(request(right));
  assert.ok(waited instanceof Promise);
  assert.equal(await waited, undefined);
  const again = request(right);
  assert.equal(step(again), undefined, 'a checked password is admitted synchronously');
  assert.equal(again.consumer?.consumer, 'alice');
  const wrong = `Basic ${b64('alice:guess')}`;
  for (let i = 0; i < 2; i++) {
    const refused = step(request(wrong));
    assert.ok(refused instanceof Promise, 'failures are never remembered');
    assert.deepEqual(await refused, {
      code: 'CREDENTIALS_INVALID',
      message: 'the user name or password is wrong',
      headers: { 'www-authenticate': 'Basic realm="shop/orders", charset="UTF-8"' },
    });
  }
  assert.equal(
    (step(request(`Basic ${b64('mallory:s3cret')}`)) as Refusal).code,
    'CREDENTIALS_INVALID',
    'an unknown user is refused at once',
  );
  assert.equal((step(request()) as Refusal).code, 'CREDENTIALS_MISSING');
  assert.deepEqual(await step(request(`Basic ${b64('bob:s3cret')}`)), {
    code: 'ACCESS_FORBIDDEN',
    message: 'no Consumer named bob in namespace shop',
  });
});

test('without a Secret, takes the user name as a Consumer and the password as one of its API keys', () => {
  const { step } = basicFixture({ type: 'basic' });
  const admitted = request(`Basic ${b64('alice:gh_alice')}`);
  assert.equal(step(admitted), undefined);
  assert.equal(admitted.consumer?.consumer, 'alice');
  assert.equal(
    (step(request(`Basic ${b64('carol:gh_alice')}`)) as Refusal).code,
    'CREDENTIALS_INVALID',
    "another consumer's key",
  );
  assert.equal((step(request(`Basic ${b64('alice:gh_nope')}`)) as Refusal).code, 'CREDENTIALS_INVALID');
});

function basicFixture(auth: ApiDefinition['spec']['auth']) {
  const consumers = directory(
    [consumer('alice', ['orders']), consumer('carol', ['orders'])],
    [policy('orders', { apis: [{ name: 'orders' }] })],
  );
  const keys = compileKeys([apiKey('alice-1', { consumer: 'alice', hash: hashApiKey('gh_alice') })], consumers);
  const secrets = new Map([['shop/users', secret('users', { alice: b64(hash), bob: b64(hash) })]]);
  return { step: basicStep(apiDefinition(auth), { apiId: 'shop/orders', consumers, keys, secrets, now: Date.now }) };
}
