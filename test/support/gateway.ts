// Helpers for gateway tests: a loopback upstream that echoes what it received (and loopback
// servers a test steers itself), objects written through the Kubernetes API and a wait for
// the gateway to serve them, a small HTTP caller that sends exactly the request line and
// headers it is given, and a raw socket exchange for bytes no HTTP client would send.
import assert from 'node:assert/strict';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type RequestListener,
  type Server,
} from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { KubeObject } from '../../src/api/kind.ts';
import type { GatewayInputs } from '../../src/gateway/config.ts';
import type { Gateway } from '../../src/gateway/server.ts';
import { eventually } from './eventually.ts';

export interface Echo {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  bodyBytes: number;
  upstream: string;
}

export interface Upstream {
  url: string;
  close(): Promise<void>;
}

export interface TestServer extends Upstream {
  server: Server;
}

/** Echoes each request as JSON; paths under /slow never answer (until the server closes). */
export function startUpstream(name: string): Promise<Upstream> {
  return startServer((req, res) => {
    let bodyBytes = 0;
    req.on('data', (chunk: Buffer) => (bodyBytes += chunk.length));
    req.on('end', () => {
      if (req.url?.startsWith('/slow')) return;
      const echo: Echo = { method: req.method!, url: req.url!, headers: req.headers, bodyBytes, upstream: name };
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-upstream': name,
        'x-internal-secret': 'leak',
        connection: 'keep-alive, x-hop',
        'x-hop': 'drop-me',
      });
      res.end(JSON.stringify(echo));
    });
  });
}

/** A loopback server with the given handler, on `port` (0: a free one; a stopped server's
 * port starts it again at the same URL). close() also cuts open connections. */
export async function startServer(handler: RequestListener, port = 0): Promise<TestServer> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A loopback URL nothing listens on. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

/** Sends `path` verbatim (no normalisation), with the given headers and body. */
export function call(
  base: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer | (string | Buffer)[] } = {},
): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method: init.method ?? 'GET', path, headers: init.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode!, headers: res.headers, text, json: <T>() => JSON.parse(text) as T });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (Array.isArray(init.body)) {
      for (const part of init.body) req.write(part);
      req.end();
    } else {
      req.end(init.body);
    }
  });
}

export function apiDefinition(
  name: string,
  spec: Record<string, unknown> & { listenPath: string },
  namespace = 'default',
): KubeObject {
  return { apiVersion: 'gatehouse.dev/v1alpha1', kind: 'ApiDefinition', metadata: { name, namespace }, spec };
}

/** Writes `bytes` to `base`'s port exactly as given and resolves with everything received
 * until the server closes the connection; rejects when it stays open for `timeoutMs`. */
export function rawExchange(base: string, bytes: string | Buffer, timeoutMs = 5000): Promise<string> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(bytes));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(
          `connection still open after ${timeoutMs} ms; received ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 200))}`,
        ),
      );
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    // A reset after the answer (the server closing with unread bytes) still ends the exchange.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
  });
}

const INPUT_OF: Record<string, keyof GatewayInputs> = {
  ApiDefinition: 'apis',
  SecurityPolicy: 'policies',
  Consumer: 'consumers',
  ApiKey: 'apiKeys',
  Secret: 'secrets',
};

/** Waits until `gw` serves a config compiled from `obj` as written (its resourceVersion),
 * or with `gone`, one without it. Returns `obj`. */
export async function untilServed<T extends KubeObject>(gw: Gateway, obj: T, { gone = false } = {}): Promise<T> {
  const list = INPUT_OF[obj.kind];
  await eventually(() => {
    const found = gw.config().inputs[list].find((o) => o.metadata.uid === obj.metadata.uid);
    assert.ok(
      gone ? !found : found?.metadata.resourceVersion === obj.metadata.resourceVersion,
      `${obj.kind} ${obj.metadata.name} ${gone ? 'still' : 'not yet'} served`,
    );
  });
  return obj;
}
