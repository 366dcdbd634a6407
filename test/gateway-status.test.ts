// ApiDefinition status written by one elected gateway, and the probe subresource, against
// a real API server: two gateways on one lease (one writes, the other takes over when it
// closes), upstreams the tests stop and start again, and probes sent through the API
// server, which the gateway answers through the Kubernetes API.
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { leaseKind, type Lease } from '../src/api/core/lease/index.ts';
import { namespaceKind } from '../src/api/core/namespace/index.ts';
import type { KubeObject } from '../src/api/kind.ts';
import type { AuditEvent } from '../src/apiserver/audit/event.ts';
import { parseAuditPolicy } from '../src/apiserver/audit/policy.ts';
import { apiDefinitionKind, type ApiDefinition } from '../src/api/kinds/api-definition/index.ts';
import { roleBindingKind, roleKind } from '../src/api/rbac/kinds.ts';
import type { Condition } from '../src/api/status.ts';
import { writeKubeconfig } from '../src/cli/kubeconfig.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { KubeClient } from '../src/client/rest.ts';
import { startGateway, type Gateway, type GatewayOptions } from '../src/gateway/server.ts';
import { statusLeaseName } from '../src/gateway/status-reporter.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { eventually } from './support/eventually.ts';
import { apiDefinition, call, closedPortUrl, startServer, untilServed, type TestServer } from './support/gateway.ts';

const logger = pino({ level: 'silent' });
// Hand-overs here come from a closing writer giving the lease up; a lease this long cannot lapse between two
// renewals of a slow, loaded machine and hand the writing over mid-test.
const election: GatewayOptions['statusElection'] = { leaseDurationMs: 15_000, retryPeriodMs: 100 };
const LEASE_READS = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages:
  - RequestReceived
rules:
  - level: Metadata
    verbs: [get]
    resources:
      - group: coordination.k8s.io
        resources: [leases]
`;

/** A loopback upstream that records what it received and can be stopped and started again
 * at the same URL; GET /healthz answers 200 while it runs. */
interface Recording {
  url: string;
  seen: Array<{ url: string; headers: IncomingHttpHeaders }>;
  stop(): Promise<void>;
  start(): Promise<void>;
}

async function recording(name: string): Promise<Recording> {
  let server: TestServer | undefined;
  const port = Number(new URL(await closedPortUrl()).port);
  const r: Recording = {
    url: `http://127.0.0.1:${port}`,
    seen: [],
    async start() {
      server = await startServer((req, res) => {
        if (req.url !== '/healthz') r.seen.push({ url: req.url!, headers: req.headers });
        req.resume();
        res.writeHead(200, { 'content-type': 'text/plain' }).end(name);
      }, port);
    },
    async stop() {
      await server?.close();
      server = undefined;
    },
  };
  await r.start();
  return r;
}

/** Fields of a condition that do not depend on time. */
const gist = (c: Condition | undefined) =>
  c && { status: c.status, reason: c.reason, message: c.message, observedGeneration: c.observedGeneration };

async function metric(gw: Gateway, name: string): Promise<number> {
  const text = (await call(gw.internalUrl, '/metrics')).text;
  const line = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  assert.ok(line, `${name} in /metrics`);
  return Number(line[1]);
}

describe('ApiDefinition status from one elected gateway', () => {
  let t: TestApiServer;
  let client: KubeClient;
  let a: Recording;
  let b: Recording;
  let auditDir: string;
  const gateways: Gateway[] = [];
  const closed = new Set<Gateway>();

  const create = async (name: string, spec: Record<string, unknown> & { listenPath: string }) => {
    const obj = await client.create(apiDefinitionKind, apiDefinition(name, spec));
    for (const gw of gateways) if (!closed.has(gw)) await untilServed(gw, obj);
    return obj;
  };
  const condition = async (name: string, type: string) =>
    gist(
      (await client.get<ApiDefinition>(apiDefinitionKind, name, 'default')).status?.conditions?.find(
        (c) => c.type === type,
      ),
    );
  const expectCondition = (name: string, type: string, expected: Partial<Condition>) =>
    eventually(async () => {
      const found = await condition(name, type);
      for (const [key, value] of Object.entries(expected))
        assert.deepEqual(found?.[key as keyof typeof found], value, `${name} ${type}.${key}: ${JSON.stringify(found)}`);
    });
  /** The gateway writing status, after checking it is the only one that ever wrote. */
  const writer = async () => {
    const open = gateways.filter((gw) => !closed.has(gw));
    const leading = await Promise.all(open.map((gw) => metric(gw, 'gatehouse_gateway_status_leader')));
    assert.deepEqual(leading.filter((l) => l === 1).length, 1, 'exactly one leader');
    const leader = open[leading.indexOf(1)];
    for (const gw of open) {
      if (gw !== leader)
        assert.equal(
          await metric(gw, 'gatehouse_gateway_status_writes_total'),
          0,
          'a gateway that never led never wrote',
        );
    }
    return leader;
  };

  /** Reads of the status lease by anyone, from the API server's audit log. */
  const leaseReads = async () => {
    const text = await readFile(join(auditDir, 'audit.log'), 'utf8').catch(() => '');
    const events = text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as AuditEvent);
    return events.filter((e) => e.verb === 'get' && e.objectRef?.name === 'gatehouse-gateway-status').length;
  };

  before(async () => {
    auditDir = await mkdtemp(join(tmpdir(), 'gatehouse-status-audit-'));
    const policy = parseAuditPolicy(LEASE_READS, 'lease reads');
    t = await startTestApiServer('memory', { audit: { path: join(auditDir, 'audit.log'), policy } });
    client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    // Held by someone else until the first test lets go of it.
    await client.create(leaseKind, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'gatehouse-gateway-status', namespace: 'default' },
      spec: { holderIdentity: 'someone-else', leaseDurationSeconds: 3600, renewTime: new Date().toISOString() },
    } as Lease);
    [a, b] = await Promise.all([recording('a'), recording('b')]);
    for (const n of [0, 1])
      gateways.push(
        await startGateway({
          kubeconfig: t.kubeconfigPath,
          port: 0,
          dataDir: join(t.dir, `gw${n}`),
          logger,
          statusElection: election,
        }),
      );
  });
  after(async () => {
    for (const gw of gateways) if (!closed.has(gw)) await gw.close();
    await Promise.all([a.stop(), b.stop()]);
    await client.close();
    await t.stop();
    await rm(auditDir, { recursive: true, force: true });
  });

  it('writes nothing while another holds the lease; the gateway that takes it writes every status', async () => {
    await create('first', { listenPath: '/shop', upstream: { targets: [{ url: a.url }] } });
    // Both gateways serve it. Each goes on reading the lease every 100 ms and finding it held:
    // once they have read it three times each since, a writer's first pass (at most 200 ms
    // after a swap) would have written.
    const served = await leaseReads();
    const readAgain = async () => assert.ok((await leaseReads()) >= served + 6, 'the gateways read the held lease');
    await eventually(readAgain, { attempts: 400 });
    assert.equal(
      (await client.get<ApiDefinition>(apiDefinitionKind, 'first', 'default')).status,
      undefined,
      'no status from gateways that do not hold the lease',
    );
    for (const gw of gateways) assert.equal(await metric(gw, 'gatehouse_gateway_status_leader'), 0);
    const held = await client.get<Lease>(leaseKind, 'gatehouse-gateway-status', 'default');
    await client.update(leaseKind, { ...held, spec: { ...held.spec, holderIdentity: '' } });
    await expectCondition('first', 'Ready', { status: 'True', reason: 'Served' });
    await writer();
  });

  it('reports Ready for served APIs, and why the others are left out', async () => {
    await expectCondition('first', 'Ready', {
      status: 'True',
      reason: 'Served',
      message: 'served on the public and internal listeners at /shop',
      observedGeneration: 1,
    });
    await expectCondition('first', 'UpstreamHealthy', { status: 'Unknown', reason: 'NoHealthCheck' });
    await create('second', { listenPath: '/shop/', upstream: { targets: [{ url: a.url }] } });
    await create('off', { listenPath: '/off', active: false, upstream: { targets: [{ url: a.url }] } });
    await create('hidden', {
      listenPath: '/hidden',
      visibility: 'internal',
      hosts: ['admin.example.com'],
      upstream: { targets: [{ url: a.url }] },
    });
    await create('locked', {
      listenPath: '/locked',
      auth: { type: 'basic', basic: { secretRef: { name: 'missing' } } },
      upstream: { targets: [{ url: a.url }] },
    });
    await expectCondition('second', 'Ready', {
      status: 'False',
      reason: 'Shadowed',
      message: 'not routed: default/first, an older API, already serves /shop/ on the same host',
    });
    await expectCondition('off', 'Ready', {
      status: 'False',
      reason: 'Inactive',
      message: 'not routed: spec.active is false',
    });
    await expectCondition('off', 'UpstreamHealthy', { status: 'Unknown', reason: 'NotServed' });
    await expectCondition('hidden', 'Ready', {
      status: 'True',
      reason: 'Served',
      message: 'served on the internal listener at /hidden (hosts admin.example.com)',
    });
    await expectCondition('locked', 'Ready', {
      status: 'False',
      reason: 'Invalid',
      message:
        'left out: Secret default/missing named in spec.auth.basic.secretRef does not exist or the gateway may not read it',
    });

    // A spec change is observed; the object stays as written (status is its own subresource).
    const patched = await client.patch<ApiDefinition>(apiDefinitionKind, 'first', { spec: { stripListenPath: true } });
    assert.equal(patched.metadata.generation, 2);
    await expectCondition('first', 'Ready', { status: 'True', observedGeneration: 2 });
    assert.equal(
      (await client.get<ApiDefinition>(apiDefinitionKind, 'first', 'default')).status?.observedGeneration,
      2,
    );

    const leader = await writer();
    assert.ok((await metric(leader, 'gatehouse_gateway_status_writes_total')) >= 6, 'the leader wrote every status');
  });

  it('follows the health checks in UpstreamHealthy', async () => {
    const healthCheck = {
      path: '/healthz',
      interval: '100ms',
      timeout: '500ms',
      healthyThreshold: 1,
      unhealthyThreshold: 1,
    };
    await create('checked', {
      listenPath: '/checked',
      upstream: { targets: [{ url: a.url }, { url: b.url }], healthCheck },
    });
    await expectCondition('checked', 'UpstreamHealthy', {
      status: 'True',
      reason: 'Healthy',
      message: '2 of 2 targets pass the check of /healthz',
    });
    await b.stop();
    await expectCondition('checked', 'UpstreamHealthy', {
      status: 'False',
      reason: 'Degraded',
      message: `1 of 2 targets fail the check of /healthz: ${b.url}`,
    });
    await expectCondition('checked', 'Ready', { status: 'True', reason: 'Served' });
    await b.start();
    await expectCondition('checked', 'UpstreamHealthy', { status: 'True', reason: 'Healthy' });
    await writer();
  });

  it("publishes the writer's request and 5xx counts in status.traffic, only for APIs that were called", async () => {
    const gw = await writer();
    await create('counted', { listenPath: '/counted', upstream: { targets: [{ url: a.url }] }, maxBodyBytes: 1 });
    await create('broken', { listenPath: '/broken', upstream: { targets: [{ url: await closedPortUrl() }] } });
    await create('idle', { listenPath: '/idle', upstream: { targets: [{ url: a.url }] } });
    // Two answers of the upstream, a refusal of the gateway's own (413: a request, not a server error), and a
    // 502 of the gateway for a target nobody listens on.
    const statuses = [
      (await call(gw.url, '/counted/1')).status,
      (await call(gw.url, '/counted/2')).status,
      (await call(gw.url, '/counted/3', { method: 'POST', body: 'too large' })).status,
      (await call(gw.url, '/broken/1')).status,
    ];
    assert.deepEqual(statuses, [200, 200, 413, 502]);
    const traffic = async (name: string) =>
      (await client.get<ApiDefinition>(apiDefinitionKind, name, 'default')).status?.traffic;
    await eventually(
      async () => {
        const [counted, broken] = [await traffic('counted'), await traffic('broken')];
        assert.deepEqual([counted?.requests, counted?.serverErrors], [3, 0]);
        assert.deepEqual([broken?.requests, broken?.serverErrors], [1, 1]);
        assert.equal(counted?.since, broken?.since);
      },
      { attempts: 300 },
    );
    assert.equal(await traffic('idle'), undefined, 'an API nobody called has no counts');
  });

  it('hands the writing over when the leader closes, and the new one keeps status current', async () => {
    const leader = await writer();
    const follower = gateways.find((gw) => gw !== leader)!;
    const lease = await client.get<Lease>(leaseKind, 'gatehouse-gateway-status', 'default');
    assert.ok(lease.spec?.holderIdentity, 'the lease names its holder');
    await leader.close();
    closed.add(leader);
    await eventually(async () => assert.equal(await metric(follower, 'gatehouse_gateway_status_leader'), 1));
    assert.notEqual(
      (await client.get<Lease>(leaseKind, 'gatehouse-gateway-status', 'default')).spec?.holderIdentity,
      lease.spec?.holderIdentity,
    );

    await create('late', { listenPath: '/late', upstream: { targets: [{ url: a.url }] } });
    await expectCondition('late', 'Ready', { status: 'True', reason: 'Served', observedGeneration: 1 });
    await b.stop();
    await expectCondition('checked', 'UpstreamHealthy', { status: 'False', reason: 'Degraded' });
    await b.start();
    assert.ok((await metric(follower, 'gatehouse_gateway_status_writes_total')) >= 2, 'the new leader writes');
  });
});

describe('probe subresource', () => {
  let t: TestApiServer;
  let client: KubeClient;
  let gw: Gateway;
  let a: Recording;
  let b: Recording;

  const probe = (name: string, body?: unknown, namespace = 'default') =>
    t.request(`/apis/gatehouse.dev/v1alpha1/namespaces/${namespace}/apidefinitions/${name}/probe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const create = async (obj: KubeObject) => untilServed(gw, await client.create(apiDefinitionKind, obj));

  before(async () => {
    const tokens = ['gateway-token,gw,gw-uid,"gatehouse:gateways"'];
    t = await startTestApiServer('memory', { delegation: { claimTimeoutMs: 3000 }, tokens });
    client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    [a, b] = await Promise.all([recording('a'), recording('b')]);
    // With a gateway's own rights, not an administrator's; scoped to one namespace, so it
    // elects its writer over a lease of its own, which a Role of its own grants by name.
    const rbac = 'rbac.authorization.k8s.io';
    const scopedLease = { name: 'scoped-status-lease', namespace: 'default' };
    await client.create(roleKind, {
      apiVersion: `${rbac}/v1`,
      kind: 'Role',
      metadata: scopedLease,
      rules: [
        {
          apiGroups: ['coordination.k8s.io'],
          resources: ['leases'],
          verbs: ['get', 'update'],
          resourceNames: [statusLeaseName({ namespace: 'default' })],
        },
      ],
    });
    await client.create(roleBindingKind, {
      apiVersion: `${rbac}/v1`,
      kind: 'RoleBinding',
      metadata: scopedLease,
      roleRef: { apiGroup: rbac, kind: 'Role', name: scopedLease.name },
      subjects: [{ apiGroup: rbac, kind: 'Group', name: 'gatehouse:gateways' }],
    });
    const kubeconfig = join(t.dir, 'gateway-kubeconfig');
    await writeKubeconfig(kubeconfig, t.url, t.ca, 'gateway-token');
    gw = await startGateway({
      kubeconfig,
      port: 0,
      dataDir: t.dir,
      logger,
      namespace: 'default',
      statusElection: election,
    });
    await create(
      apiDefinition('pair', {
        listenPath: '/pair',
        stripListenPath: true,
        hosts: ['pair.example.com'],
        upstream: { targets: [{ url: a.url }, { url: b.url }] },
      }),
    );
  });
  after(async () => {
    await gw.close();
    await Promise.all([a.stop(), b.stop()]);
    await client.close();
    await t.stop();
  });

  it('sends one request through the live config and names the target that answered', async () => {
    const targets = new Set<string>();
    for (let i = 0; i < 40 && targets.size < 2; i++) {
      const before = { [a.url]: a.seen.length, [b.url]: b.seen.length };
      const res = await probe('pair', { path: '/hello?x=1', headers: { 'X-Trace': `t${i}` } });
      assert.equal(res.status, 200);
      const result = (await res.json()) as Record<string, unknown>;
      const { latencyMs, target, ...rest } = result;
      assert.deepEqual(rest, {
        kind: 'ProbeResult',
        apiVersion: 'gatehouse.dev/v1alpha1',
        api: 'default/pair',
        generation: gw.config().generation,
        listener: 'public',
        request: { method: 'GET', path: '/pair/hello?x=1' },
        status: 200,
      });
      assert.ok(typeof latencyMs === 'number' && latencyMs > 0);
      const answering =
        target === a.url ? a : target === b.url ? b : assert.fail(`target ${String(target)} is one of the API's`);
      assert.equal(
        answering.seen.length,
        before[answering.url] + 1,
        'the target named is the one that got the request',
      );
      const got = answering.seen.at(-1)!;
      assert.equal(got.url, '/hello?x=1');
      assert.equal(got.headers['x-trace'], `t${i}`);
      assert.equal(got.headers['x-forwarded-host'], 'pair.example.com', "sent with the API's host");
      assert.equal(got.headers['x-gatehouse-probe'], undefined, 'the probe token stays in the gateway');
      targets.add(answering.url);
    }
    assert.deepEqual([...targets].sort(), [a.url, b.url].sort());

    // Other requests are left as they were, a guessed token included.
    const plainHeaders: Array<Record<string, string>> = [
      { host: 'pair.example.com' },
      { host: 'pair.example.com', 'x-gatehouse-probe': '0'.repeat(32) },
    ];
    for (const headers of plainHeaders) {
      const plain = await call(gw.url, '/pair/hello', { headers });
      assert.equal(plain.status, 200);
      assert.equal(plain.headers['x-gatehouse-target'], undefined);
    }
  });

  it("probes internal APIs on the internal listener and reports the gateway's own answers as errors", async () => {
    await create(
      apiDefinition('inside', {
        listenPath: '/inside',
        visibility: 'internal',
        upstream: { targets: [{ url: await closedPortUrl() }] },
      }),
    );
    const res = await probe('inside', { method: 'POST', path: '/orders' });
    assert.equal(res.status, 200);
    const result = (await res.json()) as Record<string, unknown>;
    assert.equal(result.listener, 'internal');
    assert.deepEqual(result.request, { method: 'POST', path: '/inside/orders' });
    assert.equal(result.status, 502);
    assert.equal(result.target, undefined);
    assert.equal(
      result.error,
      'UPSTREAM_UNREACHABLE: the upstream of default/inside could not be reached (ECONNREFUSED)',
    );
  });

  it('answers 404 naming an API that does not exist or not served, 503 when no gateway has it in scope', async () => {
    const missing = await probe('nope');
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      reason: 'NotFound',
      code: 404,
      message: 'apidefinitions.gatehouse.dev "nope" not found',
      details: { name: 'nope', group: 'gatehouse.dev', kind: 'apidefinitions' },
    });

    await create(apiDefinition('off', { listenPath: '/off', active: false, upstream: { targets: [{ url: a.url }] } }));
    const off = await probe('off');
    assert.equal(off.status, 404);
    const status = (await off.json()) as { reason: string; message: string; details: { name: string } };
    assert.deepEqual(
      [status.reason, status.message, status.details.name],
      ['NotFound', 'ApiDefinition default/off is not served by this gateway: not routed: spec.active is false', 'off'],
    );

    await client.create(namespaceKind, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'elsewhere' } });
    await client.create(
      apiDefinitionKind,
      apiDefinition('away', { listenPath: '/away', upstream: { targets: [{ url: a.url }] } }, 'elsewhere'),
    );
    // No gateway serves that namespace, so none takes the probe.
    const away = await probe('away', undefined, 'elsewhere');
    assert.equal(away.status, 503);
    const unserved = (await away.json()) as { reason: string; message: string; details: { name: string } };
    assert.deepEqual([unserved.reason, unserved.details.name], ['ServiceUnavailable', 'away']);
    assert.match(unserved.message, /^ApiDefinition elsewhere\/away probe: no gateway took the request within 3 s/);
  });

  it('answers 400 naming what is wrong with the request asked for', async () => {
    const badPath = await probe('pair', { path: 'hello' });
    assert.equal(badPath.status, 400);
    const status = (await badPath.json()) as {
      reason: string;
      message: string;
      details: { causes: Array<{ field: string }> };
    };
    assert.equal(status.reason, 'BadRequest');
    assert.match(status.message, /path: must be an absolute path/);
    assert.deepEqual(
      status.details.causes.map((c) => c.field),
      ['path'],
    );

    const framing = await probe('pair', { headers: { 'Transfer-Encoding': 'chunked' } });
    assert.equal(framing.status, 400);
    assert.match(
      ((await framing.json()) as { message: string }).message,
      /^ApiDefinition default\/pair probe: .*transfer-encoding/,
    );
  });

  it('writes the status of the APIs of its own namespace only, elected over the lease of its scope', async () => {
    // "away" (namespace elsewhere) exists already; a Ready "later" proves a pass since.
    await create(apiDefinition('later', { listenPath: '/later', upstream: { targets: [{ url: a.url }] } }));
    await eventually(async () =>
      assert.equal(
        (await client.get<ApiDefinition>(apiDefinitionKind, 'later', 'default')).status?.conditions?.find(
          (c) => c.type === 'Ready',
        )?.status,
        'True',
      ),
    );
    assert.equal((await client.get<ApiDefinition>(apiDefinitionKind, 'away', 'elsewhere')).status, undefined);
    const lease = await client.get<Lease>(leaseKind, statusLeaseName({ namespace: 'default' }), 'default');
    assert.ok(lease.spec?.holderIdentity);
    assert.notEqual(lease.metadata.name, 'gatehouse-gateway-status');
  });
});
