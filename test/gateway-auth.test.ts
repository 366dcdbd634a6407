// Gateway authentication end to end: JWT (inline and remote key sets) and HTTP Basic, with a
// real API server, the gateway watching it, a loopback upstream and a loopback JWKS server.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import pino from 'pino';
import { secretKind } from '../src/api/core/secret/index.ts';
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
import { apiDefinition, call, startUpstream, type Answer, type Echo, type Upstream } from './support/gateway.ts';

const logger = pino({ level: 'silent' });
const ISSUER = 'https://idp.example';
/** Short, so a rotation is picked up within the test; the gateway's default is 30 s. */
const JWKS_COOLDOWN_MS = 200;

interface SigningKey {
  alg: string;
  kid: string;
  key: CryptoKey | Uint8Array;
  jwk: JWK;
}

async function signingKey(alg: 'RS256' | 'ES256' | 'EdDSA', kid: string): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg);
  return { alg, kid, key: privateKey, jwk: { ...(await exportJWK(publicKey)), kid } };
}

function sharedSecret(kid: string): SigningKey {
  const secret = randomBytes(32);
  return { alg: 'HS256', kid, key: secret, jwk: { kty: 'oct', k: secret.toString('base64url'), kid } };
}

/** A fresh token (its own jti, so no two are alike) of `sub` for audience "orders". */
function token(signer: SigningKey, claims: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: ISSUER, aud: 'orders', sub: 'user-1', exp: now + 600, jti: randomUUID(), ...claims })
    .setProtectedHeader({ alg: signer.alg, kid: signer.kid })
    .sign(signer.key);
}

const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });
const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

/** Serves `keys` as a JSON Web Key Set and counts the fetches. */
async function startJwksServer(
  keys: JWK[],
): Promise<{ url: string; fetches: number; keys: JWK[]; close(): Promise<void> }> {
  const state = { url: '', fetches: 0, keys, close: async () => {} };
  const server: Server = createServer((_req, res) => {
    state.fetches++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return state;
}

function assertInvalidToken(answer: Answer, api: string, description: string): void {
  assert.equal(answer.status, 401, description);
  assert.equal(answer.json().code, 'CREDENTIALS_INVALID');
  assert.equal(
    answer.headers['www-authenticate'],
    `Bearer realm="default/${api}", error="invalid_token", error_description="${description}"`,
  );
}

describe('gateway authentication', () => {
  let t: TestApiServer;
  let client: KubeClient;
  let gw: Gateway;
  let upstream: Upstream;
  let signers: SigningKey[];
  const dataDir = () => join(t.dir, 'gateway');

  const refs = {
    ApiDefinition: apiDefinitionKind,
    ApiKey: apiKeyKind,
    Consumer: consumerKind,
    SecurityPolicy: securityPolicyKind,
    Secret: secretKind,
  };
  const create = (obj: KubeObject) => client.create(refs[obj.kind as keyof typeof refs], obj);
  /** Waits until the gateway routes `path` (answers anything but 404 without credentials). */
  const routed = (path: string) =>
    eventually(async () => assert.notEqual((await call(gw.url, path)).status, 404, path));
  const gatehouse = (kind: string, name: string, spec: Record<string, unknown>): KubeObject => ({
    apiVersion: 'gatehouse.dev/v1alpha1',
    kind,
    metadata: { name, namespace: 'default' },
    spec,
  });
  const secret = (
    name: string,
    stringData: Record<string, string>,
    annotations?: Record<string, string>,
  ): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: 'default', annotations },
    stringData,
  });

  before(async () => {
    t = await startTestApiServer();
    client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    upstream = await startUpstream('orders');
    gw = await startGateway({
      kubeconfig: t.kubeconfigPath,
      port: 0,
      dataDir: dataDir(),
      logger,
      jwks: { cooldownMs: JWKS_COOLDOWN_MS },
    });
    signers = [
      await signingKey('RS256', 'rsa-1'),
      await signingKey('ES256', 'ec-1'),
      await signingKey('EdDSA', 'ed-1'),
      sharedSecret('hs-1'),
    ];
    await create(
      gatehouse('SecurityPolicy', 'callers', {
        apis: [
          { name: 'jwt', methods: ['GET'], paths: ['/orders'] },
          { name: 'jwt-remote' },
          { name: 'basic', methods: ['GET'] },
          { name: 'basic-keys' },
        ],
      }),
    );
    await create(gatehouse('Consumer', 'acme', { policies: ['callers'], jwtSubjects: ['user-1'] }));
    await create(gatehouse('Consumer', 'beta', { policies: ['callers'] }));
    await create(gatehouse('Consumer', 'alice', { policies: ['callers'] }));
    await create(
      apiDefinition('jwt', {
        listenPath: '/jwt',
        upstream: { targets: [{ url: upstream.url }] },
        auth: {
          type: 'jwt',
          jwt: { issuer: ISSUER, audiences: ['billing', 'orders'], jwks: { keys: signers.map((s) => s.jwk) } },
        },
      }),
    );
    await routed('/jwt');
  });
  after(async () => {
    await gw.close();
    await upstream.close();
    await client.close();
    await t.stop();
  });

  it('accepts RS256, ES256, EdDSA and HS256 tokens, forwarding the consumer and never the token', async () => {
    for (const signer of signers) {
      const answer = await call(gw.url, '/jwt/orders/7', { headers: bearer(await token(signer)) });
      assert.equal(answer.status, 200, signer.alg);
      const echo = answer.json<Echo>();
      assert.equal(echo.headers['x-gatehouse-consumer'], 'acme', 'mapped through spec.jwtSubjects');
      assert.equal(echo.headers.authorization, undefined, "credentials are the gateway's");
    }
  });

  it('refuses missing, mis-issued, mis-addressed, expired and badly signed tokens with 401 and a Bearer challenge', async () => {
    const missing = await call(gw.url, '/jwt/orders');
    assert.deepEqual([missing.status, missing.json().code], [401, 'CREDENTIALS_MISSING']);
    assert.equal(
      missing.headers['www-authenticate'],
      'Bearer realm="default/jwt"',
      'no error code without credentials (RFC 6750 section 3.1)',
    );
    const [rsa] = signers;
    const now = Math.floor(Date.now() / 1000);
    assertInvalidToken(
      await call(gw.url, '/jwt/orders', { headers: bearer(await token(rsa, { iss: 'https://evil.example' })) }),
      'jwt',
      'the iss claim is not accepted',
    );
    assertInvalidToken(
      await call(gw.url, '/jwt/orders', { headers: bearer(await token(rsa, { aud: 'payments' })) }),
      'jwt',
      'the aud claim is not accepted',
    );
    assertInvalidToken(
      await call(gw.url, '/jwt/orders', { headers: bearer(await token(rsa, { exp: now - 300 })) }),
      'jwt',
      'the token has expired',
    );
    const forged = { ...(await signingKey('RS256', 'rsa-1')) };
    assertInvalidToken(
      await call(gw.url, '/jwt/orders', { headers: bearer(await token(forged)) }),
      'jwt',
      'the signature is invalid',
    );
    assertInvalidToken(
      await call(gw.url, '/jwt/orders', { headers: bearer(await token({ ...forged, kid: 'unknown' })) }),
      'jwt',
      'no key of this API matches the alg and kid of the token',
    );
  });

  it('maps a token to the Consumer listing its subject, else the one named by it, and applies its policies', async () => {
    const [rsa] = signers;
    const beta = await call(gw.url, '/jwt/orders', { headers: bearer(await token(rsa, { sub: 'beta' })) });
    assert.equal(beta.json<Echo>().headers['x-gatehouse-consumer'], 'beta', 'mapped by name');
    const stranger = await call(gw.url, '/jwt/orders', { headers: bearer(await token(rsa, { sub: 'stranger' })) });
    assert.deepEqual([stranger.status, stranger.json().code], [403, 'ACCESS_FORBIDDEN']);
    const deleting = await call(gw.url, '/jwt/orders/7', { method: 'DELETE', headers: bearer(await token(rsa)) });
    assert.deepEqual([deleting.status, deleting.json().code], [403, 'ACCESS_FORBIDDEN'], 'method not granted');
    const users = await call(gw.url, '/jwt/users', { headers: bearer(await token(rsa)) });
    assert.deepEqual([users.status, users.json().code], [403, 'ACCESS_FORBIDDEN'], 'path not granted');
  });

  it('fetches a remote key set once, keeps it across config swaps, follows a key rotation and survives the set going away', async () => {
    const first = await signingKey('RS256', 'rotating-1');
    const second = await signingKey('ES256', 'rotating-2');
    const jwks = await startJwksServer([first.jwk]);
    try {
      await create(
        apiDefinition('jwt-remote', {
          listenPath: '/remote',
          upstream: { targets: [{ url: upstream.url }] },
          auth: { type: 'jwt', jwt: { jwksUri: jwks.url } },
        }),
      );
      await routed('/remote');
      for (let i = 0; i < 5; i++)
        assert.equal((await call(gw.url, '/remote', { headers: bearer(await token(first)) })).status, 200);
      assert.equal(jwks.fetches, 1, 'fetched on first use only, not per request');

      const generation = gw.config().generation;
      await create(
        apiDefinition('unrelated', { listenPath: '/unrelated', upstream: { targets: [{ url: upstream.url }] } }),
      );
      await eventually(() => assert.ok(gw.config().generation > generation));
      assert.equal((await call(gw.url, '/remote', { headers: bearer(await token(first)) })).status, 200);
      assert.equal(jwks.fetches, 1, 'a config swap keeps the fetched set');

      jwks.keys = [second.jwk];
      await eventually(async () =>
        assert.equal((await call(gw.url, '/remote', { headers: bearer(await token(second)) })).status, 200),
      );
      assert.equal(jwks.fetches, 2, 'a token naming an unknown kid fetches the set again, once');
      const retired = await call(gw.url, '/remote', { headers: bearer(await token(first)) });
      assertInvalidToken(retired, 'jwt-remote', 'no key of this API matches the alg and kid of the token');

      await jwks.close();
      const unknown = await signingKey('RS256', 'rotating-3');
      await eventually(async () => {
        const answer = await call(gw.url, '/remote', { headers: bearer(await token(unknown)) });
        assert.deepEqual(
          [answer.status, answer.json().code],
          [503, 'AUTH_UNAVAILABLE'],
          "an unreachable key set is the gateway's failure, not the caller's",
        );
      });
      assert.equal(
        (await call(gw.url, '/remote', { headers: bearer(await token(second)) })).status,
        200,
        'keys already fetched keep working',
      );
    } finally {
      await jwks.close();
    }
  });

  it('checks HTTP Basic passwords against bcrypt hashes in a Secret, and follows a password change', async () => {
    await create(
      secret('basic-users', { alice: bcrypt.hashSync('wonderland', 4), nobody: bcrypt.hashSync('wonderland', 4) }),
    );
    await create(
      apiDefinition('basic', {
        listenPath: '/basic',
        upstream: { targets: [{ url: upstream.url }] },
        auth: { type: 'basic', basic: { secretRef: { name: 'basic-users' } } },
      }),
    );
    await routed('/basic');
    const missing = await call(gw.url, '/basic');
    assert.deepEqual([missing.status, missing.json().code], [401, 'CREDENTIALS_MISSING']);
    assert.equal(missing.headers['www-authenticate'], 'Basic realm="default/basic", charset="UTF-8"');
    const wrong = await call(gw.url, '/basic', { headers: basic('alice', 'guess') });
    assert.deepEqual([wrong.status, wrong.json().code], [401, 'CREDENTIALS_INVALID']);
    assert.equal(wrong.headers['www-authenticate'], 'Basic realm="default/basic", charset="UTF-8"');
    const ok = await call(gw.url, '/basic/x', { headers: basic('alice', 'wonderland') });
    assert.equal(ok.status, 200);
    assert.equal(ok.json<Echo>().headers['x-gatehouse-consumer'], 'alice');
    assert.equal(ok.json<Echo>().headers.authorization, undefined);
    assert.equal(
      (await call(gw.url, '/basic/x', { method: 'POST', headers: basic('alice', 'wonderland') })).status,
      403,
      'method not granted',
    );
    const noConsumer = await call(gw.url, '/basic', { headers: basic('nobody', 'wonderland') });
    assert.deepEqual(
      [noConsumer.status, noConsumer.json().code],
      [403, 'ACCESS_FORBIDDEN'],
      'a user without a Consumer of that name',
    );

    await client.patch(secretKind, 'basic-users', { stringData: { alice: bcrypt.hashSync('looking-glass', 4) } });
    await eventually(async () =>
      assert.equal(
        (await call(gw.url, '/basic', { headers: basic('alice', 'wonderland') })).status,
        401,
        'the old password stops working',
      ),
    );
    assert.equal((await call(gw.url, '/basic', { headers: basic('alice', 'looking-glass') })).status, 200);
  });

  it('leaves out an API whose Secret holds a plaintext password, and saves only referenced Secrets, without plaintext, to disk', async () => {
    await create(
      secret(
        'plain-users',
        { alice: 'wonderland' },
        { 'kubectl.kubernetes.io/last-applied-configuration': '{"stringData":{"alice":"wonderland"}}' },
      ),
    );
    await create(secret('git-credentials', { password: 'hunter2' }));
    await create(
      apiDefinition('basic-plain', {
        listenPath: '/basic-plain',
        upstream: { targets: [{ url: upstream.url }] },
        auth: { type: 'basic', basic: { secretRef: { name: 'plain-users' } } },
      }),
    );
    await eventually(() =>
      assert.ok(
        gw
          .config()
          .problems.some((p) =>
            p.startsWith(
              'ApiDefinition default/basic-plain left out: Secret default/plain-users key alice is not a bcrypt hash',
            ),
          ),
        gw.config().problems.join('\n'),
      ),
    );
    assert.equal((await call(gw.url, '/basic-plain', { headers: basic('alice', 'wonderland') })).status, 404);

    await eventually(async () => {
      const text = await readFile(join(dataDir(), 'gateway-last-good.json'), 'utf8');
      const saved = JSON.parse(text) as { inputs: { secrets: KubeObject[]; apis: KubeObject[] } };
      assert.ok(saved.inputs.apis.some((a) => a.metadata.name === 'basic-plain'));
      assert.deepEqual(saved.inputs.secrets.map((s) => s.metadata.name).sort(), ['basic-users', 'plain-users']);
      for (const plaintext of ['wonderland', 'hunter2', Buffer.from('wonderland').toString('base64'), 'last-applied'])
        assert.ok(!text.includes(plaintext), plaintext);
    });
  });

  it('without a Secret, takes the user name as a Consumer and the password as one of its API keys', async () => {
    const key = ((await create(gatehouse('ApiKey', 'alice-1', { consumer: 'alice' }))).status as { key: string }).key;
    await create(
      apiDefinition('basic-keys', {
        listenPath: '/basic-keys',
        upstream: { targets: [{ url: upstream.url }] },
        auth: { type: 'basic' },
      }),
    );
    await routed('/basic-keys');
    await eventually(async () =>
      assert.equal(
        (await call(gw.url, '/basic-keys', { headers: basic('alice', key) })).json<Echo>().headers[
          'x-gatehouse-consumer'
        ],
        'alice',
      ),
    );
    assert.equal(
      (await call(gw.url, '/basic-keys', { headers: basic('beta', key) })).status,
      401,
      "another consumer's key",
    );
  });
});
