// The API server's connections under slow, idle and piled-up clients: header, idle and
// request timeouts close what a client leaves hanging, watches are exempt and end when their
// own (capped) timeout says, and the connection cap keeps authenticated clients served.
import assert from 'node:assert/strict';
import { connect as connectTcp, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import type { KubeObject } from '../src/api/kind.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { watchEvents } from './support/watch.ts';

const AD = '/apis/gatehouse.dev/v1alpha1/namespaces/default/apidefinitions';
/** How long a test waits for something that should happen much sooner. */
const DEADLINE_MS = 30_000;

async function create(t: TestApiServer, name: string): Promise<void> {
  const body = JSON.stringify(api(name));
  const res = await t.request(AD, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.equal(res.status, 201, await res.text());
}

function api(name: string) {
  return {
    apiVersion: 'gatehouse.dev/v1alpha1',
    kind: 'ApiDefinition',
    metadata: { name },
    spec: { listenPath: `/${name}/`, upstream: { targets: [{ url: 'http://127.0.0.1:9000' }] } },
  };
}

async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${DEADLINE_MS} ms`)), DEADLINE_MS);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once the server closed the socket; what it sent first (a 408) is read and dropped. */
function closed(socket: Socket): Promise<void> {
  socket.resume();
  return socket.destroyed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}

function openTls(t: TestApiServer): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ host: '127.0.0.1', port: t.server.port, ca: t.ca }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Sends one HTTP/1.1 request on a raw socket and resolves with the whole response. */
function exchange(socket: TLSSocket, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text)?.[1];
      if (end >= 0 && length !== undefined && text.length >= end + 4 + Number(length)) {
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`connection closed before the answer: ${text}`)));
    socket.write(request);
  });
}

describe('API server connection timeouts', () => {
  let t: TestApiServer;
  before(async () => {
    t = await startTestApiServer('memory', {
      limits: {
        connections: { headerTimeoutMs: 400, requestTimeoutMs: 400, idleTimeoutMs: 400 },
        minRequestTimeoutSeconds: 1,
      },
    });
  });
  after(() => t.stop());

  it('closes a socket whose headers trickle in slower than the header timeout', async () => {
    const socket = await openTls(t);
    socket.write('GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    // One header byte at a time, never the blank line that ends them.
    const trickle = setInterval(() => socket.writable && socket.write('X'), 50);
    try {
      await within(closed(socket), 'the slow-header socket closed');
    } finally {
      clearInterval(trickle);
    }
  });

  it('closes a TCP connection that never starts TLS, and one that never sends a request', async () => {
    const raw = connectTcp(t.server.port, '127.0.0.1');
    const silent = await openTls(t);
    await within(Promise.all([closed(raw), closed(silent)]), 'the silent sockets closed');
  });

  it('closes a keep-alive connection left idle after its answer', async () => {
    const socket = await openTls(t);
    const answer = await exchange(socket, 'GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 200 /);
    await within(closed(socket), 'the idle keep-alive socket closed');
  });

  it('keeps a watch open past the header, request and idle timeouts', async () => {
    const abort = new AbortController();
    const res = await t.request(`${AD}?watch=1&timeoutSeconds=2`, { signal: abort.signal });
    const events = watchEvents<KubeObject>(res);
    // Time passes by what the server does, not by sleeping: another connection is closed
    // for idling, which takes longer than every timeout the watch is exempt from.
    const idle = await openTls(t);
    await exchange(idle, 'GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await within(closed(idle), 'the idle socket closed');
    await create(t, 'after-timeouts');
    const first = await within(events.next(), 'the watch event');
    assert.equal(first.value?.type, 'ADDED');
    assert.equal(first.value?.object.metadata.name, 'after-timeouts');
    abort.abort();
  });

  it('caps a huge timeoutSeconds at twice --min-request-timeout instead of overflowing the timer', async () => {
    const res = await t.request(`${AD}?watch=true&timeoutSeconds=99999999999&fieldSelector=metadata.name%3Dhuge`);
    const events = watchEvents<KubeObject>(res);
    await create(t, 'huge');
    const seen: string[] = [];
    // The stream ends by itself (min-request-timeout is 1 s here, so within 2 s), after the event.
    await within(
      (async () => {
        for await (const event of events) seen.push(`${event.type} ${event.object.metadata.name}`);
      })(),
      'the watch ended by its capped timeout',
    );
    assert.deepEqual(seen, ['ADDED huge']);
  });
});

describe('API server connection cap', () => {
  let t: TestApiServer;
  before(async () => {
    t = await startTestApiServer('memory', { limits: { connections: { maxConnections: 4 } } });
  });
  after(() => t.stop());

  it('keeps serving authenticated clients while unauthenticated connections pile up', async () => {
    const request = (token: string | null) =>
      `GET /api/v1/namespaces HTTP/1.1\r\nHost: 127.0.0.1\r\n${token ? `Authorization: Bearer ${token}\r\n` : ''}\r\n`;
    const client = await openTls(t);
    assert.match(await exchange(client, request(t.token)), /^HTTP\/1\.1 200 /);
    const refused = await openTls(t);
    assert.match(await exchange(refused, request(null)), /^HTTP\/1\.1 401 /);

    const pile: TLSSocket[] = [];
    for (let i = 0; i < 10; i++) pile.push(await openTls(t));
    // Past the cap of 4, each new connection displaced the oldest that never authenticated:
    // the client and the newest three of the pile are left.
    await within(Promise.all([refused, ...pile.slice(0, 7)].map(closed)), 'the unauthenticated sockets displaced');
    assert.deepEqual(
      pile.slice(7).map((s) => s.destroyed),
      [false, false, false],
    );
    assert.equal(client.destroyed, false, 'the authenticated connection is kept');
    assert.match(await exchange(client, request(t.token)), /^HTTP\/1\.1 200 /);
    for (const socket of [client, ...pile]) socket.destroy();
  });
});
