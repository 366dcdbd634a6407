// Notifications end to end: a Sync applies revisions from a Git repository; the controller sends
// its Events, as Alerts select them, to a loopback HTTP server standing in for a generic webhook
// (HMAC-signed), Slack and GitHub's commit status API, which answers Slack's first call 500.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { KindDefinition, KubeObject } from '../src/api/kind.ts';
import { secretKind } from '../src/api/core/secret/index.ts';
import { alertKind, type Alert } from '../src/api/kinds/alert/index.ts';
import { gitRepositoryKind } from '../src/api/kinds/git-repository/index.ts';
import { providerKind, type Provider } from '../src/api/kinds/provider/index.ts';
import { syncKind } from '../src/api/kinds/sync/index.ts';
import { findCondition } from '../src/api/status.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { KubeClient } from '../src/client/rest.ts';
import { startController, type GitOpsController } from '../src/gitops/manager.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { gatehouse } from './support/cli.ts';
import { eventually } from './support/eventually.ts';
import { commit, fileUrl, makeRepo } from './support/git-servers.ts';
import { apiManifest } from './support/manifests.ts';

interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  status: number;
}

const HMAC_KEY = 'hmac-key-of-the-webhook';
const GITHUB_TOKEN = 'ghp_token-of-the-status-api';
const UPSTREAM = 'http://127.0.0.1:9';

describe('notifications (Provider, Alert)', () => {
  let t: TestApiServer;
  let client: KubeClient;
  let controller: GitOpsController;
  let hooks: Server;
  let base: string;
  let dir: string;
  const logs: string[] = [];
  const received: Received[] = [];
  /** Answers to give, per path, before answering 200. */
  const failFirst = new Map<string, number[]>([['/slack', [500]]]);

  const at = (path: string) => received.filter((r) => r.path === path && r.status === 200);
  const json = (r: Received) => JSON.parse(r.body);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-notify-'));
    hooks = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = failFirst.get(req.url ?? '')?.shift() ?? 200;
        received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString(), status });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}`;
    t = await startTestApiServer();
    client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logs.push(String(chunk));
        done();
      },
    });
    // Reconciles come from the test; retries of deliveries are short.
    controller = await startController({
      kubeconfig: t.kubeconfigPath,
      dataDir: join(dir, 'controller'),
      logger: pino({ level: 'info' }, sink),
      backoff: { baseDelayMs: 600_000 },
      notifications: { retry: { retries: 3, baseDelayMs: 20, maxDelayMs: 100 } },
    });
  });
  after(async () => {
    await controller?.close();
    await client?.close();
    await t?.stop();
    await new Promise((resolve) => hooks?.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  function create(kind: KindDefinition, name: string, body: Record<string, unknown>) {
    const apiVersion = kind.group ? `${kind.group}/${kind.version}` : kind.version;
    return client.create(kind, {
      apiVersion,
      kind: kind.kind,
      metadata: { name, namespace: 'default' },
      ...body,
    } as KubeObject);
  }
  const provider = (name: string, spec: Record<string, unknown>) => create(providerKind, name, { spec });
  const alert = (name: string, spec: Record<string, unknown>) => create(alertKind, name, { spec });
  async function ready(kind: KindDefinition, name: string): Promise<string> {
    return eventually(async () => {
      const obj = await client.get<Provider | Alert>(kind, name, 'default');
      const condition = findCondition(obj.status, 'Ready');
      assert.equal(condition?.status, 'True', condition?.message);
      return condition.message!;
    });
  }
  const reconcile = (name: string) => controller.reconcileSync('default', name, true).catch(() => undefined);

  it('sends a Sync’s Events as Alerts select them: signed webhook, GitHub statuses, Slack after a 500', async () => {
    await create(secretKind, 'hook-key', { stringData: { token: HMAC_KEY } });
    await create(secretKind, 'github-token', { stringData: { token: GITHUB_TOKEN } });
    await provider('webhook', { type: 'generic-hmac', address: `${base}/generic`, secretRef: { name: 'hook-key' } });
    await provider('github', { type: 'github', address: `${base}/acme/apis`, secretRef: { name: 'github-token' } });
    await provider('slack', { type: 'slack', address: `${base}/slack`, channel: 'deploys' });
    await provider('other-hook', { type: 'generic', address: `${base}/other` });
    await alert('everything', { providerRef: { name: 'webhook' }, eventSources: [{ kind: 'Sync', name: '*' }] });
    await alert('commits', { providerRef: { name: 'github' }, eventSources: [{ kind: 'Sync', name: 'apis' }] });
    await alert('failures', {
      providerRef: { name: 'slack' },
      eventSeverity: 'error',
      eventSources: [{ kind: 'Sync', name: 'apis' }],
      summary: 'staging APIs',
    });
    await alert('other-only', { providerRef: { name: 'other-hook' }, eventSources: [{ kind: 'Sync', name: 'other' }] });
    assert.equal(await ready(providerKind, 'github'), `sends github notifications to ${new URL(base).host}`);
    for (const name of ['webhook', 'slack', 'other-hook']) await ready(providerKind, name);
    for (const name of ['everything', 'commits', 'failures', 'other-only']) await ready(alertKind, name);

    const repo = join(dir, 'repo');
    const good = await makeRepo(repo, {
      'apis/orders.yaml': apiManifest('orders', '/orders', UPSTREAM),
      'other/billing.yaml': apiManifest('billing', '/billing', UPSTREAM),
    });
    await create(gitRepositoryKind, 'platform', { spec: { url: fileUrl(repo), interval: '10m' } });
    const syncSpec = { sourceRef: { kind: 'GitRepository', name: 'platform' }, path: './apis', interval: '10m' };
    await create(syncKind, 'apis', { spec: { ...syncSpec, prune: true } });
    await reconcile('apis');
    const revision = `main@sha1:${good}`;

    // The generic webhook: Flux's event JSON, signed with the Secret's token.
    const signed = await eventually(() => {
      const events = at('/generic').map(json);
      assert.deepEqual(
        events.map((e) => e.reason),
        ['Progressing', 'ReconciliationSucceeded'],
      );
      return at('/generic');
    });
    for (const r of signed) {
      const expected = `sha256=${createHmac('sha256', HMAC_KEY).update(r.body).digest('hex')}`;
      assert.equal(r.headers['x-signature'], expected);
      const event = json(r);
      assert.equal(event.involvedObject.kind, 'Sync');
      assert.equal(event.involvedObject.name, 'apis');
      assert.equal(event.severity, 'info');
      assert.deepEqual(event.metadata, { revision });
      assert.equal(event.reportingController, 'gatehouse-controller');
    }

    // GitHub: the applied commit's status, pending while applying, then success.
    const statuses = await eventually(() => {
      const calls = at(`/api/v3/repos/acme/apis/statuses/${good}`);
      assert.deepEqual(
        calls.map((c) => json(c).state),
        ['pending', 'success'],
      );
      return calls;
    });
    for (const call of statuses) {
      assert.equal(call.headers.authorization, `Bearer ${GITHUB_TOKEN}`);
      assert.match(json(call).context, /^sync\/apis\/[0-9a-f]{10}$/);
    }
    assert.match(json(statuses[1]).description, new RegExp(`^applied revision ${revision}`));

    // A revision that does not validate: a failure status, and the one Warning reaches Slack after a 500.
    const bad = await commit(repo, { 'apis/orders.yaml': apiManifest('orders', 'no-slash', UPSTREAM) }, 'bad');
    await reconcile('apis');
    await eventually(() => {
      const calls = at(`/api/v3/repos/acme/apis/statuses/${bad}`);
      assert.deepEqual(
        calls.map((c) => json(c).state),
        ['pending', 'failure'],
      );
    });
    const slack = await eventually(() => {
      const calls = received.filter((r) => r.path === '/slack');
      assert.deepEqual(
        calls.map((c) => c.status),
        [500, 200],
      );
      return calls;
    });
    assert.equal(slack[0].body, slack[1].body);
    const message = json(slack[1]);
    assert.equal(message.channel, 'deploys');
    assert.equal(message.username, 'gatehouse-controller');
    const [attachment] = message.attachments;
    assert.equal(attachment.color, 'danger');
    assert.equal(attachment.author_name, 'sync/apis.default');
    assert.match(attachment.text, new RegExp(`^revision main@sha1:${bad}: [\\s\\S]*spec\\.listenPath`));
    assert.deepEqual(attachment.fields.map((f: { title: string; value: string }) => `${f.title}=${f.value}`).sort(), [
      `revision=main@sha1:${bad}`,
      'summary=staging APIs',
    ]);

    // Sources: the Alert naming Sync "other" sent none of the events of "apis" before it, only its own.
    await create(syncKind, 'other', { spec: { ...syncSpec, path: './other' } });
    await reconcile('other');
    await eventually(() => assert.ok(at('/other').some((r) => json(r).reason === 'ReconciliationSucceeded')));
    assert.deepEqual([...new Set(at('/other').map((r) => json(r).involvedObject.name))], ['other']);

    // Secrets never reach the log.
    const log = logs.join('');
    assert.match(log, /notification sent/);
    assert.ok(!log.includes(HMAC_KEY) && !log.includes(GITHUB_TOKEN));
  });

  it('reports a Provider without its token, and an Alert without its Provider, in Ready; gatehouse get lists them', async () => {
    await provider('no-token', { type: 'gitlab', address: `${base}/group/project` });
    await alert('orphan', { providerRef: { name: 'missing' }, eventSources: [{ kind: 'Sync', name: '*' }] });
    const condition = async (kind: KindDefinition, name: string) =>
      eventually(async () => {
        const found = findCondition((await client.get<Provider>(kind, name, 'default')).status, 'Ready');
        assert.equal(found?.status, 'False');
        return `${found.reason}: ${found.message}`;
      });
    assert.equal(
      await condition(providerKind, 'no-token'),
      'TokenMissing: spec.secretRef: gitlab needs a token, and no spec.secretRef',
    );
    assert.equal(
      await condition(alertKind, 'orphan'),
      'ProviderNotFound: spec.providerRef: Provider default/missing not found',
    );

    const providers = await gatehouse(['get', 'providers', 'no-token', '--kubeconfig', t.kubeconfigPath]);
    assert.equal(providers.code, 0, providers.stderr);
    const [header, row] = providers.stdout.trimEnd().split('\n');
    assert.match(header, /^NAME\s+TYPE\s+READY\s+STATUS\s+AGE$/);
    assert.match(
      row,
      /^no-token\s+gitlab\s+False\s+spec\.secretRef: gitlab needs a token, and no spec\.secretRef\s+\d+s$/,
    );
    const alerts = (await t.kubectl(['get', 'alerts'])).trimEnd().split('\n');
    assert.match(alerts[0], /^NAME\s+PROVIDER\s+SEVERITY\s+READY\s+STATUS\s+AGE$/);
    assert.ok(
      alerts.some((line) => /^orphan\s+missing\s+info\s+False\s+spec\.providerRef: /.test(line)),
      alerts.join('\n'),
    );
  });
});
