// Upstream resilience end to end: a real API server, the gateway watching it, loopback
// upstreams the tests make sick and well again: active health checks, circuit breaking,
// upstream requests stopped when the client goes away, and WebSocket pass-through.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import type { KubeObject } from '../src/api/kind.ts';
import { apiDefinitionKind } from '../src/api/kinds/api-definition/index.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { KubeClient } from '../src/client/rest.ts';
import { startGateway, type Gateway } from '../src/gateway/server.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { eventually } from './support/eventually.ts';
import {
  apiDefinition,
  call,
  closedPortUrl,
  rawExchange,
  startServer,
  untilServed,
  type TestServer,
} from './support/gateway.ts';

const logger = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An upstream whose health endpoint and answers a test sets; it counts what it sees. */
interface Steerable extends TestServer {
  name: string;
  /** Status of GET /healthz. */
  health: number;
  /** Status of every other request. */
  status: number;
  probes: number;
  /** Paths of the requests other than probes. */
  seen: string[];
}

async function steerable(name: string): Promise<Steerable> {
  const s = { name, health: 200, status: 200, probes: 0, seen: [] as string[] } as Steerable;
  Object.assign(
    s,
    await startServer((req, res) => {
      if (req.url === '/healthz') {
        s.probes++;
        res.writeHead(s.health).end();
        return;
      }
      s.seen.push(req.url!);
      req.resume();
      res.writeHead(s.status, { 'x-upstream': name }).end(name);
    }),
  );
  return s;
}

describe('gateway upstream resilience', () => {
  let t: TestApiServer;
  let client: KubeClient;
  let gw: Gateway;
  let gatewayClosed = false;
  const upstreams: Steerable[] = [];
  let wss: WebSocketServer | undefined;
  let a: Steerable;

  const create = async (obj: KubeObject) => untilServed(gw, await client.create(apiDefinitionKind, obj));
  const patch = async (name: string, body: unknown) =>
    untilServed(gw, await client.patch<KubeObject>(apiDefinitionKind, name, body));
  const upstream = async (name: string) => {
    const s = await steerable(name);
    upstreams.push(s);
    return s;
  };
  const healthOf = (api: string, url: string) =>
    gw
      .upstreamHealth()
      .get(`default/${api}`)
      ?.find((h) => h.url === url);
  /** Who answered `n` requests to `path`. */
  const answerers = async (path: string, n: number) => {
    const names = new Set<string>();
    for (let i = 0; i < n; i++) {
      const answer = await call(gw.url, path);
      names.add(
        answer.headers['x-upstream'] === undefined
          ? `${answer.status} ${answer.text}`
          : String(answer.headers['x-upstream']),
      );
    }
    return [...names].sort();
  };

  before(async () => {
    t = await startTestApiServer();
    client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    a = await upstream('a');
    gw = await startGateway({ kubeconfig: t.kubeconfigPath, port: 0, dataDir: t.dir, logger });
  });
  after(async () => {
    if (!gatewayClosed) await gw.close();
    wss?.close();
    await Promise.all(upstreams.map((u) => u.close()));
    await client.close();
    await t.stop();
  });

  describe('active health checks', () => {
    const check = { path: '/healthz', interval: '100ms', timeout: '1s' };

    it('take a target out of rotation after unhealthyThreshold failures and back after healthyThreshold successes', async () => {
      const b = await upstream('b');
      await create(
        apiDefinition('hc', {
          listenPath: '/hc',
          upstream: {
            targets: [{ url: a.url }, { url: b.url }],
            healthCheck: { ...check, healthyThreshold: 2, unhealthyThreshold: 2 },
          },
        }),
      );
      // Judged once its first probe's answer is in.
      await eventually(() => assert.deepEqual(healthOf('hc', b.url), { url: b.url, healthy: true, judged: true }));

      b.health = 503;
      await eventually(() => assert.equal(healthOf('hc', b.url)?.healthy, false));
      assert.deepEqual(await answerers('/hc', 20), ['a']);
      const metrics = (await call(gw.internalUrl, '/metrics')).text;
      assert.match(metrics, new RegExp(`^gatehouse_upstream_healthy\\{api="default/hc",target="${b.url}"\\} 0$`, 'm'));
      assert.match(metrics, new RegExp(`^gatehouse_upstream_healthy\\{api="default/hc",target="${a.url}"\\} 1$`, 'm'));

      b.health = 200;
      await eventually(() => assert.equal(healthOf('hc', b.url)?.healthy, true));
      await eventually(async () => assert.ok((await answerers('/hc', 10)).includes('b'), 'b answers again'));
    });

    it('keep their verdicts across config swaps', async () => {
      const c = await upstream('c');
      // A fresh checker would call c healthy at once; this one needs 100 successes (10 s).
      await create(
        apiDefinition('sticky', {
          listenPath: '/sticky',
          upstream: {
            targets: [{ url: a.url }, { url: c.url }],
            healthCheck: { ...check, healthyThreshold: 100, unhealthyThreshold: 1 },
          },
        }),
      );
      c.health = 500;
      await eventually(() => assert.equal(healthOf('sticky', c.url)?.healthy, false));
      c.health = 200;
      const before = gw.config().generation;
      await patch('sticky', { spec: { requestHeaders: { set: { 'X-Changed': '1' } } } });
      await create(apiDefinition('bystander', { listenPath: '/bystander', upstream: { targets: [{ url: a.url }] } }));
      assert.ok(gw.config().generation > before, 'a new config is served');
      assert.equal(healthOf('sticky', c.url)?.healthy, false);
      assert.deepEqual(await answerers('/sticky', 10), ['a']);
    });

    it('fail open: with every target unhealthy, requests still go to them', async () => {
      const d = await upstream('d');
      await create(
        apiDefinition('allsick', {
          listenPath: '/allsick',
          upstream: { targets: [{ url: d.url }], healthCheck: { ...check, unhealthyThreshold: 1 } },
        }),
      );
      d.health = 500;
      await eventually(() => assert.equal(healthOf('allsick', d.url)?.healthy, false));
      assert.deepEqual(await answerers('/allsick', 3), ['d']);
    });

    it('stop when no config uses them', async () => {
      const e = await upstream('e');
      const api = await create(
        apiDefinition('dropped', {
          listenPath: '/dropped',
          upstream: { targets: [{ url: e.url }], healthCheck: check },
        }),
      );
      await eventually(() => assert.ok(e.probes >= 2, 'e probed'));
      await client.delete(apiDefinitionKind, 'dropped');
      await untilServed(gw, api, { gone: true });
      await sleep(250);
      const probes = e.probes;
      await sleep(500);
      assert.equal(e.probes, probes, 'no probes once the API is gone');
    });
  });

  describe('circuit breaker', () => {
    it('opens after consecutive failures, answers CIRCUIT_OPEN naming the API, reopens on a failed trial and closes on a good one', async () => {
      const g = await upstream('g');
      await create(
        apiDefinition('cb', {
          listenPath: '/cb',
          upstream: {
            targets: [{ url: g.url }],
            circuitBreaker: { consecutiveFailures: 3, openDuration: '300ms', halfOpenRequests: 1 },
          },
        }),
      );
      g.status = 503;
      for (let i = 0; i < 3; i++)
        assert.equal((await call(gw.url, '/cb')).text, 'g', "the upstream's own 503 goes back as it came");
      const open = await call(gw.url, '/cb');
      assert.deepEqual([open.status, open.json().code, open.json().api], [503, 'CIRCUIT_OPEN', 'default/cb']);
      assert.match(String(open.json().message), /default\/cb/);
      assert.equal(g.seen.length, 3, 'an open circuit sends nothing to the target');
      assert.equal(healthOf('cb', g.url)?.circuit, 'open');
      assert.match(
        (await call(gw.internalUrl, '/metrics')).text,
        new RegExp(`^gatehouse_upstream_circuit_open\\{api="default/cb",target="${g.url}"\\} 1$`, 'm'),
      );

      // After openDuration one trial goes through; it fails, so the circuit opens again.
      await eventually(async () => assert.equal((await call(gw.url, '/cb')).text, 'g'), { attempts: 40 });
      assert.equal(g.seen.length, 4);
      assert.equal((await call(gw.url, '/cb')).json().code, 'CIRCUIT_OPEN');

      g.status = 200;
      await eventually(async () => assert.equal((await call(gw.url, '/cb')).status, 200), { attempts: 40 });
      assert.equal(healthOf('cb', g.url)?.circuit, 'closed');
      assert.equal((await call(gw.url, '/cb')).status, 200);
    });

    it('skips a target whose connections fail, and keeps it skipped across config swaps', async () => {
      const dead = await closedPortUrl();
      await create(
        apiDefinition('cb2', {
          listenPath: '/cb2',
          upstream: {
            targets: [{ url: dead }, { url: a.url }],
            circuitBreaker: { consecutiveFailures: 1, openDuration: '1m' },
          },
        }),
      );
      let failed = false;
      for (let i = 0; i < 40 && !failed; i++) failed = (await call(gw.url, '/cb2')).status === 502;
      assert.ok(failed, 'some request went to the dead target');
      assert.equal(healthOf('cb2', dead)?.circuit, 'open');
      assert.deepEqual(await answerers('/cb2', 20), ['a']);
      await patch('cb2', { spec: { requestHeaders: { set: { 'X-Changed': '1' } } } });
      assert.equal(healthOf('cb2', dead)?.circuit, 'open');
      assert.deepEqual(await answerers('/cb2', 10), ['a']);
    });
  });

  describe('a client that goes away', () => {
    it('stops the upstream request, waiting for its head or streaming its body', async () => {
      const closed: string[] = [];
      const h = await startServer((req, res) => {
        res.on('close', () => closed.push(`${req.url} ${res.writableFinished ? 'finished' : 'cut'}`));
        if (req.url === '/hold/body') res.writeHead(200).write('first chunk');
      });
      upstreams.push(h as Steerable);
      await create(apiDefinition('hold', { listenPath: '/hold', upstream: { targets: [{ url: h.url }] } }));
      for (const path of ['/hold/head', '/hold/body']) {
        const socket = connect(Number(new URL(gw.url).port), '127.0.0.1');
        socket.on('error', () => undefined);
        let received = '';
        socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
        socket.write(`GET ${path} HTTP/1.1\r\nHost: gw\r\n\r\n`);
        if (path === '/hold/body') await eventually(() => assert.match(received, /first chunk/));
        else await sleep(200);
        socket.destroy();
        // The API's timeout is 30 s: only the abort can close it this soon.
        await eventually(() => assert.ok(closed.includes(`${path} cut`), closed.join()));
      }
      await eventually(async () =>
        assert.match(
          (await call(gw.internalUrl, '/metrics')).text,
          /^gatehouse_gateway_requests_total\{api="default\/hold",status="499"\} 1$/m,
        ),
      );
    });
  });

  describe('WebSocket and other upgrades', () => {
    let w: TestServer;
    const handshakes: IncomingMessage[] = [];
    const closedOnUpstream: number[] = [];

    before(async () => {
      w = await startServer((_req, res) => res.writeHead(404).end());
      upstreams.push(w as Steerable);
      wss = new WebSocketServer({ server: w.server });
      wss.on('connection', (socket, req) => {
        handshakes.push(req);
        socket.on('message', (data, binary) => socket.send(data, { binary }));
        socket.on('close', (code) => closedOnUpstream.push(code));
      });
      await create(
        apiDefinition('ws', {
          listenPath: '/ws',
          stripListenPath: true,
          upstream: { targets: [{ url: `${w.url}/base` }] },
        }),
      );
      await create(
        apiDefinition('wskey', {
          listenPath: '/wskey',
          auth: { type: 'apiKey' },
          upstream: { targets: [{ url: w.url }] },
        }),
      );
    });

    it('passes a WebSocket through: handshake with the rewritten path and forwarded headers, echo both ways, close', async () => {
      const socket = new WebSocket(`${gw.url.replace('http:', 'ws:')}/ws/chat?room=1`);
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      const echoed = new Promise<string>((resolve) => socket.once('message', (data) => resolve(String(data))));
      socket.send('hello through the gateway');
      assert.equal(await echoed, 'hello through the gateway');
      const [handshake] = handshakes;
      assert.equal(handshake.url, '/base/chat?room=1');
      assert.equal(handshake.headers['x-forwarded-for'], '127.0.0.1');
      assert.equal(handshake.headers.host, new URL(w.url).host);
      socket.close(1000);
      await eventually(() => assert.deepEqual(closedOnUpstream, [1000]));
    });

    it('refuses an upgrade the policy chain refuses, with a plain HTTP answer', async () => {
      const socket = new WebSocket(`${gw.url.replace('http:', 'ws:')}/wskey/chat`);
      const refusal = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        socket.once('open', () => reject(new Error('the upgrade went through')));
        socket.once('error', () => undefined);
        socket.once('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        });
      });
      assert.equal(refusal.status, 401);
      assert.equal(JSON.parse(refusal.body).code, 'CREDENTIALS_MISSING');
      assert.equal(handshakes.length, 1, 'the upstream saw no second handshake');
    });

    it('relays an upstream that does not switch protocols and closes, so nothing can be smuggled after it', async () => {
      const p = await upstream('p');
      await create(apiDefinition('plain', { listenPath: '/plain', upstream: { targets: [{ url: p.url }] } }));
      const raw = await rawExchange(
        gw.url,
        'GET /plain/x HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nGET /plain/smuggled HTTP/1.1\r\nHost: gw\r\n\r\n',
      );
      assert.match(raw, /^HTTP\/1\.1 200 /);
      assert.match(raw, /\r\nconnection: close\r\n/i);
      assert.deepEqual(p.seen, ['/plain/x']);
    });
  });

  it('closing the gateway cuts open WebSockets and stops every health checker', async () => {
    const probed = upstreams.filter((u) => u.probes > 0);
    assert.ok(probed.length >= 3, 'several upstreams were probed');
    const socket = new WebSocket(`${gw.url.replace('http:', 'ws:')}/ws/open`);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const cut = new Promise<number>((resolve) => socket.once('close', resolve));
    await gw.close();
    gatewayClosed = true;
    assert.equal(await cut, 1006, 'the connection was cut, not closed by a handshake');
    await sleep(250);
    const counts = probed.map((u) => u.probes);
    await sleep(500);
    assert.deepEqual(
      probed.map((u) => u.probes),
      counts,
    );
  });
});
