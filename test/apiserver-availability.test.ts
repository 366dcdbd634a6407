// What keeps the API server safe behind kube-apiserver's aggregator: readiness follows its PostgreSQL
// (out of the Service while the database is unreachable, back in without a restart, never killed for it by
// a liveness probe), and no request but a watch outlasts kube's --request-timeout.
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { eventually } from './support/eventually.ts';
import { startPostgres, type TestPostgres } from './support/postgres.ts';

const api = (name: string) => ({
  apiVersion: 'gatehouse.dev/v1alpha1',
  kind: 'ApiDefinition',
  metadata: { name },
  spec: { listenPath: `/${name}`, upstream: { targets: [{ url: 'http://127.0.0.1:9' }] } },
});

describe('the API server while its PostgreSQL is down', () => {
  let postgres: TestPostgres;
  let server: TestApiServer;
  before(async () => {
    postgres = await startPostgres();
    server = await startTestApiServer(await postgres.newDatabase());
  });
  after(async () => {
    await server.stop();
    await postgres.stop();
  });

  const create = (name: string) =>
    server.request('/apis/gatehouse.dev/v1alpha1/namespaces/default/apidefinitions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(api(name)),
    });

  test('/readyz fails naming storage and /livez stays ok; both ok once it is back, without a restart', async () => {
    assert.equal((await create('before')).status, 201);
    assert.equal((await server.request('/readyz', {}, null)).status, 200);
    await postgres.kill();
    const ready = await server.request('/readyz', {}, null);
    assert.equal(ready.status, 500);
    assert.match(await ready.text(), /^\[-\]storage failed: /m);
    // A restart would not bring the database back: the liveness probe must not restart the replica for it.
    const live = await server.request('/livez?verbose', {}, null);
    assert.equal(live.status, 200, await live.text());
    await postgres.restart();
    await eventually(async () => assert.equal((await server.request('/readyz', {}, null)).status, 200), {
      attempts: 300,
      intervalMs: 100,
    });
    assert.equal((await create('after')).status, 201);
    const list = await server.request('/apis/gatehouse.dev/v1alpha1/namespaces/default/apidefinitions');
    const names = ((await list.json()) as { items: Array<{ metadata: { name: string } }> }).items.map(
      (i) => i.metadata.name,
    );
    assert.deepEqual(names.sort(), ['after', 'before']);
  });
});

describe('request timeout', () => {
  let server: TestApiServer;
  before(async () => {
    server = await startTestApiServer();
  });
  after(() => server.stop());

  test('a request still waiting at its timeout is answered with kube’s 504 Timeout Status', async () => {
    const apis = '/apis/gatehouse.dev/v1alpha1/namespaces/default/apidefinitions';
    const created = await server.request(apis, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(api('shop')),
    });
    assert.equal(created.status, 201);
    // No gateway runs: the probe would wait 10 s for one to take it; the request's own timeout comes first.
    const res = await server.request(`${apis}/shop/probe?timeout=1s`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(res.status, 504);
    assert.deepEqual(await res.json(), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Timeout: request did not complete within requested timeout - context deadline exceeded',
      reason: 'Timeout',
      details: {},
      code: 504,
    });
    // The connection still serves requests after the late answer was dropped.
    assert.equal((await server.request(`${apis}/shop`)).status, 200);
  });

  test('a timeout that is not a duration is a 400 naming it', async () => {
    const res = await server.request('/apis/gatehouse.dev/v1alpha1/namespaces/default/apidefinitions?timeout=soon');
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { message: string }).message, 'invalid timeout specified in the request URL');
  });
});
