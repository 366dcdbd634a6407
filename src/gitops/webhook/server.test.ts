import { after, before, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import pino from 'pino';
import type { Secret } from '../../api/core/secret/index.ts';
import type { Receiver } from '../../api/kinds/receiver/index.ts';
import { startWebhookServer, type WebhookServer } from './server.ts';
import { readToken } from './token.ts';

const TOKEN = 'hook-secret-31';
const body = Buffer.from('{"ref":"refs/heads/main"}');
const sign = (secret: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
const receiver = {
  apiVersion: 'gatehouse.dev/v1alpha1',
  kind: 'Receiver',
  metadata: { name: 'push', namespace: 'default' },
  spec: {
    type: 'github',
    secretRef: { name: 'hook' },
    resources: [{ kind: 'GitRepository', name: 'app' }],
    events: [],
  },
} as Receiver;
const secretWith = (token: string) => {
  const data = { token: Buffer.from(token).toString('base64') };
  return { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: 'hook' }, data } as Secret;
};

let server: WebhookServer;
let secret = secretWith(TOKEN);
const triggered: string[] = [];

before(async () => {
  server = await startWebhookServer({
    host: '127.0.0.1',
    port: 0,
    deps: {
      receiver: (namespace, name) => (namespace === 'default' && name === 'push' ? receiver : undefined),
      token: (namespace, name) => readToken(secret, namespace, name),
      trigger: (namespace, name) => triggered.push(`${namespace}/${name}`),
      logger: pino({ level: 'silent' }),
    },
  });
});
after(() => server.close());

/** One push to the receiver from `localAddress` (any 127.0.0.0/8 address is loopback). */
function push(signature: string, localAddress = '127.0.0.1'): Promise<{ status: number; message: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}/hook/default/push`,
      {
        method: 'POST',
        localAddress,
        headers: { 'x-github-event': 'push', 'x-hub-signature-256': signature, 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const { message } = JSON.parse(text) as { message: string };
          resolve({ status: res.statusCode!, message });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('forged calls never use up the budget of real pushes; their own budget stops them per address', async () => {
  for (let i = 0; i < 31; i++) {
    const forged = await push(sign('wrong'), '127.0.0.2');
    assert.ok(forged.status === 401 || forged.status === 429, `forged call ${i}: ${forged.status}`);
  }
  const refused = await push(sign('wrong'), '127.0.0.2');
  assert.equal(refused.status, 429, refused.message);
  assert.match(refused.message, /failed calls from 127\.0\.0\.2/);
  // The same Receiver, from the Git host's address: the push goes through.
  const real = await push(sign(TOKEN));
  assert.equal(real.status, 202, real.message);
  assert.deepEqual(triggered, ['default/app']);
});

test('a token ending in a newline is refused, not silently failing every signature', async () => {
  secret = secretWith(`${TOKEN}\n`);
  try {
    const read = readToken(secret, 'default', 'hook');
    assert.equal(read.ok, false);
    assert.match(!read.ok ? read.message : '', /^Secret default\/hook: token ends with a line break or blank/);
    const answer = await push(sign(TOKEN), '127.0.0.3');
    assert.equal(answer.status, 503);
    assert.match(answer.message, /Receiver default\/push cannot check calls now; its status says why/);
  } finally {
    secret = secretWith(TOKEN);
  }
  assert.deepEqual(readToken(undefined, 'default', 'hook'), {
    ok: false,
    reason: 'SecretNotFound',
    message: 'Secret default/hook named by spec.secretRef not found',
  });
  assert.deepEqual(readToken(secretWith(TOKEN), 'default', 'hook'), { ok: true, token: TOKEN });
});

test('30 authenticated calls per 10 s per Receiver pass; the 31st is 429 until the window ends', async (t) => {
  // Virtual clock, started past any window the tests above opened.
  mock.timers.enable({ apis: ['Date'], now: Date.now() + 60_000 });
  t.after(() => mock.timers.reset());
  const before = triggered.length;
  for (let i = 0; i < 30; i++) assert.equal((await push(sign(TOKEN), '127.0.0.4')).status, 202, `call ${i + 1}`);
  assert.equal(triggered.length - before, 30, 'each accepted call asks for a reconcile');
  const refused = await push(sign(TOKEN), '127.0.0.4');
  assert.deepEqual(refused, { status: 429, message: 'Receiver default/push: more than 30 calls in 10s' });
  mock.timers.tick(9_999);
  assert.equal((await push(sign(TOKEN), '127.0.0.5')).status, 429, "the budget is the Receiver's, not an address's");
  mock.timers.tick(1);
  assert.equal((await push(sign(TOKEN), '127.0.0.4')).status, 202, 'a new window');
  assert.equal(triggered.length - before, 31);
});
