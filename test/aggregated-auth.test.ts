// Delegated authentication and authorization end to end: Gatehouse in aggregated mode behind the
// kube-apiserver stand-in (test/support/kube-standin.ts), driven by the real kubectl through the front proxy,
// and by direct TLS requests that present or forge front-proxy credentials. The stand-in counts the
// TokenReviews and SubjectAccessReviews Gatehouse sends, which proves the caches, and can take the cluster's
// API down, which shows cached decisions kept and clear refusals otherwise.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { startDelegation } from '../src/apiserver/auth/delegated/delegation.ts';
import { startApiServer, type ApiServer } from '../src/apiserver/server.ts';
import { ensureSelfSignedCert } from '../src/apiserver/tls.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { KubeClient } from '../src/client/rest.ts';
import { openStorage } from '../src/storage/open.ts';
import { KUBECTL } from './support/apiserver.ts';
import { GATEHOUSE } from './support/cli.ts';
import { eventually } from './support/eventually.ts';
import { startKubeStandin, type KubeStandin } from './support/kube-standin.ts';
import { createCertificateAuthority, type CertificateFiles } from './support/pki.ts';

const APIS = '/apis/gatehouse.dev/v1alpha1/namespaces/team/apidefinitions';

function api(name: string, listenPath = `/${name}/`): string {
  return JSON.stringify({
    apiVersion: 'gatehouse.dev/v1alpha1',
    kind: 'ApiDefinition',
    metadata: { name, namespace: 'team' },
    spec: { listenPath, upstream: { targets: [{ url: 'http://127.0.0.1:9000' }] } },
  });
}

interface DirectOptions {
  cert?: CertificateFiles;
  headers?: Record<string, string>;
  token?: string;
  method?: string;
}

describe('aggregated mode: delegated authentication and authorization', () => {
  let standin: KubeStandin;
  let gatehouse: ApiServer;
  let gatehouseCa: string;
  let dir: string;
  let alice: string;
  let bob: string;
  const agents: Agent[] = [];

  /** A direct request to Gatehouse over TLS, with a client certificate when given. */
  async function direct(
    path: string,
    { cert, headers = {}, token, method = 'GET' }: DirectOptions = {},
  ): Promise<{ status: number; body: { message?: string; reason?: string; items?: unknown[] } }> {
    const dispatcher = new Agent({ connect: { ca: gatehouseCa, cert: cert?.cert, key: cert?.key } });
    agents.push(dispatcher);
    const all = token ? { ...headers, authorization: `Bearer ${token}` } : headers;
    const res = await fetch(`${gatehouse.url}${path}`, { method, headers: all, dispatcher } as RequestInit);
    return { status: res.status, body: (await res.json()) as { message?: string } };
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-aggregated-auth-'));
    standin = await startKubeStandin({
      tokens: ['alice-token,alice,alice-uid,"devs"', 'bob-token,bob,bob-uid', 'carol-token,carol,carol-uid'],
    });
    await standin.core.kubectl(['create', 'namespace', 'team']);
    await standin.core.kubectl(['create', 'rolebinding', 'devs', '--clusterrole=gatehouse:edit', '--group=devs']);
    await standin.core.kubectl([
      'create',
      'rolebinding',
      'devs',
      '--clusterrole=gatehouse:edit',
      '--group=devs',
      '-n',
      'team',
    ]);
    await standin.core.kubectl([
      'create',
      'rolebinding',
      'carol',
      '--clusterrole=gatehouse:view',
      '--user=carol',
      '-n',
      'team',
    ]);
    const tls = await ensureSelfSignedCert(join(dir, 'tls'));
    gatehouseCa = tls.cert;
    const cluster = await loadKubeconfig(standin.gatehouseKubeconfigPath);
    const delegatedAccess = await startDelegation({
      authentication: new KubeClient(cluster),
      authorization: new KubeClient(cluster),
      // Short, so a cluster that hangs costs the suite little; the bound is what is shown, not its length.
      timeoutMs: 2_000,
    });
    gatehouse = await startApiServer({
      storage: await openStorage('memory', { dataDir: dir }),
      tls,
      cluster: { client: new KubeClient(cluster), namespace: 'gatehouse-system' },
      delegatedAccess,
    });
    standin.registerApiService({ urls: [gatehouse.url], ca: tls.cert });
    alice = await standin.writeKubeconfig('alice', 'alice-token');
    bob = await standin.writeKubeconfig('bob', 'bob-token');
  });
  after(async () => {
    await gatehouse?.close();
    await Promise.all(agents.map((a) => a.destroy()));
    await standin?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves kubectl through the proxy: apply, get, -o yaml, -w, patch, delete, explain, api-resources', async () => {
    const kubectl = async (args: string[], input?: string) => {
      const r = await standin.kubectl(alice, args, input);
      assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    assert.match(
      await kubectl(['api-resources', '--api-group=gatehouse.dev']),
      /apidefinitions\s+api,apis\s+gatehouse\.dev\/v1alpha1\s+true\s+ApiDefinition/,
    );
    assert.match(await kubectl(['apply', '-f', '-'], api('shop')), /apidefinition\.gatehouse\.dev\/shop created/);
    assert.match(await kubectl(['get', 'apis', '-n', 'team']), /^shop\s+\/shop\/\s+http:\/\/127\.0\.0\.1:9000/m);
    assert.match(await kubectl(['get', 'api', 'shop', '-n', 'team', '-o', 'yaml']), /listenPath: \/shop\//);
    const watcher = spawn(KUBECTL, [
      ...['--kubeconfig', alice, '--cache-dir', join(standin.dir, 'kube-cache')],
      ...['get', 'apis', '-n', 'team', '-w', '--output-watch-events'],
    ]);
    let watched = '';
    watcher.stdout.on('data', (d: Buffer) => (watched += d.toString()));
    try {
      await eventually(() => assert.match(watched, /ADDED\s+shop/), { attempts: 200 });
      await kubectl(['patch', 'api', 'shop', '-n', 'team', '--type', 'merge', '-p', '{"spec":{"listenPath":"/s/"}}']);
      await eventually(() => assert.match(watched, /MODIFIED\s+shop\s+\/s\//), { attempts: 200 });
      assert.match(await kubectl(['delete', 'api', 'shop', '-n', 'team']), /deleted/);
      await eventually(() => assert.match(watched, /DELETED\s+shop/), { attempts: 200 });
    } finally {
      watcher.kill();
    }
    assert.match(await kubectl(['explain', 'apidefinitions.spec.listenPath']), /Path prefix the API is served under/);
  });

  it('lets a user the cluster allows (SubjectAccessReview) and refuses one it does not, with kube 403', async () => {
    const refused = await standin.kubectl(bob, ['get', 'apis', '-n', 'team']);
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stderr,
      new RegExp(
        'apidefinitions\\.gatehouse\\.dev is forbidden: User "bob" cannot list resource "apidefinitions" ' +
          'in API group "gatehouse\\.dev" in the namespace "team"',
      ),
    );
    const allowed = await standin.kubectl(alice, ['get', 'apis', '-n', 'team', '-o', 'name']);
    assert.equal(allowed.code, 0, allowed.stderr);
  });

  it('trusts X-Remote-* only from the front proxy certificate of an allowed name', async () => {
    const { client, ca } = standin.frontProxy();
    const asAlice = { 'x-remote-user': 'alice', 'x-remote-group': 'devs' };
    assert.equal((await direct(APIS, { cert: client, headers: asAlice })).status, 200);
    // Forged: no certificate, or one that is not the front proxy's.
    const forged = await direct(APIS, { headers: { 'x-remote-user': 'admin', 'x-remote-group': 'system:masters' } });
    assert.deepEqual([forged.status, forged.body.reason, forged.body.message], [401, 'Unauthorized', 'Unauthorized']);
    const intruder = await ca.issueClient('intruder', '/CN=intruder');
    assert.equal((await direct(APIS, { cert: intruder, headers: asAlice })).status, 401);
    // A certificate of the cluster's client CA authenticates its own subject; the headers count for nothing.
    const carol = await standin.clientCa.issueClient('carol', '/CN=carol');
    const asMaster = { 'x-remote-user': 'admin', 'x-remote-group': 'system:masters' };
    assert.equal((await direct(APIS, { cert: carol, headers: asMaster })).status, 200);
    const carolDeletes = await direct(APIS, { cert: carol, headers: asMaster, method: 'DELETE' });
    assert.equal(carolDeletes.status, 403);
    assert.match(carolDeletes.body.message ?? '', /User "carol" cannot deletecollection/);
  });

  it('refuses a client certificate of another CA with 401', async () => {
    const other = await createCertificateAuthority(standin.dir, 'other-ca');
    const mallory = await other.issueClient('mallory', '/O=system:masters/CN=mallory');
    const answer = await direct(APIS, { cert: mallory });
    assert.deepEqual([answer.status, answer.body.message], [401, 'Unauthorized']);
  });

  it('picks up a front-proxy CA rotated in the ConfigMap without a restart', async () => {
    const before = standin.frontProxy().client;
    const asAlice = { 'x-remote-user': 'alice', 'x-remote-group': 'devs' };
    await standin.rotateFrontProxyCa();
    const after = standin.frontProxy().client;
    await eventually(async () => assert.equal((await direct(APIS, { cert: after, headers: asAlice })).status, 200), {
      attempts: 200,
    });
    assert.equal((await direct(APIS, { cert: before, headers: asAlice })).status, 401);
    const r = await standin.kubectl(alice, ['get', 'apis', '-n', 'team', '-o', 'name']);
    assert.equal(r.code, 0, r.stderr);
  });

  it('caches TokenReview and SubjectAccessReview answers, allowed and denied', async () => {
    const calls = () => ({ ...standin.calls });
    const start = calls();
    assert.equal((await direct(APIS, { token: 'alice-token' })).status, 200);
    assert.equal((await direct(APIS, { token: 'bob-token' })).status, 403);
    const first = calls();
    assert.equal(first.tokenReviews - start.tokenReviews, 2);
    assert.equal(first.subjectAccessReviews - start.subjectAccessReviews, 2);
    for (let i = 0; i < 3; i++) {
      assert.equal((await direct(APIS, { token: 'alice-token' })).status, 200);
      assert.equal((await direct(APIS, { token: 'bob-token' })).status, 403);
    }
    assert.deepEqual(calls(), first);
    // Another question of a known token: only a SubjectAccessReview.
    assert.equal((await direct(`${APIS}/missing`, { token: 'alice-token' })).status, 404);
    assert.deepEqual(calls(), { ...first, subjectAccessReviews: first.subjectAccessReviews + 1 });
  });

  it("lets kube's namespace controller list and delete a deleted namespace's objects through the proxy", async () => {
    await standin.core.kubectl(['create', 'namespace', 'doomed']);
    const admin = await standin.writeKubeconfig('admin', standin.core.token);
    const doomed = JSON.parse(api('doomed-api'));
    doomed.metadata.namespace = 'doomed';
    const created = await standin.kubectl(admin, ['apply', '-f', '-'], JSON.stringify(doomed));
    assert.equal(created.code, 0, created.stderr);
    await standin.core.kubectl(['delete', 'namespace', 'doomed']);
    await eventually(
      () =>
        assert.deepEqual(
          standin.namespaceCleanups.filter((c) => c.namespace === 'doomed' && c.resource === 'apidefinitions'),
          [
            { namespace: 'doomed', resource: 'apidefinitions', verb: 'list', code: 200 },
            { namespace: 'doomed', resource: 'apidefinitions', verb: 'deletecollection', code: 200 },
          ],
        ),
      { attempts: 200 },
    );
    const gone = await standin.kubectl(admin, ['get', 'api', 'doomed-api', '-n', 'doomed']);
    assert.match(gone.stderr, /NotFound|not found/);
  });

  it('gatehouse apiserver --mode aggregated takes the delegation flags and asks the cluster', async () => {
    const data = join(dir, 'cli');
    const server = spawn(process.execPath, [
      ...GATEHOUSE,
      ...['apiserver', '--mode', 'aggregated', '--kubeconfig', standin.gatehouseKubeconfigPath],
      ...['--storage', 'memory', '--data-dir', data, '--port', '0'],
      ...['--requestheader-allowed-names', 'someone-else', '--authorization-webhook-cache-authorized-ttl', '0s'],
    ]);
    let log = '';
    server.stdout.on('data', (d: Buffer) => (log += d.toString()));
    server.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise((resolve) => server.once('exit', resolve));
    try {
      const url = await eventually(() => /"url":"(https:\/\/127\.0\.0\.1:\d+)"/.exec(log)?.[1] ?? assert.fail(log), {
        attempts: 600,
      });
      const ca = await readFile(join(data, 'tls', 'apiserver.crt'), 'utf8');
      const cli = new Agent({
        connect: { ca, cert: standin.frontProxy().client.cert, key: standin.frontProxy().client.key },
      });
      agents.push(cli);
      const status = async (headers: Record<string, string>) =>
        (await fetch(`${url}${APIS}`, { headers, dispatcher: cli } as RequestInit)).status;
      const reviews = standin.calls.subjectAccessReviews;
      assert.equal(await status({ authorization: 'Bearer alice-token' }), 200);
      assert.equal(await status({ authorization: 'Bearer alice-token' }), 200);
      // An authorized TTL of 0s caches nothing: two reviews for two requests.
      assert.equal(standin.calls.subjectAccessReviews - reviews, 2);
      assert.equal(await status({ authorization: 'Bearer bob-token' }), 403);
      // The front proxy's CN is not among --requestheader-allowed-names: its headers count for nothing.
      assert.equal(await status({ 'x-remote-user': 'alice', 'x-remote-group': 'devs' }), 401);
    } finally {
      server.kill('SIGTERM');
      await exited;
    }
  });

  it('with the cluster down keeps cached decisions and refuses the rest clearly, never hanging', async () => {
    assert.equal((await direct(APIS, { token: 'alice-token' })).status, 200);
    for (const state of ['refusing', 'hanging'] as const) {
      standin.setCore(state);
      try {
        // Cached token and decision: answered as before.
        assert.equal((await direct(APIS, { token: 'alice-token' })).status, 200);
        // Cached token, a question not asked before: 503 naming the SubjectAccessReview that failed.
        const unasked = await direct('/apis/gatehouse.dev/v1alpha1/namespaces/team/consumers', {
          token: 'alice-token',
        });
        assert.equal(unasked.status, 503, state);
        assert.equal(unasked.body.reason, 'ServiceUnavailable');
        assert.match(
          unasked.body.message ?? '',
          /authorization of User "alice" is unavailable: SubjectAccessReview at https:\/\/127\.0\.0\.1:\d+ failed/,
        );
        // A token never reviewed: 401, as kube answers when TokenReview fails.
        const unknown = await direct(APIS, { token: 'carol-token' });
        assert.deepEqual([unknown.status, unknown.body.message], [401, 'Unauthorized']);
      } finally {
        standin.setCore('up');
      }
    }
    assert.equal((await direct(APIS, { token: 'carol-token' })).status, 200);
  });
});
