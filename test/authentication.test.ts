// Authentication end to end, with the real kubectl and client-node against a real API server: who
// `kubectl auth whoami` says a token-file user, a ServiceAccount token and a client certificate are;
// `kubectl create token` and the TokenRequest's validation; ServiceAccount tokens expiring (by the
// server's clock, moved forward instead of waited for) and revoked by deleting their ServiceAccount;
// TokenReview through client-node.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { AuthenticationV1Api, KubeConfig, type V1TokenReview } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { KUBECTL, startTestApiServer, TEST_ISSUER, type TestApiServer } from './support/apiserver.ts';
import { eventually } from './support/eventually.ts';

const run = promisify(execFile);
const MINUTE = 60_000;

interface UserInfo {
  username: string;
  uid?: string;
  groups?: string[];
}

async function whoami(t: TestApiServer, extra: string[]): Promise<{ code: number; user?: UserInfo; stderr: string }> {
  const r = await t.kubectlResult(['auth', 'whoami', '-o', 'json', ...extra]);
  return { code: r.code, stderr: r.stderr, user: r.code === 0 ? JSON.parse(r.stdout).status.userInfo : undefined };
}

async function createToken(t: TestApiServer, account: string, duration = '10m'): Promise<string> {
  return (await t.kubectl(['create', 'token', account, '--duration', duration])).trim();
}

describe('kubectl auth whoami and create token', () => {
  let t: TestApiServer;
  let offset = 0;
  before(async () => {
    t = await startTestApiServer('memory', {
      tokens: ['alice-token,alice,alice-uid,"team-a,team-b"'],
      clock: () => Date.now() + offset,
    });
  });
  after(() => t.stop());

  it('names a token-file user with its groups and system:authenticated once', async () => {
    const { user } = await whoami(t, ['--token', 'alice-token']);
    const groups = ['team-a', 'team-b', 'system:authenticated'];
    assert.deepEqual(user, { username: 'alice', uid: 'alice-uid', groups });
  });

  it('answers whoami for the user a request impersonates, as kube-apiserver', async () => {
    const { user } = await whoami(t, ['--as', 'bob', '--as-group', 'auditors']);
    assert.deepEqual(user, { username: 'bob', groups: ['auditors', 'system:authenticated'] });
  });

  it('issues a ServiceAccount token that authenticates as the ServiceAccount, bound to its uid', async () => {
    await t.kubectl(['create', 'serviceaccount', 'robot']);
    const uid = (await t.kubectl(['get', 'serviceaccount', 'robot', '-o', 'jsonpath={.metadata.uid}'])).trim();
    const token = await createToken(t, 'robot');
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    assert.equal(claims.iss, TEST_ISSUER);
    assert.deepEqual(claims.aud, [TEST_ISSUER]);
    assert.equal(claims.sub, 'system:serviceaccount:default:robot');
    assert.equal(claims.exp - claims.iat, 600);
    assert.deepEqual(claims['kubernetes.io'], { namespace: 'default', serviceaccount: { name: 'robot', uid } });
    const { user } = await whoami(t, ['--token', token]);
    assert.deepEqual(user, {
      username: 'system:serviceaccount:default:robot',
      uid,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'],
    });
  });

  it('refuses a token duration below 10 minutes naming the field', async () => {
    await t.kubectl(['create', 'serviceaccount', 'brief']);
    const r = await t.kubectlResult(['create', 'token', 'brief', '--duration', '5m']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /TokenRequest\.authentication\.k8s\.io "brief" is invalid: spec\.expirationSeconds: /);
    assert.match(r.stderr, /Invalid value: 300: may not specify a duration less than 10 minutes/);
    const missing = await t.kubectlResult(['create', 'token', 'nobody']);
    assert.match(missing.stderr, /serviceaccounts "nobody" not found/);
  });

  it('stops accepting a token once it has expired', async () => {
    await t.kubectl(['create', 'serviceaccount', 'shortlived']);
    const token = await createToken(t, 'shortlived', '10m');
    offset = 9 * MINUTE;
    assert.equal((await whoami(t, ['--token', token])).code, 0, 'valid until it expires');
    // Past its expiry and kube's minute of leeway for clock skew.
    offset = 11 * MINUTE + 5_000;
    const expired = await whoami(t, ['--token', token]);
    assert.notEqual(expired.code, 0);
    assert.match(expired.stderr, /Unauthorized/);
    offset = 0;
  });

  it('revokes the tokens of a deleted ServiceAccount, also when one of the same name is made again', async () => {
    await t.kubectl(['create', 'serviceaccount', 'doomed']);
    const token = await createToken(t, 'doomed');
    assert.equal((await whoami(t, ['--token', token])).code, 0);
    await t.kubectl(['delete', 'serviceaccount', 'doomed']);
    await eventually(async () => assert.match((await whoami(t, ['--token', token])).stderr, /Unauthorized/));
    await t.kubectl(['create', 'serviceaccount', 'doomed']);
    const again = await whoami(t, ['--token', token]);
    assert.match(again.stderr, /Unauthorized/, 'a new ServiceAccount of the same name has another uid');
    assert.equal((await whoami(t, ['--token', await createToken(t, 'doomed')])).code, 0);
  });
});

describe('TokenReview through client-node', () => {
  let t: TestApiServer;
  let api: AuthenticationV1Api;
  before(async () => {
    t = await startTestApiServer('memory', { tokens: ['bob-token,bob,bob-uid,"team-b"'] });
    const kc = new KubeConfig();
    kc.loadFromFile(t.kubeconfigPath);
    api = kc.makeApiClient(AuthenticationV1Api);
  });
  after(() => t.stop());

  const review = (token: string, audiences?: string[]): Promise<V1TokenReview> =>
    api.createTokenReview({
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences } },
    });

  it('authenticates token-file and ServiceAccount tokens for their audiences', async () => {
    const bob = { username: 'bob', uid: 'bob-uid', groups: ['team-b', 'system:authenticated'] };
    assert.deepEqual({ ...(await review('bob-token')).status?.user }, bob);
    await t.kubectl(['create', 'serviceaccount', 'reviewed']);
    const token = (await t.kubectl(['create', 'token', 'reviewed', '--audience', 'https://vault.example'])).trim();
    const forVault = await review(token, ['https://vault.example']);
    assert.equal(forVault.status?.authenticated, true);
    assert.equal(forVault.status?.user?.username, 'system:serviceaccount:default:reviewed');
    assert.deepEqual(forVault.status?.audiences, ['https://vault.example']);
    // Meant for Vault, not for the API server: neither a review for the server's audience nor a request take it.
    const forServer = await review(token);
    assert.equal(forServer.status?.authenticated, false);
    assert.match(forServer.status?.error ?? '', /meant for another audience/);
    assert.equal((await t.request('/api/v1/namespaces', {}, token)).status, 401);
  });

  it('refuses a review without a token, naming the field', async () => {
    const res = await t.request('/apis/authentication.k8s.io/v1/tokenreviews', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: {} }),
    });
    assert.equal(res.status, 422);
    const status = await res.json();
    assert.equal(status.details.causes[0].field, 'spec.token');
  });
});

describe('client certificates (--client-ca-file)', () => {
  let t: TestApiServer;
  let dir: string;
  const kubeconfigFor = async (name: string, cert: string, key: string): Promise<string> => {
    const path = join(dir, `${name}.kubeconfig`);
    await writeFile(
      path,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'c',
            cluster: { server: t.url, 'certificate-authority-data': Buffer.from(t.ca).toString('base64') },
          },
        ],
        users: [
          {
            name: 'u',
            user: {
              'client-certificate-data': Buffer.from(await readFile(cert)).toString('base64'),
              'client-key-data': Buffer.from(await readFile(key)).toString('base64'),
            },
          },
        ],
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'c',
      }),
    );
    return path;
  };
  const openssl = (args: string[]) => run('openssl', args, { cwd: dir });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  async function issue(ca: string, name: string, subject: string): Promise<string> {
    await writeFile(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
    await openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
    await openssl([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-extfile',
      'client.ext',
    ]);
    return kubeconfigFor(name, join(dir, `${name}.crt`), join(dir, `${name}.key`));
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-x509-'));
    for (const ca of ['client-ca', 'other-ca']) {
      const files = ['-keyout', `${ca}.key`, '-out', `${ca}.crt`];
      await openssl(['req', '-x509', ...ec, ...files, '-days', '1', '-subj', `/CN=${ca}`]);
    }
    t = await startTestApiServer('memory', { clientCaFile: join(dir, 'client-ca.crt') });
  });
  after(async () => {
    await t.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const whoamiWith = async (kubeconfig: string) => {
    try {
      const { stdout } = await run(KUBECTL, ['--kubeconfig', kubeconfig, 'auth', 'whoami', '-o', 'json']);
      return { user: JSON.parse(stdout).status.userInfo as UserInfo, stderr: '' };
    } catch (err) {
      return { user: undefined, stderr: (err as { stderr: string }).stderr };
    }
  };

  it('authenticates the common name as the user and the organizations as groups', async () => {
    const { user } = await whoamiWith(await issue('client-ca', 'carol', '/O=devs/O=ops/CN=carol'));
    assert.deepEqual(user, { username: 'carol', groups: ['devs', 'ops', 'system:authenticated'] });
  });

  it('refuses a certificate of another CA', async () => {
    const { user, stderr } = await whoamiWith(await issue('other-ca', 'mallory', '/O=system:masters/CN=mallory'));
    assert.equal(user, undefined);
    assert.match(stderr, /Unauthorized/);
  });

  it('keeps bearer tokens working beside certificates', async () => {
    assert.equal((await t.request('/api/v1/namespaces')).status, 200);
    assert.equal((await t.request('/api/v1/namespaces', {}, null)).status, 401);
  });
});
