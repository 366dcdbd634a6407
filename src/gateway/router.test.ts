import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Router, type Route } from './router.ts';

const seg = (p: string) => p.split('/').filter(Boolean);
const route = (value: string, listenPath: string, hosts: string[] = []): Route<string> => ({
  value,
  listenPath,
  hosts,
});

test('longest listenPath prefix wins, on segment boundaries only', () => {
  const r = new Router([route('root', '/'), route('v1', '/v1'), route('users', '/v1/users/')]);
  assert.deepEqual(r.match('x', seg('/v1/users/42')), { value: 'users', depth: 2 });
  assert.deepEqual(r.match('x', seg('/v1/usersX')), { value: 'v1', depth: 1 });
  assert.deepEqual(r.match('x', seg('/other')), { value: 'root', depth: 0 });
});

test('exact host, then the most specific wildcard, then any host', () => {
  const r = new Router([
    route('exact', '/a', ['api.example.com']),
    route('wild', '/a', ['*.example.com']),
    route('deep', '/a', ['*.eu.example.com']),
    route('any', '/'),
  ]);
  assert.equal(r.match('API.example.com:8443', seg('/a'))?.value, 'exact');
  assert.equal(r.match('shop.example.com', seg('/a/b'))?.value, 'wild');
  assert.equal(r.match('x.eu.example.com', seg('/a'))?.value, 'deep');
  assert.equal(r.match('example.com', seg('/a'))?.value, 'any', 'a wildcard needs at least one more label');
  assert.equal(r.match('api.example.com', seg('/b'))?.value, 'any', 'a host without a matching path falls through');
  assert.equal(r.match(undefined, seg('/a'))?.value, 'any');
});

test('the first of two identical routes wins and the other is reported', () => {
  const r = new Router([route('first', '/same'), route('second', '/same/')]);
  assert.equal(r.match('h', seg('/same'))?.value, 'first');
  assert.deepEqual(
    r.shadowed.map((s) => s.value),
    ['second'],
  );
  assert.equal(new Router<string>([]).match('h', []), undefined);
});

test('replace gives routes new values in place, shadowed ones too', () => {
  const routes = [
    route('exact', '/a/b', ['api.example.com']),
    route('wild', '/a', ['*.example.com']),
    route('any', '/a/b'),
    route('lost', '/a/b/'),
  ];
  const after = new Router(routes);
  after.replace([
    [routes[0], route('exact2', '/a/b', ['api.example.com'])],
    [routes[1], route('wild2', '/a', ['*.example.com'])],
    [routes[2], route('any2', '/a/b')],
    [routes[3], route('lost2', '/a/b/')],
  ]);
  assert.equal(after.match('api.example.com', seg('/a/b/c'))?.value, 'exact2');
  assert.equal(after.match('shop.example.com', seg('/a'))?.value, 'wild2');
  assert.equal(after.match('other.org', seg('/a/b'))?.value, 'any2');
  assert.deepEqual(
    after.shadowed.map((s) => s.value),
    ['lost2'],
    'a shadowed route stays shadowed, as its new version',
  );
});
