// Helpers for gateway tests: a loopback upstream that echoes what it received, objects
// written through the Kubernetes API, and a small HTTP caller that sends exactly the
// request line and headers it is given.
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeObject } from '../../src/api/kind.ts';

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

/** Echoes each request as JSON; paths under /slow never answer (until the server closes). */
export async function startUpstream(name: string): Promise<Upstream> {
  const server: Server = createServer((req, res) => {
    let bodyBytes = 0;
    req.on('data', (chunk: Buffer) => (bodyBytes += chunk.length));
    req.on('end', () => {
      if (req.url?.startsWith('/slow')) return;
      const echo: Echo = { method: req.method!, url: req.url!, headers: req.headers, bodyBytes, upstream: name };
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': name, 'x-internal-secret': 'leak', connection: 'keep-alive, x-hop', 'x-hop': 'drop-me' });
      res.end(JSON.stringify(echo));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
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
export function call(base: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer | (string | Buffer)[] } = {}): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method: init.method ?? 'GET', path, headers: init.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode!, headers: res.headers, text, json: <T>() => JSON.parse(text) as T });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (Array.isArray(init.body)) {
      for (const part of init.body) req.write(part);
      req.end();
    } else {
      req.end(init.body);
    }
  });
}

export function apiDefinition(name: string, spec: Record<string, unknown> & { listenPath: string }, namespace = 'default'): KubeObject {
  return { apiVersion: 'gatehouse.dev/v1alpha1', kind: 'ApiDefinition', metadata: { name, namespace }, spec };
}
