import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileKeys } from '../keys.ts';
import { admit } from './consumers.ts';
import { apiKey, consumer, directory, policy, requestContext } from './testing.ts';

const policies = [
  policy('read-orders', {
    apis: [{ name: 'orders', methods: ['get'], paths: ['/orders'] }],
    rateLimit: { requests: 5, per: '1m' },
  }),
  policy('all-users', { apis: [{ name: 'users' }, { name: 'orders', namespace: 'other' }] }),
];

test('finds a consumer by JWT subject first, then by name, within its namespace', () => {
  const found = directory(
    [consumer('acme', ['read-orders'], ['auth0|42']), consumer('auth0|42', []), consumer('beta', [])],
    policies,
  );
  assert.equal(found.bySubject('shop', 'auth0|42')?.consumer, 'acme', 'jwtSubjects win over a name');
  assert.equal(found.bySubject('shop', 'beta')?.consumer, 'beta');
  assert.equal(found.bySubject('other', 'beta'), undefined);
  assert.equal(found.byName('shop', 'acme')?.namespace, 'shop');
  assert.deepEqual(found.problems, []);
});

test('a subject listed by two consumers goes to the first by name, and is reported', () => {
  const found = directory([consumer('zed', [], ['s']), consumer('amy', [], ['s'])], policies);
  assert.equal(found.bySubject('shop', 's')?.consumer, 'amy');
  assert.deepEqual(found.problems, ['Consumers shop/amy and shop/zed both list "s" in spec.jwtSubjects; amy is used']);
});

test('grants add up per API and admit only granted methods and paths', () => {
  const found = directory([consumer('acme', ['read-orders', 'all-users', 'missing'])], policies);
  const acme = found.byName('shop', 'acme')!;
  assert.deepEqual([...acme.grants.keys()].sort(), ['other/orders', 'shop/orders', 'shop/users']);
  const ctx = (method: string, rest: string) => requestContext(undefined, method, rest);
  const granted = ctx('GET', '/orders/7');
  assert.equal(admit(granted, acme, 'shop/orders'), undefined);
  assert.equal(granted.consumer, acme, 'the admitted consumer is recorded');
  const deleting = ctx('DELETE', '/orders/7');
  assert.deepEqual(admit(deleting, acme, 'shop/orders'), {
    code: 'ACCESS_FORBIDDEN',
    message: 'consumer acme may not DELETE /orders/7',
  });
  assert.equal(deleting.consumer, undefined);
  assert.equal(admit(ctx('GET', '/users/x'), acme, 'shop/orders')?.code, 'ACCESS_FORBIDDEN');
  assert.equal(admit(ctx('PATCH', '/any'), acme, 'shop/users'), undefined);
  assert.equal(admit(ctx('GET', '/'), acme, 'shop/payments')?.code, 'ACCESS_FORBIDDEN');
});

test('policy paths are path-segment prefixes of the path below listenPath, as Gateway API PathPrefix', () => {
  const granting = (paths: string[]) => {
    const rights = [policy('p', { apis: [{ name: 'orders', paths }] })];
    return directory([consumer('acme', ['p'])], rights).byName('shop', 'acme')!;
  };
  const admits = (paths: string[], rest: string) =>
    admit(requestContext(undefined, 'GET', rest), granting(paths), 'shop/orders') === undefined;
  for (const rest of ['/public', '/public/', '/public/x/y', '//public//x']) assert.ok(admits(['/public'], rest), rest);
  for (const rest of ['/public-admin', '/publicx', '/', '/x/public']) assert.ok(!admits(['/public'], rest), rest);
  assert.ok(admits(['/public/'], '/public'), 'a trailing "/" is ignored');
  assert.ok(admits(['/a/b'], '/a/b/c') && !admits(['/a/b'], '/a/bc') && !admits(['/a/b'], '/a'));
  assert.ok(admits(['/'], '/anything'), '"/" admits every path');
  // Segments below the listenPath: the router took the first `depth` of them.
  const below = { ...requestContext(undefined, 'GET', '/public-admin'), segments: ['api', 'public-admin'], depth: 1 };
  assert.equal(admit(below, granting(['/public']), 'shop/orders')?.code, 'ACCESS_FORBIDDEN');
  assert.equal(admit({ ...below, segments: ['api', 'public', 'x'] }, granting(['/public']), 'shop/orders'), undefined);
});

test('every credential of a consumer shares its per-policy limiter; a key may carry its own policies', () => {
  const found = directory([consumer('acme', ['read-orders'])], policies);
  const key = (name: string, spec: Omit<Parameters<typeof apiKey>[1], 'hash'>) =>
    apiKey(name, { hash: `h-${name}`, ...spec });
  const keys = compileKeys(
    [
      key('k1', {}),
      key('k2', { policies: ['read-orders'] }),
      key('k3', { policies: ['all-users'] }),
      key('k4', { consumer: 'nobody' }),
    ],
    found,
  );
  const limiterOf = (hash: string) => keys.get(hash)!.grants.get('shop/orders')!.limiters[0];
  assert.ok(limiterOf('h-k1'), 'the policy rate limit applies');
  assert.equal(limiterOf('h-k1'), found.byName('shop', 'acme')!.grants.get('shop/orders')!.limiters[0]);
  assert.equal(limiterOf('h-k2'), limiterOf('h-k1'));
  assert.deepEqual([...keys.get('h-k3')!.grants.keys()].sort(), ['other/orders', 'shop/users']);
  assert.equal(keys.has('h-k4'), false, 'a key of an unknown consumer authenticates nobody');
});
