// Status the controller writes besides GitRepositories' and Syncs': READY of Receivers,
// Consumers, ApiKeys and SecurityPolicies, and a GitRepository reconciled at once when a
// Secret it uses changes. A real API server, the controller, a real HTTP Git host on
// loopback, and real kubectl.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { KindDefinition, KubeObject } from '../src/api/kind.ts';
import { eventKind } from '../src/api/core/event/index.ts';
import { secretKind } from '../src/api/core/secret/index.ts';
import { apiDefinitionKind } from '../src/api/kinds/api-definition/index.ts';
import { apiKeyKind } from '../src/api/kinds/api-key/index.ts';
import { consumerKind } from '../src/api/kinds/consumer/index.ts';
import { gitRepositoryKind, type GitRepository } from '../src/api/kinds/git-repository/index.ts';
import { receiverKind, type Receiver } from '../src/api/kinds/receiver/index.ts';
import { securityPolicyKind } from '../src/api/kinds/security-policy/index.ts';
import { findCondition, type CommonStatus, type Condition } from '../src/api/status.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { KubeClient } from '../src/client/rest.ts';
import { startController, type GitOpsController } from '../src/gitops/manager.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { eventually } from './support/eventually.ts';
import { apiDefinition } from './support/gateway.ts';
import { makeRepo, startHttpGitServer, type HttpGitServer } from './support/git-servers.ts';

const PASSWORD = 'status-pass-4410';

describe('controller status', () => {
  let t: TestApiServer;
  let client: KubeClient;
  let controller: GitOpsController;
  let git: HttpGitServer;
  let dir: string;

  before(async () => {
    t = await startTestApiServer();
    client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-status-'));
    await makeRepo(join(dir, 'repos', 'app'), { 'a.yaml': 'a: 1\n' });
    git = await startHttpGitServer({ repoRoot: join(dir, 'repos'), auth: { username: 'deploy', password: PASSWORD } });
    // Retries after a failure wait ten minutes: within a test, only a watch can bring a
    // failed GitRepository back.
    controller = await startController({
      kubeconfig: t.kubeconfigPath,
      dataDir: join(dir, 'controller'),
      logger: pino({ level: 'silent' }),
      backoff: { baseDelayMs: 600_000 },
    });
  });
  after(async () => {
    await controller.close();
    await git.close();
    await client.close();
    await t.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const create = (kind: KindDefinition, name: string, body: Record<string, unknown>) => {
    const apiVersion = kind.group ? `${kind.group}/${kind.version}` : kind.version;
    const metadata = { name, namespace: 'default' };
    return client.create(kind, { apiVersion, kind: kind.kind, metadata, ...body } as KubeObject);
  };
  const secret = (data: Record<string, string>) => ({ type: 'Opaque', stringData: data });
  const setSecret = (name: string, data: Record<string, string>) =>
    client.patch(secretKind, name, { stringData: data }, 'merge', 'default');
  const repository = (url: string) => ({ spec: { url, interval: '10m', secretRef: { name: 'git-auth' } } });
  const revisionOf = async (name: string) =>
    (await client.get<GitRepository>(gitRepositoryKind, name, 'default')).status?.artifact?.revision;
  const condition = async (kind: KindDefinition, name: string, type = 'Ready'): Promise<Condition | undefined> =>
    findCondition((await client.get<KubeObject>(kind, name, 'default')).status as CommonStatus, type);
  /** Waits until Ready has `status` and `reason`, and `message` when given; resolves with its message. */
  async function readyIs(kind: KindDefinition, name: string, status: string, reason: string, message?: string) {
    return eventually(
      async () => {
        const ready = await condition(kind, name);
        assert.equal(`${ready?.status}/${ready?.reason}`, `${status}/${reason}`, ready?.message);
        if (message !== undefined) assert.equal(ready?.message, message);
        return ready!.message!;
      },
      { attempts: 200 },
    );
  }

  it('a GitRepository is reconciled at once when its Secret changes, and says when it recovered', async () => {
    await create(secretKind, 'git-auth', secret({ username: 'deploy', password: PASSWORD }));
    await create(gitRepositoryKind, 'app', repository(git.url('app')));
    await readyIs(gitRepositoryKind, 'app', 'True', 'Succeeded');
    const revision = await revisionOf('app');

    // A broken password is seen at once (the interval is ten minutes)…
    await setSecret('git-auth', { password: 'wrong-pass-0' });
    await readyIs(gitRepositoryKind, 'app', 'False', 'AuthenticationFailed');
    // …and so is the fix (the retry after that failure is ten minutes away).
    await setSecret('git-auth', { password: PASSWORD });
    await readyIs(gitRepositoryKind, 'app', 'True', 'Succeeded');
    assert.equal(await revisionOf('app'), revision);
    await eventually(async () => {
      type Event = KubeObject & { reason: string; message: string; type: string };
      const events = await client.list<Event>(eventKind, { namespace: 'default' });
      const recovered = events.items.find((e) => e.reason === 'Recovered');
      assert.ok(recovered, 'a Recovered event');
      assert.equal(recovered.type, 'Normal');
      assert.equal(
        recovered.message,
        `fetching works again (it failed with AuthenticationFailed); revision ${revision} is unchanged`,
      );
    });
  });

  it('a Receiver names a missing Secret and GitRepository and a token ending in a newline', async () => {
    await create(receiverKind, 'push', {
      spec: { type: 'github', secretRef: { name: 'hook' }, resources: [{ name: 'app' }, { name: 'later' }] },
    });
    await readyIs(
      receiverKind,
      'push',
      'False',
      'SecretNotFound',
      'Secret default/hook named by spec.secretRef not found; spec.resources: GitRepository default/later not found',
    );
    const stored = await client.get<Receiver>(receiverKind, 'push', 'default');
    assert.equal(stored.status?.webhookPath, '/hook/default/push');
    assert.equal(stored.status?.observedGeneration, stored.metadata.generation);

    await create(secretKind, 'hook', secret({ token: 'hook-token-1\n' }));
    const newline = await readyIs(receiverKind, 'push', 'False', 'InvalidToken');
    assert.match(newline, /^Secret default\/hook: token ends with a line break/);
    await setSecret('hook', { token: 'hook-token-1' });
    await readyIs(
      receiverKind,
      'push',
      'False',
      'SourceNotFound',
      'spec.resources: GitRepository default/later not found',
    );
    await create(gitRepositoryKind, 'later', repository(git.url('app')));
    await readyIs(
      receiverKind,
      'push',
      'True',
      'Succeeded',
      'calls to /hook/default/push reconcile GitRepository default/app, default/later',
    );
    // kubectl shows READY.
    const table = await t.kubectl(['get', 'receivers', 'push']);
    assert.match(table, /^NAME\s+TYPE\s+PATH\s+READY\s+STATUS\s+AGE\n/);
    assert.match(table, /\npush\s+github\s+\/hook\/default\/push\s+True\s+calls to \/hook\/default\/push/);
  });

  it('a Consumer names missing SecurityPolicies; two Consumers claiming one JWT subject both say so', async () => {
    await create(consumerKind, 'alice', { spec: { policies: ['gold', 'silver'], jwtSubjects: ['alice@example.com'] } });
    await readyIs(
      consumerKind,
      'alice',
      'False',
      'PolicyNotFound',
      'spec.policies: SecurityPolicy default/gold, default/silver not found',
    );
    await create(securityPolicyKind, 'gold', { spec: { apis: [] } });
    await create(securityPolicyKind, 'silver', { spec: { apis: [] } });
    await readyIs(consumerKind, 'alice', 'True', 'Succeeded');

    await create(consumerKind, 'bob', { spec: { jwtSubjects: ['alice@example.com'] } });
    const both =
      'spec.jwtSubjects: "alice@example.com" is listed by Consumers default/alice, default/bob; ' +
      'the gateway uses alice';
    await readyIs(consumerKind, 'bob', 'False', 'JWTSubjectConflict', both);
    await eventually(async () => assert.equal((await condition(consumerKind, 'alice', 'Conflicted'))?.message, both));
    assert.equal((await condition(consumerKind, 'alice'))?.status, 'True');
    assert.equal((await condition(consumerKind, 'bob', 'Conflicted'))?.status, 'True');
    // bob gives the subject up: the conflict is gone from both.
    await client.patch(consumerKind, 'bob', { spec: { jwtSubjects: ['bob@example.com'] } }, 'merge', 'default');
    await readyIs(consumerKind, 'bob', 'True', 'Succeeded');
    await eventually(async () => assert.equal(await condition(consumerKind, 'alice', 'Conflicted'), undefined));
  });

  it('an ApiKey names its missing Consumer and turns not Ready when it expires', async () => {
    await create(apiKeyKind, 'k1', { spec: { consumer: 'carol' } });
    await readyIs(apiKeyKind, 'k1', 'False', 'ConsumerNotFound', 'spec.consumer: Consumer default/carol not found');
    await create(consumerKind, 'carol', { spec: {} });
    await readyIs(apiKeyKind, 'k1', 'True', 'Succeeded', 'authenticates as Consumer default/carol');

    const expires = new Date(Date.now() + 3_000).toISOString().replace(/\.\d+Z$/, 'Z');
    await create(apiKeyKind, 'k2', { spec: { consumer: 'carol', expires } });
    await readyIs(apiKeyKind, 'k2', 'True', 'Succeeded');
    // Nothing changes at the expiry but the time: the controller comes back by itself.
    await readyIs(apiKeyKind, 'k2', 'False', 'Expired', `spec.expires: expired at ${expires}`);
    assert.equal((await condition(apiKeyKind, 'k2', 'Stalled'))?.status, 'True');
  });

  it('a SecurityPolicy names the APIs that do not exist', async () => {
    const apis = [{ name: 'orders' }, { name: 'billing', namespace: 'finance' }];
    await create(securityPolicyKind, 'partners', { spec: { apis } });
    await readyIs(
      securityPolicyKind,
      'partners',
      'False',
      'ApiNotFound',
      'spec.apis: ApiDefinition default/orders, finance/billing not found',
    );
    const upstream = { targets: [{ url: 'http://127.0.0.1:9' }] };
    const orders = apiDefinition('orders', { listenPath: '/orders', upstream });
    await client.create(apiDefinitionKind, orders);
    await readyIs(
      securityPolicyKind,
      'partners',
      'False',
      'ApiNotFound',
      'spec.apis: ApiDefinition finance/billing not found',
    );
    const table = await t.kubectl(['get', 'securitypolicies', 'partners']);
    assert.match(table, /^NAME\s+APIS\s+RATE LIMIT\s+QUOTA\s+READY\s+AGE\npartners\s+orders,billing\s+False\s/);
  });
});
