// What reaches the upstream and the log about the caller: credentials of every auth type
// stay with the gateway (unless the API forwards them), the access log holds none, and
// headers the gateway writes about the caller cannot be forged by the client.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
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
import { apiDefinition, call, rawExchange, startUpstream, untilServed } from './support/gateway.ts';
import type { Echo, Upstream } from './support/gateway.ts';

describe('gateway credentials and caller identity', () => {
  let t: TestApiServer;
  let client: KubeClient;
  let gw: Gateway;
  let upstream: Upstream;
  let key: string;
  let jwt: string;
  const logLines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });

  const refs = {
    ApiDefinition: apiDefinitionKind,
    ApiKey: apiKeyKind,
    Consumer: consumerKind,
    SecurityPolicy: securityPolicyKind,
  };
  const create = async (obj: KubeObject) =>
    untilServed(gw, await client.create(refs[obj.kind as keyof typeof refs], obj));
  const gatehouse = (kind: string, name: string, spec: Record<string, unknown>): KubeObject => ({
    apiVersion: 'gatehouse.dev/v1alpha1',
    kind,
    metadata: { name, namespace: 'default' },
    spec,
  });
  const api = (name: string, auth: Record<string, unknown>) =>
    create(apiDefinition(name, { listenPath: `/${name}`, upstream: { targets: [{ url: upstream.url }] }, auth }));
  const echoOf = async (path: string, headers: Record<string, string> = {}) => {
    const answer = await call(gw.url, path, { headers });
    assert.equal(answer.status, 200, `${path}: ${answer.text}`);
    return answer.json<Echo>();
  };

  before(async () => {
    t = await startTestApiServer();
    client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    upstream = await startUpstream('echo');
    gw = await startGateway({ kubeconfig: t.kubeconfigPath, port: 0, dataDir: t.dir, logger });
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const now = Math.floor(Date.now() / 1000);
    jwt = await new SignJWT({ sub: 'acme', exp: now + 600 })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .sign(privateKey);
    const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1' }] };

    const granted = ['key', 'basic', 'jwt', 'jwt-forwarding', 'free'];
    await create(gatehouse('SecurityPolicy', 'all', { apis: granted.map((name) => ({ name })) }));
    await create(gatehouse('Consumer', 'acme', { policies: ['all'] }));
    key = ((await create(gatehouse('ApiKey', 'acme-1', { consumer: 'acme' }))).status as { key: string }).key;
    await api('key', { type: 'apiKey', apiKey: { header: 'X-Key', query: 'api_key' } });
    await api('basic', { type: 'basic' });
    await api('jwt', { type: 'jwt', jwt: { jwks } });
    await api('jwt-forwarding', { type: 'jwt', jwt: { jwks }, forwardCredentials: true });
    await api('free', { type: 'keyless' });
  });
  after(async () => {
    await gw.close();
    await upstream.close();
    await client.close();
    await t.stop();
  });

  it('never passes an API key on, from its header or its query parameter, in any spelling', async () => {
    const byHeader = await echoOf('/key/orders', { 'x-key': key });
    assert.equal(byHeader.headers['x-key'], undefined);
    assert.equal(byHeader.headers['x-gatehouse-consumer'], 'acme');
    const url = async (path: string) => (await echoOf(path)).url;
    assert.equal(await url(`/key/orders?api_key=${key}`), '/key/orders', 'the parameter goes, and the "?" with it');
    assert.equal(
      await url(`/key/orders?a=1&api_key=${key}&b=2&api_key=again`),
      '/key/orders?a=1&b=2',
      'every occurrence goes, the rest stays as written',
    );
    assert.equal(await url(`/key/orders?api%5Fkey=${key}&a=%20`), '/key/orders?a=%20', 'an encoded name, the same');
  });

  it('never passes Authorization on for basic and jwt, unless the API forwards credentials', async () => {
    const seen = async (path: string, authorization: string) => {
      const { headers } = await echoOf(path, { authorization });
      return [headers.authorization, headers['x-gatehouse-consumer']];
    };
    const basic = `Basic ${Buffer.from(`acme:${key}`).toString('base64')}`;
    assert.deepEqual(await seen('/basic/x', basic), [undefined, 'acme']);
    assert.deepEqual(await seen('/jwt/x', `Bearer ${jwt}`), [undefined, 'acme']);
    assert.deepEqual(await seen('/jwt-forwarding/x', `Bearer ${jwt}`), [`Bearer ${jwt}`, 'acme'], 'forwardCredentials');
  });

  it('writes no credential to the access log, routed or not', async () => {
    logLines.length = 0;
    await echoOf(`/key/orders?api_key=${key}&page=2`);
    assert.equal((await call(gw.url, `/key/orders?api_key=${key}x`)).status, 401);
    assert.equal((await call(gw.url, `/nowhere?api_key=${key}&page=2`)).status, 404);
    const requests = logLines
      .map((line) => JSON.parse(line) as { msg: string; url?: string })
      .filter((l) => l.msg === 'request');
    assert.deepEqual(
      requests.map((l) => l.url),
      [
        '/key/orders?api_key=REDACTED&page=2',
        '/key/orders?api_key=REDACTED',
        '/nowhere?api_key=REDACTED&page=REDACTED',
      ],
    );
    for (const line of logLines) assert.ok(!line.includes(key), line);
  });

  it('removes what a client writes in the headers that describe the caller, on keyless APIs too', async () => {
    const forged = {
      'x-gatehouse-consumer': 'admin',
      'x-gatehouse-role': 'root',
      'x-forwarded-host': 'admin.internal',
      'x-forwarded-proto': 'https',
      'x-forwarded-for': '10.0.0.1',
    };
    const free = await echoOf('/free/x', { ...forged, host: 'shop.test' });
    assert.equal(free.headers['x-gatehouse-consumer'], undefined);
    assert.equal(free.headers['x-gatehouse-role'], undefined);
    assert.equal(free.headers['x-forwarded-host'], 'shop.test');
    assert.equal(free.headers['x-forwarded-proto'], 'http');
    assert.equal(free.headers['x-forwarded-for'], '10.0.0.1, 127.0.0.1', 'the last entry is the peer the gateway saw');
    assert.equal((await echoOf('/key/x', { ...forged, 'x-key': key })).headers['x-gatehouse-consumer'], 'acme');
    // HTTP/1.0 without Host: the gateway has no X-Forwarded-Host to write, and must not pass the client's on.
    const raw = await rawExchange(
      gw.url,
      'GET /free/y HTTP/1.0\r\nX-Forwarded-Host: admin.internal\r\nX-Gatehouse-Consumer: admin\r\n\r\n',
    );
    const { url, headers } = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as Echo;
    assert.deepEqual(
      [url, headers['x-forwarded-host'], headers['x-gatehouse-consumer']],
      ['/free/y', undefined, undefined],
    );
  });
});
