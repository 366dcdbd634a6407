import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { eventually } from '../../test/support/eventually.ts';
import { HealthChecker } from './health.ts';

test('goes unhealthy after unhealthyThreshold failures and back after healthyThreshold successes; timeouts fail; stop stops', async () => {
  let status = 200;
  let hang = false;
  const probes: string[] = [];
  const server = createServer((req, res) => {
    probes.push(`${req.method} ${req.url} ${req.headers.connection}`);
    if (hang) return;
    res.writeHead(status).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const changes: boolean[] = [];
  const checker = new HealthChecker(
    `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    { path: '/healthz', intervalMs: 30, timeoutMs: 200, healthyThreshold: 2, unhealthyThreshold: 3 },
    (h) => changes.push(h),
  );
  try {
    assert.equal(checker.healthy, true, 'healthy until proven otherwise');
    await eventually(() => assert.ok(probes.length >= 2, 'probed twice'));
    assert.equal(probes[0], 'GET /healthz close', 'each probe uses a fresh connection');
    status = 301;
    await eventually(() => assert.ok(probes.length >= 5, 'probed five times'));
    assert.equal(checker.healthy, true, '3xx is healthy');

    status = 503;
    await eventually(() => assert.equal(checker.healthy, false));
    status = 200;
    await eventually(() => assert.equal(checker.healthy, true));
    hang = true;
    await eventually(() => assert.equal(checker.healthy, false), { attempts: 60 });
    assert.deepEqual(changes, [false, true, false]);
  } finally {
    checker.stop();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const seen = probes.length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(probes.length, seen, 'no probes after stop()');
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('a refused connection is a failure', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const checker = new HealthChecker(origin, {
    path: '/',
    intervalMs: 20,
    timeoutMs: 200,
    healthyThreshold: 1,
    unhealthyThreshold: 2,
  });
  try {
    await eventually(() => assert.equal(checker.healthy, false));
  } finally {
    checker.stop();
  }
});
