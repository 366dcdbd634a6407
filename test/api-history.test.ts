// An ApiDefinition's history end to end, on PostgreSQL: hand edits by two users and a Sync applying two Git
// commits, read with the real kubectl (`get --raw`) and `gatehouse history api`; the bound of
// --api-history-limit; RBAC (view may read it, the gateway may not); discovery; and the history as it was after
// the API server restarts on the same database.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { ApiDefinitionHistory } from '../src/api/kinds/api-definition/history.ts';
import { writeKubeconfig } from '../src/cli/kubeconfig.ts';
import { startController, type GitOpsController } from '../src/gitops/manager.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { gatehouse } from './support/cli.ts';
import { eventually } from './support/eventually.ts';
import { commit, fileUrl, makeRepo } from './support/git-servers.ts';
import { startPostgres, type TestPostgres } from './support/postgres.ts';

const RBAC = 'rbac.authorization.k8s.io';
const GROUP = 'gatehouse.dev/v1alpha1';
const JSON_TYPE = { 'content-type': 'application/json' };
const LIMIT = 3;
const AUTHOR = 'Gatehouse Test <test@gatehouse.invalid>';
const TOKENS = [
  'alice-token,alice,alice-uid,"team"',
  'bob-token,bob,bob-uid,"team"',
  'gw-token,gw,gw-uid,"gatehouse:gateways"',
];
const historyPath = (name: string) => `/apis/${GROUP}/namespaces/default/apidefinitions/${name}/history`;

const api = (name: string, url: string) => `apiVersion: ${GROUP}
kind: ApiDefinition
metadata:
  name: ${name}
  namespace: default
spec:
  listenPath: /${name}
  upstream:
    targets:
      - url: ${url}
`;

describe('ApiDefinition history', () => {
  let pg: TestPostgres;
  let database: string;
  let t: TestApiServer;
  let controller: GitOpsController | undefined;
  let dir: string;
  let repo: string;
  const commits: string[] = [];
  const start = () => startTestApiServer(database, { tokens: TOKENS, apiHistoryLimit: LIMIT });
  const kubectlAs = (user: string, args: string[], input?: string) =>
    t.kubectl(['--kubeconfig', join(dir, `${user}.kubeconfig`), ...args], input);
  const history = async (name: string, user = 'alice') =>
    JSON.parse(await kubectlAs(user, ['get', '--raw', historyPath(name)])) as ApiDefinitionHistory;
  const post = async (path: string, body: unknown) => {
    const res = await t.request(path, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify(body) });
    assert.equal(res.status, 201, await res.text());
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-history-'));
    pg = await startPostgres();
    database = await pg.newDatabase();
    t = await start();
    for (const user of ['alice', 'bob']) {
      await writeKubeconfig(join(dir, `${user}.kubeconfig`), t.url, t.ca, `${user}-token`);
      await post(`/apis/${RBAC}/v1/namespaces/default/rolebindings`, {
        apiVersion: `${RBAC}/v1`,
        kind: 'RoleBinding',
        metadata: { name: user, namespace: 'default' },
        roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'edit' },
        subjects: [{ kind: 'User', apiGroup: RBAC, name: user }],
      });
    }
    repo = join(dir, 'platform');
    commits.push(await makeRepo(repo, { 'apis/orders.yaml': api('orders', 'http://127.0.0.1:9001') }, 'Add orders'));
  });
  after(async () => {
    await controller?.close();
    await t?.stop();
    await pg?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('records hand edits by two users, bounded by --api-history-limit, with the fields each changed', async () => {
    await kubectlAs('alice', ['apply', '-f', '-'], api('hand', 'http://127.0.0.1:9101'));
    const patch = (user: string, spec: unknown) =>
      kubectlAs(user, ['patch', 'apidefinition', 'hand', '--type=merge', '-p', JSON.stringify({ spec })]);
    await patch('bob', { upstream: { targets: [{ url: 'http://127.0.0.1:9102' }] } });
    // Labels are not spec: no generation, no entry.
    await kubectlAs('alice', ['label', 'apidefinition', 'hand', 'team=payments']);
    await patch('alice', { listenPath: '/hand/v2' });
    await patch('bob', { requestHeaders: { set: { Authorization: 'Bearer upstream-secret' } } });

    const found = await history('hand');
    assert.equal(found.kind, 'ApiDefinitionHistory');
    // Four generations, the newest three kept.
    assert.deepEqual(
      found.entries.map((e) => [e.generation, e.user]),
      [
        [2, 'bob'],
        [3, 'alice'],
        [4, 'bob'],
      ],
    );
    assert.deepEqual(found.entries[0].changes, [
      { path: 'spec.upstream.targets[0].url', before: 'http://127.0.0.1:9101', after: 'http://127.0.0.1:9102' },
    ]);
    assert.deepEqual(found.entries[2].changes, [{ path: 'spec.requestHeaders.set[Authorization]', after: '***' }]);
    assert.doesNotMatch(JSON.stringify(found), /upstream-secret/);
    const live = JSON.parse(await t.kubectl(['get', 'apidefinition', 'hand', '-o', 'json']));
    assert.equal(found.entries[2].resourceVersion, live.metadata.resourceVersion);
    assert.equal(found.metadata.uid, live.metadata.uid);

    const cli = await gatehouse(['history', 'api', 'hand', '-n', 'default'], {
      KUBECONFIG: join(dir, 'bob.kubeconfig'),
    });
    assert.equal(cli.code, 0, cli.stderr);
    const lines = cli.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^GEN\s+TIME\s+BY\s+REVISION\s+CHANGED$/);
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(/\s{3,}/).filter(Boolean)),
      found.entries.map((e) => [String(e.generation), e.time, e.user, e.changes.map((c) => c.path).join(', ')]),
    );
  });

  it('names the Sync, the Git revision and the commit of each apply', async () => {
    await post(`/apis/${GROUP}/namespaces/default/gitrepositories`, {
      apiVersion: GROUP,
      kind: 'GitRepository',
      metadata: { name: 'platform', namespace: 'default' },
      spec: { url: fileUrl(repo), interval: '2s' },
    });
    await post(`/apis/${GROUP}/namespaces/default/syncs`, {
      apiVersion: GROUP,
      kind: 'Sync',
      metadata: { name: 'apis', namespace: 'default' },
      spec: { sourceRef: { kind: 'GitRepository', name: 'platform' }, path: './apis', interval: '10m' },
    });
    controller = await startController({
      kubeconfig: t.kubeconfigPath,
      dataDir: join(dir, 'controller'),
      logger: pino({ level: 'silent' }),
    });
    const applied = (revision: string, subject: string) => ({
      namespace: 'default',
      name: 'apis',
      revision: `main@sha1:${revision}`,
      author: AUTHOR,
      subject,
    });
    await eventually(async () => assert.equal((await history('orders')).entries.length, 1), { attempts: 600 });
    commits.push(await commit(repo, { 'apis/orders.yaml': api('orders', 'http://127.0.0.1:9002') }, 'Move orders'));
    await eventually(async () => assert.equal((await history('orders')).entries.length, 2), { attempts: 600 });

    const { entries } = await history('orders', 'bob');
    assert.deepEqual(entries[0].sync, applied(commits[0], 'Add orders'));
    assert.deepEqual(entries[1].sync, applied(commits[1], 'Move orders'));
    assert.deepEqual(entries[1].changes, [
      { path: 'spec.upstream.targets[0].url', before: 'http://127.0.0.1:9001', after: 'http://127.0.0.1:9002' },
    ]);
    const cli = await gatehouse(['history', 'api', 'orders'], { KUBECONFIG: join(dir, 'alice.kubeconfig') });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, new RegExp(`Sync default/apis \\(${AUTHOR} "Move orders"\\)\\s+main@sha1:${commits[1]}`));
    const json = await gatehouse(['history', 'api', 'orders', '-o', 'json'], { KUBECONFIG: t.kubeconfigPath });
    assert.deepEqual((JSON.parse(json.stdout) as ApiDefinitionHistory).entries, entries);
  });

  it('is listed by discovery, readable with view rights, not by the gateway', async () => {
    const discovery = JSON.parse(await t.kubectl(['get', '--raw', `/apis/${GROUP}`]));
    const resource = discovery.resources.find((r: { name: string }) => r.name === 'apidefinitions/history');
    assert.deepEqual(resource?.verbs, ['get']);
    assert.equal(resource?.kind, 'ApiDefinitionHistory');
    const gateway = await t.request(historyPath('hand'), {}, 'gw-token');
    assert.equal(gateway.status, 403);
    const missing = await t.kubectlResult(['get', '--raw', historyPath('absent')]);
    assert.match(missing.stderr, /NotFound|not found/);
  });

  it('survives a restart of the API server on the same database', async () => {
    const before = await history('hand');
    const orders = await history('orders');
    await controller?.close();
    controller = undefined;
    await t.stop();
    t = await start();
    for (const user of ['alice', 'bob']) {
      await writeKubeconfig(join(dir, `${user}.kubeconfig`), t.url, t.ca, `${user}-token`);
    }
    assert.deepEqual(await history('hand'), before);
    assert.deepEqual(await history('orders'), orders);
  });
});
