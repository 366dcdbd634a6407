import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCertificateAuthority } from '../../../test/support/pki.ts';
import { deliver, DeliveryError } from './deliver.ts';

describe('deliver', () => {
  let server: Server;
  let base: string;
  /** Statuses to answer per path, in order; 200 once spent. A status of 0 never answers. */
  const script = new Map<string, number[]>();
  const calls: string[] = [];
  before(async () => {
    server = createServer((req, res) => {
      calls.push(req.url ?? '');
      const status = script.get(req.url ?? '')?.shift() ?? 200;
      if (status) res.writeHead(status).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const retry = { retries: 2, baseDelayMs: 1, maxDelayMs: 5 };
  const post = (path: string, timeoutMs = 5_000) =>
    deliver({ url: new URL(`${base}${path}`), headers: {}, body: '{}' }, { timeoutMs, retry });
  const failsWith = (code: string, message: string) => (err: unknown) =>
    err instanceof DeliveryError && err.code === code && err.message === message;

  it('tries a 5xx and a 429 again, and stops at the first 2xx', async () => {
    script.set('/flaky', [500, 429]);
    assert.equal(await post('/flaky'), 3);
    assert.equal(calls.filter((c) => c === '/flaky').length, 3);
  });

  it('gives up after the retries, naming the host and the last answer', async () => {
    script.set('/down', [503, 503, 503, 503]);
    const host = new URL(base).host;
    await assert.rejects(post('/down'), failsWith('NOTIFICATION_UNDELIVERED', `${host} answered 503 (3 attempts)`));
  });

  it('does not retry a 4xx', async () => {
    script.set('/refused', [401]);
    await assert.rejects(post('/refused'), failsWith('NOTIFICATION_REFUSED', `${new URL(base).host} answered 401`));
    assert.equal(calls.filter((c) => c === '/refused').length, 1);
  });

  it('retries a receiver that does not answer within the timeout', async () => {
    script.set('/silent', [0]);
    assert.equal(await post('/silent', 200), 2);
  });

  it('retries a refused connection, and never names the path (a webhook URL may hold its key)', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const request = { url: new URL(`http://127.0.0.1:${port}/hooks/SECRET`), headers: {}, body: '{}' };
    await assert.rejects(
      deliver(request, { timeoutMs: 1_000, retry }),
      failsWith('NOTIFICATION_UNDELIVERED', `127.0.0.1:${port}: ECONNREFUSED (3 attempts)`),
    );
  });

  it('trusts the CA a Provider names (certSecretRef) for an https receiver, and only with it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-notify-tls-'));
    const ca = await createCertificateAuthority(dir, 'hooks-ca');
    const { cert, key } = await ca.issueServing('hooks');
    const tls = createHttpsServer({ cert, key }, (_req, res) => res.writeHead(204).end());
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    const { port } = tls.address() as AddressInfo;
    const request = { url: new URL(`https://127.0.0.1:${port}/hook`), headers: {}, body: '{}' };
    try {
      assert.equal(await deliver(request, { timeoutMs: 5_000, retry, ca: ca.cert }), 1);
      await assert.rejects(deliver(request, { timeoutMs: 5_000, retry: { ...retry, retries: 0 } }), (err: unknown) =>
        (err as DeliveryError).message.startsWith(`127.0.0.1:${port}: `),
      );
    } finally {
      tls.closeAllConnections();
      await new Promise((resolve) => tls.close(resolve));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
