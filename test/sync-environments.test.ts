// Environments: two Gatehouse API servers, staging and production, and one controller whose Syncs live on staging.
// The production Sync applies to the production server through spec.kubeConfig and promotes from the staging Sync
// (spec.promotion.from, healthyFor 2s): a commit reaches production only after staging ran it Ready for 2 s, and a
// commit that breaks staging never does. spec.dependsOn holds a Sync until the Syncs it names are Ready. A
// kubeconfig Secret whose token production refuses is Ready=False naming the 401, with no credential anywhere.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { configMapKind, type ConfigMap } from '../src/api/core/config-map/index.ts';
import { syncKind, type Sync } from '../src/api/kinds/sync/index.ts';
import { findCondition } from '../src/api/status.ts';
import { isStatusError } from '../src/client/errors.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { KubeClient } from '../src/client/rest.ts';
import { kubeconfig } from '../src/cli/kubeconfig.ts';
import { startController, type GitOpsController } from '../src/gitops/manager.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { eventually } from './support/eventually.ts';
import { commit, fileUrl, makeRepo } from './support/git-servers.ts';

const NS = 'default';
const configMap = (name: string, version: string, extra = '') =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ${NS}\n` +
  `data:\n  version: "${version}"\n${extra}`;
const BAD_TOKEN = 'refused-token-0123456789';

describe('Sync environments: kubeConfig, promotion gates, dependsOn', () => {
  let staging: TestApiServer;
  let production: TestApiServer;
  let onStaging: KubeClient;
  let onProduction: KubeClient;
  let controller: GitOpsController;
  let dir: string;
  let repo: string;
  const logs: string[] = [];

  const create = (body: Record<string, unknown>, plural: string, group = 'apis/gatehouse.dev/v1alpha1') =>
    staging
      .request(`/${group}/namespaces/${NS}/${plural}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      .then(async (res) => assert.equal(res.status, 201, await res.text()));
  const createSync = (name: string, spec: Record<string, unknown>) =>
    create(
      {
        apiVersion: 'gatehouse.dev/v1alpha1',
        kind: 'Sync',
        metadata: { name, namespace: NS },
        spec: { sourceRef: { kind: 'GitRepository', name: 'platform' }, interval: '10m', prune: true, ...spec },
      },
      'syncs',
    );
  const createSecret = (name: string, value: string) =>
    create(
      { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NS }, stringData: { value } },
      'secrets',
      'api/v1',
    );
  const syncOf = (name: string) => onStaging.get<Sync>(syncKind, name, NS);
  const readyOf = (name: string, status: string, reason: string) =>
    eventually(
      async () => {
        const sync = await syncOf(name);
        const ready = findCondition(sync.status, 'Ready');
        assert.equal(`${ready?.status} ${ready?.reason}`, `${status} ${reason}`, ready?.message);
        return { sync, message: ready!.message! };
      },
      { attempts: 1200 },
    );
  const versionOn = (client: KubeClient, name: string) =>
    client.get<ConfigMap>(configMapKind, name, NS).then(
      (cm) => cm.data?.version,
      (err: unknown) => {
        if (isStatusError(err, 'NotFound')) return undefined;
        throw err;
      },
    );
  const push = async (files: Record<string, string>, message: string) => {
    const sha = await commit(repo, files, message);
    await controller.reconcileSource(NS, 'platform');
    return sha;
  };

  before(async () => {
    [staging, production] = await Promise.all([startTestApiServer(), startTestApiServer()]);
    onStaging = new KubeClient(await loadKubeconfig(staging.kubeconfigPath));
    onProduction = new KubeClient(await loadKubeconfig(production.kubeconfigPath));
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-environments-'));
    repo = join(dir, 'repo');
    await makeRepo(repo, {
      'apps/orders.yaml': configMap('orders', '1'),
      'policies/policies.yaml': configMap('policies', '1'),
      'consumers/consumers.yaml': configMap('consumers', '1'),
    });
    await create(
      {
        apiVersion: 'gatehouse.dev/v1alpha1',
        kind: 'GitRepository',
        metadata: { name: 'platform', namespace: NS },
        spec: { url: fileUrl(repo), interval: '10m' },
      },
      'gitrepositories',
    );
    await createSecret('production', kubeconfig(production.url, production.ca, production.token));
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logs.push(String(chunk));
        done();
      },
    });
    controller = await startController({
      kubeconfig: staging.kubeconfigPath,
      dataDir: join(dir, 'controller'),
      logger: pino({ level: 'debug' }, sink),
    });
  });
  after(async () => {
    await controller?.close();
    await onStaging?.close();
    await onProduction?.close();
    await Promise.all([staging?.stop(), production?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('promotes a commit to production only after staging ran it Ready for healthyFor', async () => {
    await createSync('staging', { path: './apps' });
    await createSync('production', {
      path: './apps',
      kubeConfig: { secretRef: { name: 'production' } },
      promotion: { from: { name: 'staging', healthyFor: '2s' } },
    });
    const { sync: prod } = await readyOf('production', 'True', 'ReconciliationSucceeded');
    const stage = await syncOf('staging');
    const revision = stage.status!.lastAppliedRevision!;
    assert.equal(prod.status?.lastAppliedRevision, revision);
    // Applied on production only once staging had been Ready at the revision for 2 s, by staging's own record.
    assert.equal(stage.status?.healthy?.revision, revision);
    const applied = prod.status!.history!.find((e) => e.revision === revision && e.status === 'Succeeded')!;
    assert.ok(Date.parse(applied.time) - Date.parse(stage.status!.healthy!.since) >= 2000, JSON.stringify(applied));
    // The objects went to production; the production Sync's status and inventory stayed on staging.
    assert.equal(await versionOn(onProduction, 'orders'), '1');
    assert.deepEqual(prod.status?.inventory?.entries, [{ id: `${NS}_orders__ConfigMap`, v: 'v1' }]);
    assert.ok(!JSON.stringify(prod).includes(production.token));
  });

  it('never promotes a commit that broke staging, and shows what production waits for', async () => {
    const broken = await push({ 'apps/orders.yaml': configMap('orders', '2', 'bogus: true\n') }, 'broken');
    assert.match((await readyOf('staging', 'False', 'ValidationFailed')).message, /bogus/);
    // Told when staging fails (the watch of Syncs), production says why it waits.
    const message = await eventually(
      async () => {
        const { message } = await readyOf('production', 'False', 'PromotionPending');
        assert.match(message, /it failed there \(ValidationFailed\)/);
        return message;
      },
      { attempts: 1200 },
    );
    assert.match(message, new RegExp(`revision main@sha1:${broken} waits for promotion from Sync default/staging`));
    const table = await staging.kubectl(['get', 'syncs', '-n', NS]);
    assert.match(table, /production .*False .*revision main@sha1:\w+ waits for promotion from Sync default\/staging/);
    assert.equal(await versionOn(onProduction, 'orders'), '1');

    const fixed = await push({ 'apps/orders.yaml': configMap('orders', '3') }, 'fixed');
    const { sync: prod } = await readyOf('production', 'True', 'ReconciliationSucceeded');
    assert.equal(prod.status?.lastAppliedRevision, `main@sha1:${fixed}`);
    assert.equal(await versionOn(onProduction, 'orders'), '3');
    assert.ok(!prod.status!.history!.some((e) => e.revision.endsWith(broken)), 'the broken commit never applied');

    // A rollback returns to a revision production ran before: no promotion gate holds it back.
    await onStaging.subresource<Sync>(syncKind, 'production', 'rollback', NS, { steps: 1 });
    await readyOf('production', 'True', 'RolledBack');
    assert.equal(await versionOn(onProduction, 'orders'), '1');
  });

  it('dependsOn: applies nothing until the Syncs named are Ready', async () => {
    await createSync('consumers', { path: './consumers', dependsOn: [{ name: 'policies' }] });
    const { message } = await readyOf('consumers', 'False', 'DependencyNotReady');
    assert.equal(message, 'dependencies not ready: Sync default/policies (not found)');
    assert.equal(await versionOn(onStaging, 'consumers'), undefined);
    await createSync('policies', { path: './policies' });
    await readyOf('consumers', 'True', 'ReconciliationSucceeded');
    assert.equal(await versionOn(onStaging, 'policies'), '1');
    assert.equal(await versionOn(onStaging, 'consumers'), '1');
  });

  it('a kubeconfig whose token is refused: Ready=False naming the 401, the token nowhere', async () => {
    await createSecret('refused', kubeconfig(production.url, production.ca, BAD_TOKEN));
    await createSync('refused', { path: './policies', kubeConfig: { secretRef: { name: 'refused' } } });
    const { sync, message } = await readyOf('refused', 'False', 'AccessDenied');
    assert.match(message, new RegExp(`on ${production.url} \\(spec.kubeConfig Secret default/refused\\)`));
    assert.match(message, /answered 401 Unauthorized/);
    assert.equal(await versionOn(onProduction, 'policies'), undefined);
    const events = await staging.kubectl(['get', 'events', '-n', NS, '-o', 'json']);
    assert.match(events, /401 Unauthorized/);
    for (const text of [JSON.stringify(sync), events, logs.join('')]) {
      assert.ok(!text.includes(BAD_TOKEN), 'the refused token leaked');
      assert.ok(!text.includes(production.token), "production's token leaked");
    }

    const plugin = kubeconfig(production.url, production.ca, BAD_TOKEN).replace(
      `token: ${BAD_TOKEN}`,
      'exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh}',
    );
    await createSecret('plugin', plugin);
    await createSync('plugin', { path: './policies', kubeConfig: { secretRef: { name: 'plugin' } } });
    const refused = await readyOf('plugin', 'False', 'KubeConfigFailed');
    assert.equal(
      refused.message,
      'Secret default/plugin key value: user "gatehouse-admin" uses an exec plugin, which is not run: ' +
        'a kubeconfig from a Secret must carry its credentials inline',
    );
  });
});
