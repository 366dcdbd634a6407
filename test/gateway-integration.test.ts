// The gateway end to end: a real API server, the gateway watching it, loopback upstreams.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { KubeObject } from '../src/api/kind.ts';
import { apiDefinitionKind } from '../src/api/kinds/api-definition/index.ts';
import { apiKeyKind } from '../src/api/kinds/api-key/index.ts';
import { consumerKind } from '../src/api/kinds/consumer/index.ts';
import { securityPolicyKind } from '../src/api/kinds/security-policy/index.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { KubeClient } from '../src/client/rest.ts';
import { startGateway, type Gateway } from '../src/gateway/server.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { eventually } from './support/eventually.ts';
import { storageSpec, TEST_STORAGES, type TestStorage } from './support/storages.ts';
import {
  apiDefinition,
  call,
  closedPortUrl,
  startUpstream,
  type Answer,
  type Echo,
  type Upstream,
} from './support/gateway.ts';

/** The gateway's log lines, parsed. */
const logLines: Array<Record<string, unknown>> = [];
const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line)) });

const scenarios = (storage: TestStorage) => () => {
  let t: TestApiServer;
  let client: KubeClient;
  let gw: Gateway;
  let a: Upstream;
  let b: Upstream;

  /** Creates `obj` and waits until the gateway serves a config that contains it. */
  async function apply(obj: KubeObject): Promise<KubeObject> {
    const ref = {
      ApiDefinition: apiDefinitionKind,
      ApiKey: apiKeyKind,
      Consumer: consumerKind,
      SecurityPolicy: securityPolicyKind,
    }[obj.kind]!;
    const created = await client.create(ref, obj);
    const list = { ApiDefinition: 'apis', ApiKey: 'apiKeys', Consumer: 'consumers', SecurityPolicy: 'policies' }[
      obj.kind
    ] as 'apis';
    await eventually(() =>
      assert.ok(
        gw.config().inputs[list].some((o) => o.metadata.uid === created.metadata.uid),
        `${obj.kind} ${obj.metadata.name} is in the gateway config`,
      ),
    );
    return created;
  }

  before(async () => {
    logLines.length = 0;
    t = await startTestApiServer(await storageSpec(storage));
    client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    [a, b] = await Promise.all([startUpstream('a'), startUpstream('b')]);
    gw = await startGateway({ kubeconfig: t.kubeconfigPath, port: 0, dataDir: t.dir, logger });
  });
  after(async () => {
    await gw.close();
    await Promise.all([a.close(), b.close()]);
    await client.close();
    await t.stop();
  });

  it('routes by host (exact, then wildcard, then any) and longest listenPath, stripping when asked', async () => {
    await apply(apiDefinition('shop', { listenPath: '/shop', upstream: { targets: [{ url: `${a.url}/base/` }] } }));
    await apply(
      apiDefinition('shop-cart', {
        listenPath: '/shop/cart',
        stripListenPath: true,
        upstream: { targets: [{ url: b.url }] },
      }),
    );
    await apply(
      apiDefinition('eu', {
        listenPath: '/shop',
        hosts: ['*.eu.example.com'],
        upstream: { targets: [{ url: b.url }] },
      }),
    );
    const plain = (await call(gw.url, '/shop/items?x=1')).json<Echo>();
    assert.deepEqual([plain.upstream, plain.url], ['a', '/base/shop/items?x=1']);
    const cart = (await call(gw.url, '/shop/cart/42')).json<Echo>();
    assert.deepEqual([cart.upstream, cart.url], ['b', '/42']);
    assert.equal((await call(gw.url, '/shop/cart')).json<Echo>().url, '/', 'a stripped listenPath leaves "/"');
    await apply(
      apiDefinition('health', {
        listenPath: '/health',
        stripListenPath: true,
        upstream: { targets: [{ url: `${a.url}/healthz` }] },
      }),
    );
    assert.equal(
      (await call(gw.url, '/health?deep=1')).json<Echo>().url,
      '/healthz?deep=1',
      'nothing left after stripping reaches the base path itself',
    );
    assert.equal((await call(gw.url, '/health/')).json<Echo>().url, '/healthz/');
    const eu = (await call(gw.url, '/shop/x', { headers: { host: 'de.eu.example.com' } })).json<Echo>();
    assert.deepEqual([eu.upstream, eu.url], ['b', '/shop/x']);
    const none = await call(gw.url, '/nothing');
    assert.equal(none.status, 404);
    assert.equal(none.json().code, 'NO_ROUTE');
  });

  it('forwards with X-Forwarded-*, without hop-by-hop headers, applying header transforms', async () => {
    await apply(
      apiDefinition('headers', {
        listenPath: '/headers',
        upstream: { targets: [{ url: a.url }] },
        requestHeaders: { set: { 'X-Team': 'core' }, remove: ['X-Remove-Me'] },
        responseHeaders: { set: { 'X-Served-By': 'gatehouse' }, remove: ['X-Internal-Secret'] },
      }),
    );
    const answer = await call(gw.url, '/headers', {
      headers: {
        host: 'shop.test:8080',
        'x-remove-me': '1',
        'x-forwarded-for': '203.0.113.9',
        connection: 'x-private',
        'x-private': 'hop',
        te: 'trailers',
      },
    });
    const echo = answer.json<Echo>();
    assert.equal(echo.headers['x-team'], 'core');
    assert.equal(echo.headers['x-remove-me'], undefined);
    assert.equal(echo.headers['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(echo.headers['x-forwarded-proto'], 'http');
    assert.equal(echo.headers['x-forwarded-host'], 'shop.test:8080');
    assert.equal(echo.headers['x-private'], undefined, 'headers named in Connection are hop-by-hop');
    assert.equal(echo.headers.te, undefined);
    assert.equal(answer.headers['x-served-by'], 'gatehouse');
    assert.equal(answer.headers['x-internal-secret'], undefined);
    assert.equal(answer.headers['x-hop'], undefined);
  });

  it('answers 404 for inactive and unservable APIs and serves internal APIs only on the internal listener', async () => {
    await apply(apiDefinition('off', { listenPath: '/off', active: false, upstream: { targets: [{ url: a.url }] } }));
    await apply(
      apiDefinition('private', {
        listenPath: '/private',
        visibility: 'internal',
        upstream: { targets: [{ url: a.url }] },
      }),
    );
    await apply(
      apiDefinition('jwt', {
        listenPath: '/jwt',
        auth: { type: 'jwt', jwt: { jwks: { keys: [] } } },
        upstream: { targets: [{ url: a.url }] },
      }),
    );
    assert.equal((await call(gw.url, '/jwt')).status, 404, 'an auth type the gateway cannot check is not served');
    assert.equal((await call(gw.url, '/off')).status, 404);
    assert.equal((await call(gw.internalUrl, '/off')).status, 404);
    assert.equal((await call(gw.url, '/private')).status, 404);
    assert.equal((await call(gw.internalUrl, '/private')).json<Echo>().upstream, 'a');
  });

  it('answers 502 when the upstream refuses and 504 when it is too slow, naming the API, not the target', async () => {
    const closed = await closedPortUrl();
    await apply(apiDefinition('down', { listenPath: '/down', upstream: { targets: [{ url: closed }], retries: 2 } }));
    await apply(
      apiDefinition('slow', { listenPath: '/slow', upstream: { targets: [{ url: a.url }], timeout: '300ms' } }),
    );
    const down = await call(gw.url, '/down');
    assert.equal(down.status, 502);
    assert.deepEqual(down.json(), {
      code: 'UPSTREAM_UNREACHABLE',
      message: 'the upstream of default/down could not be reached (ECONNREFUSED)',
      api: 'default/down',
    });
    const slow = await call(gw.url, '/slow');
    assert.equal(slow.status, 504);
    assert.deepEqual(slow.json(), {
      code: 'UPSTREAM_TIMEOUT',
      message: 'the upstream of default/slow did not answer within 300 ms',
      api: 'default/slow',
    });
    for (const answer of [down, slow]) assert.doesNotMatch(answer.text, /127\.0\.0\.1|:\d{2,5}\b/, 'no address');
    // The operator still finds the target: in the access log and in metrics.
    const logged = logLines.find((l) => l.msg === 'request' && l.api === 'default/down');
    assert.equal((logged?.upstreamError as { target?: string })?.target, closed);
    assert.match(
      (logged?.upstreamError as { message?: string } | undefined)?.message ?? '',
      /ECONNREFUSED 127\.0\.0\.1:\d+/,
    );
    const metrics = (await call(gw.internalUrl, '/metrics')).text;
    const failed = (api: string, target: string, code: string) =>
      `gatehouse_upstream_failures_total{api="default/${api}",target="${target}",code="${code}"} 1`;
    for (const series of [failed('down', closed, 'ECONNREFUSED'), failed('slow', a.url, 'UND_ERR_HEADERS_TIMEOUT')]) {
      assert.ok(metrics.includes(series), series);
    }
  });

  it('retries a GET on the next target after a connection failure', async () => {
    await apply(
      apiDefinition('retry', {
        listenPath: '/retry',
        upstream: {
          targets: [
            { url: await closedPortUrl(), weight: 1 },
            { url: a.url, weight: 1 },
          ],
          retries: 1,
        },
      }),
    );
    for (let i = 0; i < 6; i++) assert.equal((await call(gw.url, '/retry')).status, 200);
    // Targets are chosen at random, half each: POSTs go until one is sent to the closed port,
    // which must answer 502, never a retry's 200. 64 draws that all miss it: 1 run in 2^64.
    let refused: Answer | undefined;
    for (let i = 0; i < 64 && !refused; i++) {
      const post = await call(gw.url, '/retry', { method: 'POST', body: 'x' });
      if (post.status === 502) refused = post;
      else assert.equal(post.json<Echo>().bodyBytes, 1, 'a POST to the open target gets its answer');
    }
    assert.equal(refused?.json<{ code: string }>().code, 'UPSTREAM_UNREACHABLE', 'a POST is never retried');
  });

  it('refuses bodies over maxBodyBytes with 413, declared or streamed', async () => {
    await apply(
      apiDefinition('small', { listenPath: '/small', maxBodyBytes: 10, upstream: { targets: [{ url: a.url }] } }),
    );
    assert.equal((await call(gw.url, '/small', { method: 'POST', body: '0123456789' })).json<Echo>().bodyBytes, 10);
    const declared = await call(gw.url, '/small', { method: 'POST', body: '0123456789ab' });
    assert.deepEqual([declared.status, declared.json().code], [413, 'BODY_TOO_LARGE']);
    const streamed = await call(gw.url, '/small', {
      method: 'POST',
      headers: { 'transfer-encoding': 'chunked' },
      body: ['012345', '6789ab'],
    });
    assert.equal(streamed.status, 413);
  });

  it('answers CORS preflights at the gateway and decorates actual responses', async () => {
    await apply(
      apiDefinition('cors', {
        listenPath: '/cors',
        upstream: { targets: [{ url: a.url }] },
        auth: { type: 'apiKey' },
        cors: {
          allowOrigins: ['https://app.example'],
          allowMethods: ['GET', 'POST'],
          allowHeaders: ['X-API-Key'],
          allowCredentials: true,
          maxAge: 600,
        },
      }),
    );
    const preflight = await call(gw.url, '/cors/x', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.status, 204, 'answered before auth: preflights carry no credentials');
    assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example');
    assert.equal(preflight.headers['access-control-allow-methods'], 'GET, POST');
    assert.equal(preflight.headers['access-control-allow-headers'], 'X-API-Key');
    assert.equal(preflight.headers['access-control-allow-credentials'], 'true');
    assert.equal(preflight.headers['access-control-max-age'], '600');
    const other = await call(gw.url, '/cors/x', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(other.status, 403);
    const actual = await call(gw.url, '/cors/x', { headers: { origin: 'https://app.example' } });
    assert.equal(actual.status, 401);
    assert.equal(
      actual.headers['access-control-allow-origin'],
      'https://app.example',
      'even a refusal is readable by the allowed origin',
    );
  });

  it('refuses denied and not-allowed client addresses (IPv4 and IPv6 blocks)', async () => {
    await apply(
      apiDefinition('deny', { listenPath: '/deny', ipDeny: ['127.0.0.0/8'], upstream: { targets: [{ url: a.url }] } }),
    );
    await apply(
      apiDefinition('allow6', {
        listenPath: '/allow6',
        ipAllow: ['2001:db8::/32'],
        upstream: { targets: [{ url: a.url }] },
      }),
    );
    await apply(
      apiDefinition('allow4', {
        listenPath: '/allow4',
        ipAllow: ['10.0.0.0/8', '127.0.0.1/32'],
        ipDeny: ['::1/128'],
        upstream: { targets: [{ url: a.url }] },
      }),
    );
    const denied = await call(gw.url, '/deny');
    assert.deepEqual([denied.status, denied.json().code], [403, 'IP_FORBIDDEN']);
    assert.equal((await call(gw.url, '/allow6')).status, 403);
    assert.equal((await call(gw.url, '/allow4')).status, 200);
  });

  it('authenticates API keys minted by the API server, checks policies, and drops deleted keys', async () => {
    await apply(
      apiDefinition('keyed', {
        listenPath: '/keyed',
        auth: { type: 'apiKey', apiKey: { header: 'X-API-Key', query: 'api_key' } },
        upstream: { targets: [{ url: a.url }] },
      }),
    );
    await apply({
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'SecurityPolicy',
      metadata: { name: 'read-orders', namespace: 'default' },
      spec: { apis: [{ name: 'keyed', methods: ['GET'], paths: ['/orders'] }] },
    });
    await apply({
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'Consumer',
      metadata: { name: 'acme', namespace: 'default' },
      spec: { policies: ['read-orders'] },
    });
    const created = await apply({
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'ApiKey',
      metadata: { name: 'acme-1', namespace: 'default' },
      spec: { consumer: 'acme' },
    });
    const key = (created.status as { key: string }).key;
    assert.match(key, /^gh_/);

    const missing = await call(gw.url, '/keyed/orders');
    assert.deepEqual([missing.status, missing.json().code], [401, 'CREDENTIALS_MISSING']);
    assert.match(String(missing.headers['www-authenticate']), /^ApiKey /);
    const wrong = await call(gw.url, '/keyed/orders', { headers: { 'x-api-key': 'gh_wrong' } });
    assert.deepEqual([wrong.status, wrong.json().code], [401, 'CREDENTIALS_INVALID']);
    const ok = await call(gw.url, '/keyed/orders/7', { headers: { 'x-api-key': key } });
    assert.equal(ok.status, 200);
    assert.equal(ok.json<Echo>().headers['x-api-key'], undefined, 'the key never reaches the upstream');
    assert.equal(ok.json<Echo>().headers['x-gatehouse-consumer'], 'acme');
    assert.equal((await call(gw.url, `/keyed/orders?api_key=${key}`)).status, 200);
    assert.equal(
      (await call(gw.url, '/keyed/orders', { method: 'DELETE', headers: { 'x-api-key': key } })).status,
      403,
      'method not granted',
    );
    assert.equal(
      (await call(gw.url, '/keyed/users', { headers: { 'x-api-key': key } })).status,
      403,
      'path not granted',
    );
    const beside = await call(gw.url, '/keyed/orders-admin', { headers: { 'x-api-key': key } });
    assert.equal(beside.status, 403, 'a policy path is a prefix of whole segments');

    await client.delete(apiKeyKind, 'acme-1');
    await eventually(
      async () => assert.equal((await call(gw.url, '/keyed/orders', { headers: { 'x-api-key': key } })).status, 401),
      { attempts: 200 },
    );
  });

  it('rate limits with 429, Retry-After and RateLimit-* headers', async () => {
    await apply(
      apiDefinition('limited', {
        listenPath: '/limited',
        rateLimit: { requests: 2, per: '1m' },
        upstream: { targets: [{ url: a.url }] },
      }),
    );
    const first = await call(gw.url, '/limited');
    assert.equal(first.status, 200);
    assert.deepEqual([first.headers['ratelimit-limit'], first.headers['ratelimit-remaining']], ['2', '1']);
    assert.equal((await call(gw.url, '/limited')).status, 200);
    const refused = await call(gw.url, '/limited');
    assert.deepEqual([refused.status, refused.json().code], [429, 'RATE_LIMITED']);
    assert.equal(refused.headers['ratelimit-remaining'], '0');
    assert.ok(Number(refused.headers['retry-after']) >= 1);
    assert.ok(Number(refused.headers['ratelimit-reset']) > 0);
  });

  it("limits each consumer by its policy, refuses expired keys, and honours a key's own policies", async () => {
    await apply(
      apiDefinition('metered', {
        listenPath: '/metered',
        auth: { type: 'apiKey' },
        upstream: { targets: [{ url: a.url }] },
      }),
    );
    await apply({
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'SecurityPolicy',
      metadata: { name: 'metered-1pm', namespace: 'default' },
      spec: { apis: [{ name: 'metered' }], rateLimit: { requests: 1, per: '1m' } },
    });
    await apply({
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'SecurityPolicy',
      metadata: { name: 'metered-free', namespace: 'default' },
      spec: { apis: [{ name: 'metered' }] },
    });
    await apply({
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'Consumer',
      metadata: { name: 'small', namespace: 'default' },
      spec: { policies: ['metered-1pm'] },
    });
    const mint = async (name: string, spec: Record<string, unknown>) =>
      (
        (
          await apply({
            apiVersion: 'gatehouse.dev/v1alpha1',
            kind: 'ApiKey',
            metadata: { name, namespace: 'default' },
            spec: { consumer: 'small', ...spec },
          })
        ).status as { key: string }
      ).key;
    const [k1, k2, unlimited, expired] = [
      await mint('small-1', {}),
      await mint('small-2', {}),
      await mint('small-free', { policies: ['metered-free'] }),
      await mint('small-old', { expires: '2000-01-01T00:00:00Z' }),
    ];
    assert.equal((await call(gw.url, '/metered', { headers: { 'x-api-key': k1 } })).status, 200);
    const second = await call(gw.url, '/metered', { headers: { 'x-api-key': k2 } });
    assert.equal(second.status, 429, 'the limit belongs to the consumer, not to one key');
    assert.equal(second.headers['ratelimit-limit'], '1');
    for (let i = 0; i < 3; i++)
      assert.equal((await call(gw.url, '/metered', { headers: { 'x-api-key': unlimited } })).status, 200);
    assert.equal((await call(gw.url, '/metered', { headers: { 'x-api-key': expired } })).status, 401);
  });

  it('applies a changed ApiDefinition without a restart', async () => {
    await apply(apiDefinition('moving', { listenPath: '/moving', upstream: { targets: [{ url: a.url }] } }));
    assert.equal((await call(gw.url, '/moving')).json<Echo>().upstream, 'a');
    const before = gw.config().generation;
    await client.patch(apiDefinitionKind, 'moving', { spec: { upstream: { targets: [{ url: b.url }] } } });
    await eventually(async () => assert.equal((await call(gw.url, '/moving')).json<Echo>().upstream, 'b'));
    assert.ok(gw.config().generation > before);
  });

  it('refuses path traversal and encoded separators with 400 before routing', async () => {
    for (const path of ['/shop/../headers', '/shop/%2e%2e/headers', '/shop/%2E%2e/x', '/shop%2fcart', '/shop/.%2E/']) {
      const answer = await call(gw.url, path);
      assert.deepEqual([answer.status, answer.json().code], [400, 'BAD_REQUEST_TARGET'], path);
    }
  });

  it('refuses a request with both Content-Length and Transfer-Encoding', async () => {
    const raw = await new Promise<string>((resolve, reject) => {
      const { port } = new URL(gw.url);
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.end(
          'POST /shop HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        );
      });
      let data = '';
      socket.on('data', (c: Buffer) => (data += c.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    assert.match(raw, /^HTTP\/1\.1 400 /);
  });

  it('exposes Prometheus metrics on the internal listener only', async () => {
    const metrics = await call(gw.internalUrl, '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, /^gatehouse_gateway_requests_total\{api="default\/limited",status="429"\} 1$/m);
    assert.match(metrics.text, /^gatehouse_gateway_request_duration_seconds_count\{api="default\/shop"\} \d+$/m);
    assert.match(metrics.text, /^gatehouse_gateway_config_source\{source="apiserver"\} 1$/m);
    assert.match(metrics.text, /^gatehouse_gateway_apiserver_connected 1$/m);
    assert.equal((await call(gw.url, '/metrics')).status, 404);
  });
};

for (const storage of TEST_STORAGES) describe(`gateway on ${storage}`, scenarios(storage));

describe('gateway without its API server', () => {
  it('keeps serving when the API server stops, and restarts from the last good config', async () => {
    const t = await startTestApiServer();
    const upstream = await startUpstream('a');
    const client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    const dataDir = `${t.dir}/gateway`;
    try {
      const gw = await startGateway({ kubeconfig: t.kubeconfigPath, port: 0, dataDir, logger });
      await client.create(
        apiDefinitionKind,
        apiDefinition('kept', { listenPath: '/kept', upstream: { targets: [{ url: upstream.url }] } }),
      );
      await eventually(async () => assert.equal((await call(gw.url, '/kept')).status, 200));
      await client.close();
      await t.server.close();
      await eventually(async () =>
        assert.match((await call(gw.internalUrl, '/metrics')).text, /^gatehouse_gateway_apiserver_connected 0$/m),
      );
      assert.equal((await call(gw.url, '/kept')).status, 200, 'serving continues while the API server is down');
      await gw.close();

      const restarted = await startGateway({
        kubeconfig: t.kubeconfigPath,
        port: 0,
        dataDir,
        logger,
        startTimeoutMs: 300,
      });
      try {
        assert.equal(restarted.config().source, 'disk');
        assert.equal((await call(restarted.url, '/kept')).json<Echo>().upstream, 'a');
        assert.match(
          (await call(restarted.internalUrl, '/metrics')).text,
          /^gatehouse_gateway_config_source\{source="disk"\} 1$/m,
        );
      } finally {
        await restarted.close();
      }
    } finally {
      await upstream.close();
      await t.stop();
    }
  });
});
