import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { routeOutcomes, type ListenerRoute } from './api-outcome.ts';
import { Router } from './router.ts';

const route = (
  id: string,
  listenPath: string,
  { hosts = [] as string[], internalOnly = false } = {},
): ListenerRoute<{ id: string }> => ({ hosts, listenPath, value: { id }, internalOnly });

/** Outcomes of routes given oldest first, as compileConfig orders them. */
function outcomes(routes: ListenerRoute<{ id: string }>[]) {
  return routeOutcomes(routes, new Router(routes.filter((r) => !r.internalOnly)), new Router(routes));
}

describe('routeOutcomes', () => {
  it('names the listeners a route is served on, and its hosts', () => {
    const found = outcomes([
      route('ns/shop', '/shop', { hosts: ['shop.example.com', '*.shop.dev'] }),
      route('ns/admin', '/admin', { internalOnly: true }),
    ]);
    assert.deepEqual(found.get('ns/shop'), {
      reason: 'Served',
      listeners: ['public', 'internal'],
      message: 'served on the public and internal listeners at /shop (hosts shop.example.com, *.shop.dev)',
    });
    assert.deepEqual(found.get('ns/admin'), {
      reason: 'Served',
      listeners: ['internal'],
      message: 'served on the internal listener at /admin',
    });
  });

  it('reports a route that lost everywhere as Shadowed, naming the API that holds its path', () => {
    const found = outcomes([
      route('ns/old', '/a', { hosts: ['*.example.com'] }),
      route('ns/new', '/a/', { hosts: ['*.example.com'] }),
      route('ns/other-host', '/a', { hosts: ['b.example.org'] }),
    ]);
    assert.deepEqual(found.get('ns/new'), {
      reason: 'Shadowed',
      listeners: [],
      message: 'not routed: ns/old, an older API, already serves /a/ on the same host',
    });
    assert.equal(found.get('ns/other-host')?.reason, 'Served');
  });

  it('keeps a route served where it won: an older internal API takes only the internal listener', () => {
    const found = outcomes([route('ns/internal', '/a', { internalOnly: true }), route('ns/public', '/a')]);
    assert.deepEqual(found.get('ns/public'), {
      reason: 'Served',
      listeners: ['public'],
      message:
        'served on the public listener at /a; on the internal listener ns/internal, an older API, already serves /a on the same host',
    });
  });

  it('serves a route that lost only one of its hosts', () => {
    const found = outcomes([
      route('ns/old', '/a', { hosts: ['a.example.com'] }),
      route('ns/new', '/a', { hosts: ['a.example.com', 'b.example.com'] }),
    ]);
    assert.equal(found.get('ns/new')?.reason, 'Served');
  });
});
