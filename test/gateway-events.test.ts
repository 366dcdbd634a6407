// Events on ApiDefinitions, recorded by the elected status writer among two gateways that
// run with a gateway's own rights: a real upstream that goes down and comes back, a circuit
// that opens and closes on real requests, an API left out for a missing Secret and served
// once it exists. Events are read through the API server and picked by involved object here.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import pino from 'pino';
import { eventKind, type Event } from '../src/api/core/event/index.ts';
import { leaseKind, type Lease } from '../src/api/core/lease/index.ts';
import { secretKind } from '../src/api/core/secret/index.ts';
import { apiDefinitionKind } from '../src/api/kinds/api-definition/index.ts';
import { writeKubeconfig } from '../src/cli/kubeconfig.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { KubeClient } from '../src/client/rest.ts';
import { startGateway, type Gateway } from '../src/gateway/server.ts';
import { STATUS_LEASE, STATUS_LEASE_NAMESPACE } from '../src/gateway/status-reporter.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { eventually } from './support/eventually.ts';
import { apiDefinition, call, closedPortUrl, startServer, untilServed, type TestServer } from './support/gateway.ts';

const logger = pino({ level: 'silent' });

/** An upstream at a fixed URL that a test stops and starts again; /healthz answers 200. */
async function restartable(): Promise<{ url: string; start(): Promise<void>; stop(): Promise<void> }> {
  const url = await closedPortUrl();
  let server: TestServer | undefined;
  const up = {
    url,
    async start() {
      server = await startServer(
        (req, res) => {
          req.resume();
          res.writeHead(200).end('up');
        },
        Number(new URL(url).port),
      );
    },
    async stop() {
      await server?.close();
      server = undefined;
    },
  };
  await up.start();
  return up;
}

describe('Events on ApiDefinitions', () => {
  let t: TestApiServer;
  let client: KubeClient;
  let upstream: Awaited<ReturnType<typeof restartable>>;
  const gateways: Gateway[] = [];

  const create = async (name: string, spec: Record<string, unknown> & { listenPath: string }) => {
    const obj = await client.create(apiDefinitionKind, apiDefinition(name, spec));
    for (const gw of gateways) await untilServed(gw, obj);
    return obj;
  };
  /** The Events about API `name` with `reason`. */
  const events = async (name: string, reason: string) =>
    (await client.list<Event>(eventKind, { namespace: 'default' })).items.filter(
      (e) => e.involvedObject.kind === 'ApiDefinition' && e.involvedObject.name === name && e.reason === reason,
    );
  /** Waits for exactly one Event about `name` with `reason`, seen `count` times, and returns it. */
  const expectEvent = (name: string, reason: string, count = 1) =>
    eventually(
      async () => {
        const found = await events(name, reason);
        assert.equal(found.length, 1, `one ${reason} Event about ${name}: ${JSON.stringify(found)}`);
        assert.equal(found[0].count, count, `${reason} about ${name} seen ${count} times`);
        return found[0];
      },
      { attempts: 200 },
    );
  const leaseHolder = async () =>
    (await client.get<Lease>(leaseKind, STATUS_LEASE, STATUS_LEASE_NAMESPACE)).spec?.holderIdentity;
  /** The gateway that holds the status writer's lease. */
  const writer = () =>
    eventually(async () => {
      const metrics = await Promise.all(gateways.map(async (gw) => (await call(gw.internalUrl, '/metrics')).text));
      const leading = metrics.map((text) => /^gatehouse_gateway_status_leader 1$/m.test(text));
      assert.equal(leading.filter(Boolean).length, 1, 'one gateway writes status');
      return gateways[leading.indexOf(true)];
    });

  before(async () => {
    t = await startTestApiServer('memory', { tokens: ['gateway-token,gw,gw-uid,"gatehouse:gateways"'] });
    client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    upstream = await restartable();
    // With a gateway's own rights: recording Events is one of them.
    const kubeconfig = join(t.dir, 'gateway-kubeconfig');
    await writeKubeconfig(kubeconfig, t.url, t.ca, 'gateway-token');
    for (const n of [0, 1]) {
      // A lease long enough that a loaded machine's slow renewal never hands the writing over mid-test: the
      // Events of a test come from the gateway that held it when the test began.
      const statusElection = { leaseDurationMs: 15_000, retryPeriodMs: 100 };
      const dataDir = join(t.dir, `gw${n}`);
      gateways.push(await startGateway({ kubeconfig, port: 0, dataDir, logger, statusElection }));
    }
  });
  after(async () => {
    for (const gw of gateways) await gw.close();
    await upstream.stop();
    await client.close();
    await t.stop();
  });

  it('records a target leaving rotation and back once, however many gateways check, and counts repeats', async () => {
    const thresholds = { healthyThreshold: 1, unhealthyThreshold: 1 };
    // One failed probe takes the target out: a probe's timeout generous enough that only the stopped upstream fails
    // one (a loaded machine answered a probe after 500 ms, and an extra out-and-back made the counts x3).
    const healthCheck = { path: '/healthz', interval: '100ms', timeout: '10s', ...thresholds };
    const targets = [{ url: upstream.url }];
    const api = await create('checked', { listenPath: '/checked', upstream: { targets, healthCheck } });
    await writer();
    await upstream.stop();
    const down = await expectEvent('checked', 'UpstreamUnhealthy');
    const outOfRotation = `target ${upstream.url} fails its health check (GET /healthz): out of rotation`;
    assert.deepEqual(
      [down.type, down.message, down.source?.component, down.reportingInstance],
      ['Warning', outOfRotation, 'gatehouse-gateway', await leaseHolder()],
    );
    const { resourceVersion } = down.involvedObject;
    const { uid } = api.metadata;
    const apiVersion = 'gatehouse.dev/v1alpha1';
    const involved = { apiVersion, kind: 'ApiDefinition', name: 'checked', namespace: 'default', uid, resourceVersion };
    assert.deepEqual(down.involvedObject, involved);
    await upstream.start();
    const back = await expectEvent('checked', 'UpstreamHealthy');
    const healthyAgain = `target ${upstream.url} passes its health check (GET /healthz) again: back in rotation`;
    assert.deepEqual([back.type, back.message], ['Normal', healthyAgain]);

    // The same change again is the same Event seen twice, as kube's recorder counts it.
    await upstream.stop();
    const again = await expectEvent('checked', 'UpstreamUnhealthy', 2);
    assert.equal(again.metadata.name, down.metadata.name);
    assert.ok(again.lastTimestamp! >= down.lastTimestamp!, 'lastTimestamp moves on');
    await upstream.start();
    await expectEvent('checked', 'UpstreamHealthy', 2);
    // What a person sees: kubectl describe lists them, with their counts.
    const described = await t.kubectl(['describe', 'apidefinition', 'checked']);
    assert.match(described, /^ {2}Warning {2}UpstreamUnhealthy +\S+ \(x2 over \S+\) +gatehouse-gateway +target /m);
    assert.match(described, /^ {2}Normal {3}UpstreamHealthy +\S+ \(x2 over \S+\) +gatehouse-gateway +target /m);
  });

  it("records a circuit opening and closing on the writer's own traffic", async () => {
    const circuitBreaker = { consecutiveFailures: 1, openDuration: '200ms', halfOpenRequests: 1 };
    const targets = [{ url: upstream.url }];
    await create('breaking', { listenPath: '/breaking', upstream: { targets, circuitBreaker } });
    const leader = await writer();
    await upstream.stop();
    assert.equal((await call(leader.url, '/breaking')).status, 502);
    const opened = await expectEvent('breaking', 'CircuitOpened');
    const url = upstream.url;
    const openedMessage = `circuit of target ${url} opened: its requests failed; skipped until trial requests succeed`;
    assert.deepEqual([opened.type, opened.message], ['Warning', openedMessage]);
    await upstream.start();
    // Once openDuration is over, a trial request closes the circuit.
    await eventually(
      async () => {
        await call(leader.url, '/breaking');
        assert.notDeepEqual(await events('breaking', 'CircuitClosed'), []);
      },
      { attempts: 200 },
    );
    const closed = await expectEvent('breaking', 'CircuitClosed');
    const closedMessage = `circuit of target ${upstream.url} closed: trial requests succeeded`;
    assert.deepEqual([closed.type, closed.message], ['Normal', closedMessage]);
    assert.deepEqual(await events('breaking', 'CircuitOpened'), [opened], 'one opening, recorded once');
  });

  it('records why an API is not served, and when it is served again', async () => {
    // The gateways may read the Secret the API names, by name (docs/access.md).
    const role = ['create', 'role', 'gateway-reads-users', '--verb=get,list,watch', '--resource=secrets'];
    await t.kubectl([...role, '--resource-name=users']);
    const binding = ['create', 'rolebinding', 'gateway-reads-users', '--role=gateway-reads-users'];
    await t.kubectl([...binding, '--group=gatehouse:gateways']);
    const auth = { type: 'basic', basic: { secretRef: { name: 'users' } } };
    await create('locked', { listenPath: '/locked', auth, upstream: { targets: [{ url: upstream.url }] } });
    const left = await expectEvent('locked', 'NotServed');
    const why =
      'left out: Secret default/users named in spec.auth.basic.secretRef does not exist or the gateway may not read it';
    assert.deepEqual([left.type, left.message], ['Warning', why]);
    const users = { alice: bcrypt.hashSync('wonderland', 4) };
    const metadata = { name: 'users', namespace: 'default' };
    await client.create(secretKind, { apiVersion: 'v1', kind: 'Secret', metadata, stringData: users });
    const served = await expectEvent('locked', 'Served');
    const routed = 'served on the public and internal listeners at /locked';
    assert.deepEqual([served.type, served.message], ['Normal', routed]);
    // A new API served as asked has its status, and no Event.
    assert.deepEqual([...(await events('checked', 'Served')), ...(await events('checked', 'NotServed'))], []);
  });
});
