// Hostile and malformed requests, written byte for byte on raw sockets: every one gets a
// clear 4xx from the gateway and none reaches an upstream (the upstreams count what they
// see, and a well-formed request at the end shows the counting works).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { apiDefinitionKind } from '../src/api/kinds/api-definition/index.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { KubeClient } from '../src/client/rest.ts';
import { MAX_HEAD_BYTES } from '../src/gateway/listener.ts';
import { startGateway, type Gateway } from '../src/gateway/server.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { apiDefinition, rawExchange, startServer, untilServed, type TestServer } from './support/gateway.ts';

const logger = pino({ level: 'silent' });

interface RawAnswer {
  status: number;
  head: string;
  body: { code?: string; message?: string; api?: string };
}

/** The first response in `raw`: status, head and JSON body. */
function parse(raw: string): RawAnswer {
  const match = /^HTTP\/1\.1 (\d{3}) [^\r]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(raw);
  assert.ok(match, `not an HTTP response: ${JSON.stringify(raw.slice(0, 200))}`);
  const length = Number(/^content-length: (\d+)$/im.exec(match[2])?.[1]);
  return { status: Number(match[1]), head: match[2], body: JSON.parse(match[3].slice(0, length)) as RawAnswer['body'] };
}

describe('gateway request hardening', () => {
  let t: TestApiServer;
  let client: KubeClient;
  let gw: Gateway;
  let api: TestServer;
  let admin: TestServer;
  const seen: string[] = [];

  /** Sends `raw` and checks the answer's status and code; the connection must end after it. */
  async function refused(raw: string, status: number, code: string, message?: RegExp): Promise<RawAnswer> {
    const answer = parse(await rawExchange(gw.url, raw));
    assert.deepEqual([answer.status, answer.body.code], [status, code], raw.slice(0, 120));
    if (message) assert.match(answer.body.message ?? '', message);
    return answer;
  }

  before(async () => {
    t = await startTestApiServer();
    client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    const counting = (name: string) =>
      startServer((req, res) => {
        seen.push(`${name} ${req.method} ${req.url}`);
        req.resume();
        req.on('end', () => res.end('ok'));
      });
    [api, admin] = await Promise.all([counting('api'), counting('admin')]);
    gw = await startGateway({ kubeconfig: t.kubeconfigPath, port: 0, dataDir: t.dir, logger });
    await untilServed(
      gw,
      await client.create(
        apiDefinitionKind,
        apiDefinition('api', { listenPath: '/api', upstream: { targets: [{ url: api.url }] } }),
      ),
    );
    await untilServed(
      gw,
      await client.create(
        apiDefinitionKind,
        apiDefinition('admin', { listenPath: '/admin', upstream: { targets: [{ url: admin.url }] } }),
      ),
    );
  });
  after(async () => {
    await gw.close();
    await Promise.all([api.close(), admin.close()]);
    await client.close();
    await t.stop();
  });

  it('answers malformed request and header lines with 400 naming the fault', async () => {
    await refused(
      'GET /api/x HTTP/1.1\r\nHost: gw\r\nBad Header\r\n\r\n',
      400,
      'MALFORMED_REQUEST',
      /Invalid header token/,
    );
    await refused('GET /api/x HTTP/1.1\r\nHost: gw\r\nX-Ctl: a\x01b\r\n\r\n', 400, 'MALFORMED_REQUEST', /header value/);
    await refused('GET /api/x HTTP/1.1\r\nHost: gw\r\nX-Folded: a\r\n b\r\n\r\n', 400, 'MALFORMED_REQUEST');
    await refused('GET /api/a b HTTP/1.1\r\nHost: gw\r\n\r\n', 400, 'MALFORMED_REQUEST');
    await refused('GET /api/x HTTP/1.1\nHost: gw\n\n', 400, 'MALFORMED_REQUEST');
    await refused('G@T /api/x HTTP/1.1\r\nHost: gw\r\n\r\n', 400, 'MALFORMED_REQUEST', /method/);
  });

  it(`answers a head over ${MAX_HEAD_BYTES} bytes with 431, a long URL included, and forwards one just under it`, async () => {
    await refused(
      `GET /api/x HTTP/1.1\r\nHost: gw\r\nX-Big: ${'a'.repeat(MAX_HEAD_BYTES + 100)}\r\n\r\n`,
      431,
      'HEADERS_TOO_LARGE',
      new RegExp(`${MAX_HEAD_BYTES} bytes`),
    );
    await refused(`GET /api/${'a'.repeat(64 * 1024)} HTTP/1.1\r\nHost: gw\r\n\r\n`, 431, 'HEADERS_TOO_LARGE');
    const near = await rawExchange(
      gw.url,
      `GET /api/near HTTP/1.1\r\nHost: gw\r\nConnection: close\r\nX-Big: ${'a'.repeat(MAX_HEAD_BYTES - 1000)}\r\n\r\n`,
    );
    assert.match(near, /^HTTP\/1\.1 200 /);
    assert.deepEqual(seen.splice(0), ['api GET /api/near']);
  });

  it('refuses ambiguous framing with 400 and closes the connection before anything is forwarded', async () => {
    // Content-Length with Transfer-Encoding: the classic request smuggling pair.
    await refused(
      'POST /api/x HTTP/1.1\r\nHost: gw\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin/smuggled HTTP/1.1\r\nHost: gw\r\n\r\n',
      400,
      'MALFORMED_REQUEST',
      /Content-Length/,
    );
    await refused(
      'POST /api/x HTTP/1.1\r\nHost: gw\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nabcd',
      400,
      'MALFORMED_REQUEST',
      /Duplicate Content-Length/,
    );
    await refused(
      'POST /api/x HTTP/1.1\r\nHost: gw\r\nContent-Length: 4, 4\r\n\r\nabcd',
      400,
      'MALFORMED_REQUEST',
      /Content-Length/,
    );
    await refused(
      'POST /api/x HTTP/1.1\r\nHost: gw\r\nContent-Length: +4\r\n\r\nabcd',
      400,
      'MALFORMED_REQUEST',
      /Content-Length/,
    );
    // Transfer codings: only plain chunked is framed the same by every hop.
    await refused(
      'POST /api/x HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: gzip\r\n\r\nabcd',
      400,
      'MALFORMED_REQUEST',
      /Transfer-Encoding "gzip" is not supported/,
    );
    await refused(
      'POST /api/x HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n',
      400,
      'MALFORMED_REQUEST',
      /not supported/,
    );
    await refused(
      'POST /api/x HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n',
      400,
      'MALFORMED_REQUEST',
      /Transfer-Encoding/,
    );
    await refused(
      'POST /api/x HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
      'MALFORMED_REQUEST',
      /Transfer-Encoding/,
    );
    await refused(
      'POST /api/x HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n',
      400,
      'MALFORMED_REQUEST',
    );
    await refused(
      'POST /api/x HTTP/1.0\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
      'MALFORMED_REQUEST',
      /HTTP\/1\.0/,
    );
    // Host decides the route: it must be there, once.
    await refused(
      'GET /api/x HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n',
      400,
      'MALFORMED_REQUEST',
      /more than one Host/,
    );
    await refused('GET /api/x HTTP/1.1\r\n\r\n', 400, 'MALFORMED_REQUEST', /must carry a Host/);
    assert.deepEqual(seen, [], 'no upstream saw any of them');
  });

  it('refuses every spelling of a path that escapes its listenPath with 400, never forwarding it', async () => {
    for (const path of [
      '/api/../admin',
      '/api/%2e%2e/admin',
      '/api/%2E%2E%2Fadmin',
      '/api/..%2fadmin',
      '/api/..\\admin',
      '/api\\..\\admin',
      '/api/%5c..%5cadmin',
      '/api/..;/admin',
      '/api/.%2E/admin',
      '/api/x/%2e%2e/%2e%2e/admin',
    ]) {
      const answer = await refused(
        `GET ${path} HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n`,
        400,
        'BAD_REQUEST_TARGET',
      );
      assert.match(answer.body.message ?? '', /^request target refused: /, path);
    }
    await refused(
      'GET /api/x#fragment HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n',
      400,
      'BAD_REQUEST_TARGET',
      /fragment/,
    );
    assert.deepEqual(seen, []);
  });

  it('is not a forward proxy: absolute-form targets and CONNECT are refused', async () => {
    await refused(
      'GET http://evil.example/api/x HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n',
      400,
      'BAD_REQUEST_TARGET',
      /absolute-form .* not a forward proxy/,
    );
    await refused(
      `GET ${gw.url}/api/x HTTP/1.1\r\nHost: ${new URL(gw.url).host}\r\nConnection: close\r\n\r\n`,
      400,
      'BAD_REQUEST_TARGET',
      /absolute-form/,
    );
    await refused(
      'CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n',
      400,
      'BAD_REQUEST_TARGET',
      /CONNECT is not served/,
    );
    await refused(
      'OPTIONS * HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n',
      400,
      'BAD_REQUEST_TARGET',
      /asterisk-form/,
    );
    assert.deepEqual(seen, []);
  });

  it('still forwards a well-formed request, so the counts above mean something', async () => {
    const raw = await rawExchange(
      gw.url,
      'POST /api/fine HTTP/1.1\r\nHost: gw\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
    );
    assert.match(raw, /^HTTP\/1\.1 200 /);
    assert.deepEqual(seen, ['api POST /api/fine']);
  });
});
