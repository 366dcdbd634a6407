// Rollback of a Sync: by the rollback subresource and by `gatehouse rollback sync`, held until a newer revision
// or `gatehouse resume sync`; and automatically, when an applied revision's upstream is down, or answers too
// many 5xx in spec.rollback.window while passing its health checks. A real Git
// repository, the real API server, the GitOps controller, the gateway and upstreams, all on loopback.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { KubeObject } from '../src/api/kind.ts';
import { eventKind } from '../src/api/core/event/index.ts';
import { gitRepositoryKind } from '../src/api/kinds/git-repository/index.ts';
import { syncKind, type Sync } from '../src/api/kinds/sync/index.ts';
import { apiDefinitionKind, type ApiDefinition } from '../src/api/kinds/api-definition/index.ts';
import { findCondition } from '../src/api/status.ts';
import { ApiStatusError } from '../src/client/errors.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { KubeClient } from '../src/client/rest.ts';
import { startGateway, type Gateway } from '../src/gateway/server.ts';
import { startController, type GitOpsController } from '../src/gitops/manager.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { gatehouse } from './support/cli.ts';
import { eventually } from './support/eventually.ts';
import { call, closedPortUrl, startServer, startUpstream, type Echo, type Upstream } from './support/gateway.ts';
import { commit, fileUrl, makeRepo } from './support/git-servers.ts';
import { apiManifest } from './support/manifests.ts';

const silent = pino({ level: 'silent' });
const NS = 'default';

describe('Sync rollback', () => {
  let t: TestApiServer;
  let client: KubeClient;
  let gw: Gateway;
  let controller: GitOpsController;
  let a: Upstream;
  let b: Upstream;
  let c: Upstream;
  let dir: string;

  before(async () => {
    t = await startTestApiServer();
    client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-rollback-'));
    [a, b, c] = await Promise.all([startUpstream('a'), startUpstream('b'), startUpstream('c')]);
    gw = await startGateway({ kubeconfig: t.kubeconfigPath, port: 0, dataDir: join(dir, 'gateway'), logger: silent });
    controller = await startController({ kubeconfig: t.kubeconfigPath, dataDir: join(dir, 'ctl'), logger: silent });
  });
  after(async () => {
    await controller.close();
    await gw.close();
    await Promise.all([a.close(), b.close(), c.close()]);
    await client.close();
    await t.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => gatehouse([...args, '--kubeconfig', t.kubeconfigPath, '-n', NS]);
  const getSync = (name: string) => client.get<Sync>(syncKind, name, NS);
  const served = async (path: string) => {
    const answer = await call(gw.url, path);
    return answer.status === 200 ? answer.json<Echo>().upstream : `HTTP ${answer.status}`;
  };
  const servedBy = (path: string, upstream: string) =>
    eventually(async () => assert.equal(await served(path), upstream), { attempts: 400 });
  /** The source fetched and the Sync reconciled now, as after a push and its webhook. */
  const pushed = (sync: string) => client.subresource<Sync>(syncKind, sync, 'reconcile', NS, { withSource: true });
  const revision = (sha: string) => `main@sha1:${sha}`;
  const rollback = (sync: string, body: Record<string, unknown>) =>
    client.subresource<Sync>(syncKind, sync, 'rollback', NS, body);
  const refusal = async (sync: string, body: Record<string, unknown>) => {
    const err = await rollback(sync, body).then(
      () => assert.fail('the rollback was accepted'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ApiStatusError, String(err));
    const causes = (err.status.details?.causes ?? []) as { field?: string }[];
    const messages = causes.map((c) => (c as { message?: string }).message);
    return { code: err.code, reason: err.reason, message: err.message, fields: causes.map((c) => c.field), messages };
  };

  async function source(name: string, repo: string): Promise<void> {
    const spec = { url: fileUrl(repo), ref: { branch: 'main' }, interval: '10m' };
    await client.create(gitRepositoryKind, {
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'GitRepository',
      metadata: { name, namespace: NS },
      spec,
    } as KubeObject);
  }
  async function sync(name: string, extra: Record<string, unknown> = {}): Promise<void> {
    await client.create(syncKind, {
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'Sync',
      metadata: { name, namespace: NS },
      spec: { sourceRef: { name }, path: './apis', interval: '10m', prune: true, ...extra },
    } as KubeObject);
  }

  it('rolls back by subresource and by CLI, holds until a newer revision or resume, refuses bad input', async () => {
    const repo = join(dir, 'platform');
    const first = await makeRepo(repo, { 'apis/orders.yaml': apiManifest('orders', '/orders', a.url) });
    await source('platform', repo);
    await sync('platform');
    await servedBy('/orders', 'a');
    const second = await commit(repo, { 'apis/orders.yaml': apiManifest('orders', '/orders', b.url) }, 'to b');
    await pushed('platform');
    await servedBy('/orders', 'b');

    // Bad input names the field: the API server checks the body, the controller the history.
    const neither = await refusal('platform', {});
    assert.equal(neither.code, 400);
    assert.deepEqual(neither.fields, ['revision']);
    const both = await refusal('platform', { revision: revision(first), steps: 1 });
    assert.equal(both.code, 400);
    assert.match(both.message, /Sync default\/platform rollback: revision: give either revision or steps, not both/);
    const unknown = await refusal('platform', { revision: revision('0'.repeat(40)) });
    assert.deepEqual([unknown.code, unknown.reason], [404, 'NotFound']);
    assert.match(unknown.message, /^Sync default\/platform: revision: main@sha1:0{40} is not in status\.history/);
    const beyond = await refusal('platform', { steps: 2 });
    assert.deepEqual([beyond.code, beyond.reason], [422, 'Invalid']);
    assert.match(beyond.message, /steps: 2 goes beyond status\.history, which holds 1 revision applied before/);
    assert.deepEqual(beyond.messages, [beyond.message]); // what kubectl prints of an Invalid Status
    const current = await refusal('platform', { revision: revision(second) });
    assert.equal(current.code, 422);

    // One step back: the first revision serves again, recorded with who asked and why.
    const whoami = await t.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    const rolled = await rollback('platform', { steps: 1, reason: 'orders errors after deploy' });
    await servedBy('/orders', 'a');
    assert.deepEqual(
      { ...rolled.status?.rolledBackTo, time: undefined },
      {
        revision: revision(first),
        from: revision(second),
        by: whoami,
        reason: 'orders errors after deploy',
        time: undefined,
      },
    );
    const ready = findCondition(rolled.status, 'Ready');
    assert.deepEqual([ready?.status, ready?.reason], ['True', 'RolledBack']);
    assert.equal(rolled.status?.history?.[0]?.status, 'RolledBack');
    assert.equal(rolled.status?.history?.[0]?.revision, revision(first));

    // Held: fetching the source again (it still names the second revision) does not undo the rollback.
    await pushed('platform');
    assert.equal(await served('/orders'), 'a');
    assert.equal((await getSync('platform')).status?.rolledBackTo?.revision, revision(first));
    const listed = await cli('get', 'syncs');
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`rolled back by ${whoami} to ${revision(first)} from ${revision(second)}`));

    // Resumed: the source's revision applies again.
    const resumed = await cli('resume', 'sync', 'platform');
    assert.equal(resumed.code, 0, resumed.stderr);
    await servedBy('/orders', 'b');
    assert.equal((await getSync('platform')).status?.rolledBackTo, undefined);

    // By CLI, to a named revision; a newer commit ends the rollback.
    const byCli = await cli('rollback', 'sync', 'platform', '--to', revision(first));
    assert.equal(byCli.code, 0, byCli.stderr);
    assert.match(byCli.stderr, new RegExp(`rolled back by ${whoami} to ${revision(first)}`));
    await servedBy('/orders', 'a');
    const badCli = await cli('rollback', 'sync', 'platform', '--steps', '9');
    assert.equal(badCli.code, 1);
    assert.match(badCli.stderr, /steps: 9 goes beyond status\.history/);
    await commit(repo, { 'apis/orders.yaml': apiManifest('orders', '/orders', c.url) }, 'to c');
    await pushed('platform');
    await servedBy('/orders', 'c');
    assert.equal((await getSync('platform')).status?.rolledBackTo, undefined);
  });

  it('rolls a revision whose upstream is down back within spec.timeout, and does not try it again', async (t) => {
    // Two failed probes, half a second apart, call the upstream down: until then the gateway routes to it
    // (healthy until proven otherwise) and reports it not yet judged, which the health check must not take for healthy.
    const healthChecked = (upstream: string) =>
      apiManifest('pay', '/pay', upstream).replace(
        '  upstream:\n',
        '  upstream:\n    healthCheck:\n      interval: 500ms\n      healthyThreshold: 1\n' +
          '      unhealthyThreshold: 2\n',
      );
    const repo = join(dir, 'payments');
    const good = await makeRepo(repo, { 'apis/pay.yaml': healthChecked(a.url) });
    await source('payments', repo);
    // A generous timeout while the first revision proves healthy on a loaded machine; a short one for the test.
    await sync('payments', { wait: true, timeout: '2m' });
    await eventually(
      async () => {
        const ready = findCondition((await getSync('payments')).status, 'Ready');
        assert.equal(`${ready?.status}/${ready?.reason}`, 'True/ReconciliationSucceeded', ready?.message);
      },
      { attempts: 600, intervalMs: 200 },
    );
    await servedBy('/pay', 'a');
    const timeout = 5_000;
    await client.patch(syncKind, 'payments', { spec: { timeout: `${timeout / 1000}s` } }, 'merge', NS);

    // A client calls the gateway throughout; the errors it sees are the error window.
    const failures: number[] = [];
    let calling = true;
    const caller = (async () => {
      for (let i = 0; calling && i < 100_000; i++) {
        const upstream = await served('/pay').catch((err: Error) => err.message);
        if (upstream !== 'a') failures.push(Date.now());
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    let bad: string;
    let pushedAt: number;
    let settledAt: number;
    let rolled: Sync;
    try {
      bad = await commit(repo, { 'apis/pay.yaml': healthChecked(await closedPortUrl()) }, 'upstream down');
      pushedAt = Date.now();
      await pushed('payments');
      rolled = await eventually(
        async () => {
          const s = await getSync('payments');
          assert.equal(s.status?.rolledBackTo?.revision, revision(good), findCondition(s.status, 'Ready')?.message);
          assert.equal(await served('/pay'), 'a');
          return s;
        },
        { attempts: 600, intervalMs: 100 },
      );
      settledAt = Date.now();
      // A few more calls: the previous config serves, no error after the window.
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      calling = false;
      await caller;
    }
    assert.ok(failures.length > 0, 'the bad revision was served for a while');
    assert.ok(
      failures.every((at) => at >= pushedAt && at <= settledAt),
      'errors only inside the window',
    );
    t.diagnostic(`error window ${failures.at(-1)! - failures[0]} ms (spec.timeout ${timeout} ms)`);

    const status = rolled.status!;
    assert.deepEqual(
      { ...status.rolledBackTo, time: undefined },
      {
        revision: revision(good),
        from: revision(bad),
        by: status.appliedBy,
        reason: status.rolledBackTo?.reason,
        automatic: true,
        time: undefined,
      },
    );
    assert.match(status.rolledBackTo!.reason, /^revision main@sha1:[0-9a-f]{40} failed its health checks within 5s: /);
    assert.match(status.rolledBackTo!.reason, /ApiDefinition default\/pay is not UpstreamHealthy \(Unhealthy: /);
    const ready = findCondition(status, 'Ready');
    assert.deepEqual([ready?.status, ready?.reason], ['False', 'RolledBack']);
    assert.deepEqual(
      status.history?.slice(0, 3).map((e) => `${e.status} ${e.revision}`),
      [`RolledBack ${revision(good)}`, `Failed ${revision(bad)}`, `Succeeded ${revision(good)}`],
    );
    type Event = KubeObject & { reason: string; message: string; type: string };
    const events = await client.list<Event>(eventKind, { namespace: NS });
    const rolledBack = events.items.find((e) => e.reason === 'RolledBack');
    assert.equal(rolledBack?.type, 'Warning');
    assert.match(rolledBack?.message ?? '', /^rolled back to main@sha1:\w+ from main@sha1:\w+: revision/);

    // Never tried again while the source names it: the history gains nothing, the good revision serves.
    const again = await pushed('payments');
    assert.deepEqual(again.status?.history, status.history);
    assert.equal(await served('/pay'), 'a');
  });
  it('rolls back a revision answering 5xx to half of its requests while passing its health checks', async (t) => {
    // The health check asks for / and always gets 200; every other request of the second revision's upstream
    // alternates between 500 and 200.
    let answered = 0;
    const flaky = await startServer((req, res) => {
      const fail = req.url !== '/' && answered++ % 2 === 0;
      res.writeHead(fail ? 500 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ upstream: 'flaky' }));
    });
    t.after(() => flaky.close());
    const checked = (upstream: string) =>
      apiManifest('rate', '/rate', upstream).replace(
        '  upstream:\n',
        '  upstream:\n    healthCheck:\n      interval: 500ms\n      healthyThreshold: 1\n',
      );
    const repo = join(dir, 'rates');
    const good = await makeRepo(repo, { 'apis/rate.yaml': checked(a.url) });
    await source('rates', repo);
    await sync('rates', { wait: true, timeout: '2m' });
    await eventually(
      async () => {
        const ready = findCondition((await getSync('rates')).status, 'Ready');
        assert.equal(`${ready?.status}/${ready?.reason}`, 'True/ReconciliationSucceeded', ready?.message);
      },
      { attempts: 600, intervalMs: 200 },
    );
    // Set once the first revision applied, which need not wait out a window nobody calls in.
    const window = '6s';
    await client.patch(syncKind, 'rates', { spec: { rollback: { maxErrorRate: 0.2, window } } }, 'merge', NS);

    // A client calls the gateway throughout, so the window has traffic to judge.
    const seen = new Set<string>();
    let calling = true;
    const caller = (async () => {
      for (let i = 0; calling && i < 100_000; i++) {
        seen.add(await served('/rate/items').catch((err: Error) => err.message));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    let bad: string;
    let rolled: Sync;
    try {
      bad = await commit(repo, { 'apis/rate.yaml': checked(flaky.url) }, 'half of the answers are 500');
      const pushedAt = Date.now();
      await pushed('rates');
      rolled = await eventually(
        async () => {
          const s = await getSync('rates');
          assert.equal(s.status?.rolledBackTo?.revision, revision(good), findCondition(s.status, 'Ready')?.message);
          assert.equal(await served('/rate/items'), 'a');
          return s;
        },
        { attempts: 900, intervalMs: 100 },
      );
      t.diagnostic(`rolled back ${Date.now() - pushedAt} ms after the push (window ${window})`);
    } finally {
      calling = false;
      await caller;
    }
    assert.ok(seen.has('flaky') && seen.has('HTTP 500'), `the bad revision was served: ${[...seen].join(', ')}`);

    const status = rolled.status!;
    assert.equal(status.rolledBackTo?.from, revision(bad));
    assert.equal(status.rolledBackTo?.automatic, true);
    const share = /5xx share 0\.\d\d over 6s on ApiDefinition default\/rate exceeded maxErrorRate 0\.2$/;
    assert.match(status.rolledBackTo!.reason, new RegExp(`^revision main@sha1:[0-9a-f]{40} ${share.source}`));
    assert.deepEqual(
      status.history?.slice(0, 3).map((e) => `${e.status} ${e.revision}`),
      [`RolledBack ${revision(good)}`, `Failed ${revision(bad)}`, `Succeeded ${revision(good)}`],
    );
    type Event = KubeObject & { reason: string; message: string; involvedObject: { name: string } };
    const events = await client.list<Event>(eventKind, { namespace: NS });
    const rolledBack = events.items.filter((e) => e.reason === 'RolledBack' && e.involvedObject.name === 'rates');
    assert.match(rolledBack.at(-1)?.message ?? '', /^rolled back to main@sha1:\w+ from main@sha1:\w+: .*5xx share/);
    // The gateway's counts the judgement came from: the status writer publishes them.
    const traffic = (await client.get<ApiDefinition>(apiDefinitionKind, 'rate', NS)).status?.traffic;
    assert.ok(traffic && traffic.serverErrors > 0 && traffic.requests > traffic.serverErrors, JSON.stringify(traffic));

    // The previous config serves, and the revision is not tried again while the source names it.
    const again = await pushed('rates');
    assert.deepEqual(again.status?.history, status.history);
    assert.equal(await served('/rate/items'), 'a');
  });
});
