// What a gateway identity could do before its role was cut to what a gateway does, refused now: hold the
// status Lease for 2·10⁹ s, write another Lease than its own, add 10⁶ to a consumer's quota counter, read
// a Secret no API refers to (the Git deploy key); while a real gateway running as it serves everything.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import pino from 'pino';
import { COUNTERS_PATH } from '../src/api/counters.ts';
import { writeKubeconfig } from '../src/cli/kubeconfig.ts';
import { startGateway } from '../src/gateway/server.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { eventually } from './support/eventually.ts';
import { call, startUpstream } from './support/gateway.ts';

const JSON_TYPE = { 'content-type': 'application/json' };
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/default/leases';

describe('a gateway identity', () => {
  let t: TestApiServer;
  const send = (method: string, path: string, body: unknown, token?: string) =>
    t.request(path, { method, headers: JSON_TYPE, body: JSON.stringify(body) }, token);
  const lease = (name: string, leaseDurationSeconds: number, resourceVersion?: string) => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace: 'default', ...(resourceVersion ? { resourceVersion } : {}) },
    spec: { holderIdentity: 'gw-1', leaseDurationSeconds },
  });
  const messageOf = async (res: Response) => ((await res.json()) as { message: string }).message;

  before(async () => {
    t = await startTestApiServer('memory', { tokens: ['gateway-token,gw,gw-uid,"gatehouse:gateways"'] });
  });
  after(() => t?.stop());

  it("cannot hold the status Lease for 2·10⁹ s; an election's 15 s passes, an admin is not bounded", async () => {
    const held = await send('POST', LEASES, lease('gatehouse-gateway-status', 2_000_000_000), 'gateway-token');
    assert.equal(held.status, 422);
    assert.equal(
      await messageOf(held),
      'Lease.coordination.k8s.io "gatehouse-gateway-status" is invalid: ' +
        'spec.leaseDurationSeconds: Invalid value: 2000000000: must be at most 300 for "gw", ' +
        'who is not in system:masters',
    );
    const created = await send('POST', LEASES, lease('gatehouse-gateway-status', 15), 'gateway-token');
    assert.equal(created.status, 201);
    const { metadata } = (await created.json()) as { metadata: { resourceVersion: string } };
    const renewed = lease('gatehouse-gateway-status', 2_000_000_000, metadata.resourceVersion);
    const update = await send('PUT', `${LEASES}/gatehouse-gateway-status`, renewed, 'gateway-token');
    assert.equal(update.status, 422);
    assert.equal((await send('PUT', `${LEASES}/gatehouse-gateway-status`, renewed)).status, 200);
  });

  it('reads and writes only its own Lease by name', async () => {
    assert.equal((await send('POST', LEASES, lease('controller-leader', 15))).status, 201);
    const read = await t.request(`${LEASES}/controller-leader`, {}, 'gateway-token');
    assert.equal(read.status, 403);
    assert.equal(
      await messageOf(read),
      'leases.coordination.k8s.io "controller-leader" is forbidden: ' +
        'User "gw" cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "default"',
    );
    const taken = await send('PUT', `${LEASES}/controller-leader`, lease('controller-leader', 15), 'gateway-token');
    assert.equal(taken.status, 403);
    assert.equal((await t.request(`${LEASES}/gatehouse-gateway-status`, {}, 'gateway-token')).status, 200);
  });

  it('cannot add 10⁶ to a quota counter; what a gateway serves between two exchanges is added', async () => {
    const key = 'quota:consumer/default/acme:86400000';
    const increment = (delta: number) => ({ key, window: 0, delta, expiresAt: Date.now() + 60_000 });
    const flood = await send('POST', COUNTERS_PATH, { increments: [increment(1_000_000)] }, 'gateway-token');
    assert.equal(flood.status, 403);
    assert.match(
      await messageOf(flood),
      /^counters\.gatehouse\.dev is forbidden: increments\[0\]\.delta: User "gw" may add at most \d+ /,
    );
    // Split over increments of one counter in one batch, it is refused the same.
    const tenths = Array.from({ length: 10 }, () => increment(100_000));
    const split = await send('POST', COUNTERS_PATH, { increments: tenths }, 'gateway-token');
    assert.equal(split.status, 403);
    const served = await send('POST', COUNTERS_PATH, { increments: [increment(500)] }, 'gateway-token');
    assert.equal(served.status, 200);
    assert.deepEqual(await served.json(), { totals: [500] });
    const admin = await send('POST', COUNTERS_PATH, { increments: [increment(1_000_000)] });
    assert.deepEqual(await admin.json(), { totals: [1_000_500] });
  });

  it('reads only the Secrets an API refers to, granted by name; serves every API as that identity', async () => {
    const SECRETS = '/api/v1/namespaces/default/secrets';
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    const secret = (name: string, data: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: 'default' },
      data,
    });
    const created = async (method: string, path: string, body: unknown) => {
      const res = await send(method, path, body);
      assert.equal(res.status, 201, `${method} ${path}: ${await res.text()}`);
    };
    await created('POST', SECRETS, secret('git-deploy-key', { identity: b64('-----BEGIN OPENSSH PRIVATE KEY-----') }));
    await created('POST', SECRETS, secret('users', { alice: b64(bcrypt.hashSync('wonderland', 4)) }));
    // As docs/access.md says: the namespace's owner lets the gateways read the one Secret its API uses.
    await t.kubectl([
      'create',
      'role',
      'gateway-reads-users',
      '--verb=get,list,watch',
      '--resource=secrets',
      '--resource-name=users',
    ]);
    await t.kubectl([
      'create',
      'rolebinding',
      'gateway-reads-users',
      '--role=gateway-reads-users',
      '--group=gatehouse:gateways',
    ]);
    const upstream = await startUpstream('a');
    const targets = [{ url: upstream.url }];
    const gatehouse = (kind: string, name: string, spec: Record<string, unknown>) => ({
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind,
      metadata: { name, namespace: 'default' },
      spec,
    });
    const api = (name: string, spec: Record<string, unknown>) =>
      gatehouse('ApiDefinition', name, { listenPath: `/${name}`, upstream: { targets }, ...spec });
    const APIS = '/apis/gatehouse.dev/v1alpha1/namespaces/default';
    await created(
      'POST',
      `${APIS}/apidefinitions`,
      api('locked', { auth: { type: 'basic', basic: { secretRef: { name: 'users' } } } }),
    );
    await created('POST', `${APIS}/apidefinitions`, api('open', {}));
    await created(
      'POST',
      `${APIS}/securitypolicies`,
      gatehouse('SecurityPolicy', 'callers', { apis: [{ name: 'locked' }] }),
    );
    await created('POST', `${APIS}/consumers`, gatehouse('Consumer', 'alice', { policies: ['callers'] }));

    const as = (path: string) => t.request(path, {}, 'gateway-token');
    const statuses = async (paths: string[]) => Promise.all(paths.map(async (p) => (await as(p)).status));
    assert.deepEqual(
      await statuses([
        `${SECRETS}/git-deploy-key`,
        SECRETS,
        `${SECRETS}?fieldSelector=metadata.name%3Dgit-deploy-key`,
        `${SECRETS}?watch=true&fieldSelector=metadata.name%3Dgit-deploy-key`,
        '/api/v1/secrets',
      ]),
      [403, 403, 403, 403, 403],
      'the deploy key, and any list that could hold it, is refused',
    );
    assert.deepEqual(
      await statuses([`${SECRETS}/users`, `${SECRETS}?fieldSelector=metadata.name%3Dusers`]),
      [200, 200],
      'the Secret an API refers to is read by name',
    );

    const kubeconfig = join(t.dir, 'gateway.kubeconfig');
    await writeKubeconfig(kubeconfig, t.url, t.ca, 'gateway-token');
    const logger = pino({ level: 'silent' });
    const gw = await startGateway({ kubeconfig, port: 0, dataDir: join(t.dir, 'gw'), logger });
    try {
      const basic = (password: string) => ({ authorization: `Basic ${b64(`alice:${password}`)}` });
      await eventually(async () =>
        assert.equal((await call(gw.url, '/locked', { headers: basic('wonderland') })).status, 200),
      );
      assert.equal((await call(gw.url, '/locked', { headers: basic('looking-glass') })).status, 401);
      assert.equal((await call(gw.url, '/open')).status, 200);
      assert.deepEqual(
        gw.config().inputs.secrets.map((s) => s.metadata.name),
        ['users'],
        'the gateway holds the Secret its API refers to, nothing else',
      );
    } finally {
      await gw.close();
      await upstream.close();
    }
  });
});

describe('a controller identity', () => {
  let t: TestApiServer;
  const CONTROLLER = 'system:serviceaccount:gatehouse-system:gatehouse-controller';
  const send = (method: string, path: string, body: unknown, token?: string) =>
    t.request(path, { method, headers: JSON_TYPE, body: JSON.stringify(body) }, token);
  const lease = (name: string) => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace: 'default' },
    spec: { holderIdentity: 'controller-1', leaseDurationSeconds: 15 },
  });

  before(async () => {
    t = await startTestApiServer('memory', {
      tokens: [`controller-token,${CONTROLLER},ctrl-uid,"system:serviceaccounts"`],
    });
  });
  after(() => t?.stop());

  it('reads and writes only its leader election Lease by name', async () => {
    const created = await send('POST', LEASES, lease('gatehouse-controller'), 'controller-token');
    assert.equal(created.status, 201);
    const renewed = { ...lease('gatehouse-controller'), ...((await created.json()) as object) };
    assert.equal((await send('PUT', `${LEASES}/gatehouse-controller`, renewed, 'controller-token')).status, 200);
    assert.equal((await send('POST', LEASES, lease('gatehouse-garbage-collector'))).status, 201);
    const read = await t.request(`${LEASES}/gatehouse-garbage-collector`, {}, 'controller-token');
    assert.equal(read.status, 403);
    const taken = await send(
      'PUT',
      `${LEASES}/gatehouse-garbage-collector`,
      lease('gatehouse-garbage-collector'),
      'controller-token',
    );
    assert.equal(taken.status, 403);
  });
});
