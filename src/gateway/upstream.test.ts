import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { Upstream } from '../api/kinds/api-definition/index.ts';
import { eventually } from '../../test/support/eventually.ts';
import { recordClaims, type Claims } from './carried.ts';
import { TargetSet, Upstreams, type Target } from './upstream.ts';

const upstream = (targets: Upstream['targets'], more: Partial<Upstream> = {}): Upstream => ({
  targets,
  timeout: '30s',
  connectTimeout: '5s',
  retries: 0,
  ...more,
});
const breaker = { consecutiveFailures: 1, openDuration: '1m', halfOpenRequests: 1 };

/** How often each target URL is picked in `n` picks. */
function tally(set: TargetSet, n: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const url = set.pick()?.url ?? 'none';
    counts[url] = (counts[url] ?? 0) + 1;
  }
  return counts;
}

/** An origin nothing listens on: its health checks fail at once. */
async function closedOrigin(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

test('picks by weight, leaves weight 0 out, and retries in order from the previous target', async () => {
  const upstreams = new Upstreams();
  try {
    const set = new TargetSet(
      'ns/a',
      upstream([
        { url: 'http://a.test', weight: 1 },
        { url: 'http://b.test/base/', weight: 3 },
        { url: 'http://c.test', weight: 0 },
      ]),
      upstreams,
    );
    assert.equal(set.size, 2);
    const counts = tally(set, 4000);
    assert.deepEqual(Object.keys(counts).sort(), ['http://a.test', 'http://b.test/base/']);
    assert.ok(
      counts['http://b.test/base/'] > 2700 && counts['http://b.test/base/'] < 3300,
      `b got ${counts['http://b.test/base/']} of 4000 at weight 3 of 4`,
    );
    const first = set.pick()!;
    const second = set.pick(first)!;
    assert.notEqual(second.url, first.url);
    assert.equal(set.pick(second)!.url, first.url, 'retries go round');
    const b = [first, second].find((t) => t.url === 'http://b.test/base/')!;
    assert.deepEqual([b.basePath, b.host, b.weight], ['/base', 'b.test', 3]);
  } finally {
    await upstreams.close();
  }
});

test('skips targets whose circuit is open and finds none when every circuit is open', async () => {
  const upstreams = new Upstreams();
  try {
    const set = new TargetSet(
      'ns/a',
      upstream([{ url: 'http://a.test' }, { url: 'http://b.test' }], { circuitBreaker: breaker }),
      upstreams,
    );
    const open = (t: Target) => t.breaker!.failed(t.breaker!.acquire());
    const a = set.pick()!;
    open(a);
    assert.deepEqual(Object.keys(tally(set, 50)), [a.url === 'http://a.test' ? 'http://b.test' : 'http://a.test']);
    const b = set.pick()!;
    assert.equal(set.pick(b), b, 'a retry finds the only target left');
    open(b);
    assert.equal(set.pick(), undefined);
    assert.deepEqual(
      set.health().map((h) => h.circuit),
      ['open', 'open'],
    );
  } finally {
    await upstreams.close();
  }
});

test('skips unhealthy targets, and sends to all of them when all are unhealthy (fails open)', async () => {
  const upstreams = new Upstreams();
  const server = createServer((_req, res) => res.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const healthy = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const [sick1, sick2] = [await closedOrigin(), await closedOrigin()];
  const healthCheck = { path: '/', interval: '50ms', timeout: '1s', healthyThreshold: 1, unhealthyThreshold: 1 };
  try {
    const mixed = new TargetSet('ns/a', upstream([{ url: healthy }, { url: sick1 }], { healthCheck }), upstreams);
    await eventually(() =>
      assert.deepEqual(
        mixed.health().map((h) => h.healthy),
        [true, false],
      ),
    );
    assert.deepEqual(Object.keys(tally(mixed, 50)), [healthy]);
    const allSick = new TargetSet('ns/b', upstream([{ url: sick1 }, { url: sick2 }], { healthCheck }), upstreams);
    await eventually(() =>
      assert.deepEqual(
        allSick.health().map((h) => h.healthy),
        [false, false],
      ),
    );
    assert.deepEqual(Object.keys(tally(allSick, 100)).sort(), [sick1, sick2].sort());
  } finally {
    await upstreams.close();
    server.close();
  }
});

test('carries pools, checkers and breakers over compiles by key, and lets go of what a compile no longer asks for', async () => {
  const upstreams = new Upstreams();
  const server = createServer((_req, res) => res.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let probes = 0;
  server.on('request', () => probes++);
  const spec = upstream([{ url: origin }], {
    circuitBreaker: breaker,
    healthCheck: { path: '/', interval: '50ms', timeout: '1s', healthyThreshold: 1, unhealthyThreshold: 1 },
  });
  // Each compile is one part of a config replacing the last one: it acquires, then the part it replaces is released.
  let held: Claims | undefined;
  const compile = (id: string) => {
    const { value: set, claims } = recordClaims(() => new TargetSet(id, spec, upstreams));
    claims.acquire();
    held?.release();
    held = claims;
    return set.pick()!;
  };
  try {
    const first = compile('ns/a');
    const again = compile('ns/a');
    assert.equal(again.pool, first.pool);
    assert.equal(again.health, first.health);
    assert.equal(again.breaker, first.breaker);
    const other = compile('ns/b');
    assert.equal(other.health, first.health, 'the same check of the same origin is shared across APIs');
    assert.notEqual(other.breaker, first.breaker, 'breakers belong to one API');
    held!.release();
    assert.equal(first.pool.closed, true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const seen = probes;
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(probes, seen, 'a swept checker stops probing');
  } finally {
    await upstreams.close();
    server.close();
  }
});
