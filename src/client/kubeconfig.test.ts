import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { KubeconfigError, kubeconfigFromData, loadKubeconfig } from './kubeconfig.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-kubeconfig-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const doc = {
  apiVersion: 'v1',
  kind: 'Config',
  'current-context': 'a',
  clusters: [
    {
      name: 'one',
      cluster: {
        server: 'https://127.0.0.1:6443/',
        'certificate-authority-data': Buffer.from('CA-PEM').toString('base64'),
      },
    },
    {
      name: 'two',
      cluster: {
        server: 'https://127.0.0.1:7443',
        'certificate-authority': 'ca.pem',
        'insecure-skip-tls-verify': true,
      },
    },
  ],
  users: [
    { name: 'tok', user: { token: 'secret' } },
    { name: 'file', user: { tokenFile: 'token.txt' } },
  ],
  contexts: [
    { name: 'a', context: { cluster: 'one', user: 'tok', namespace: 'team' } },
    { name: 'b', context: { cluster: 'two', user: 'file' } },
  ],
};

test('reads the current context: server without trailing slash, inline CA, token, namespace', async () => {
  const path = join(dir, 'config');
  await writeFile(path, stringify(doc));
  const config = await loadKubeconfig(path);
  assert.deepEqual(config, {
    server: 'https://127.0.0.1:6443',
    ca: 'CA-PEM',
    insecureSkipTlsVerify: false,
    token: 'secret',
    clientCert: undefined,
    clientKey: undefined,
    namespace: 'team',
  });
});

test('a named context reads files relative to the kubeconfig and defaults the namespace', async () => {
  const path = join(dir, 'config');
  await writeFile(path, stringify(doc));
  await writeFile(join(dir, 'ca.pem'), 'FILE-CA');
  await writeFile(join(dir, 'token.txt'), 'from-file\n');
  const config = await loadKubeconfig(path, 'b');
  assert.equal(config.ca, 'FILE-CA');
  assert.equal(config.token, 'from-file');
  assert.equal(config.insecureSkipTlsVerify, true);
  assert.equal(config.namespace, 'default');
});

test('an unknown context is a KubeconfigError naming it', async () => {
  const path = join(dir, 'config');
  await writeFile(path, stringify(doc));
  await assert.rejects(
    loadKubeconfig(path, 'nope'),
    (err: unknown) => err instanceof KubeconfigError && /"nope"/.test(err.message),
  );
});

test('a missing, corrupt or non-mapping kubeconfig, or a missing file it names, is refused naming it', async () => {
  const refused = (path: string, context?: string) =>
    loadKubeconfig(path, context).then(
      () => assert.fail(`${path} was read`),
      (err: unknown) => {
        assert.ok(err instanceof KubeconfigError, String(err));
        return err.message;
      },
    );
  const missing = join(dir, 'absent');
  assert.equal(await refused(missing), `kubeconfig ${missing}: no such file`);
  const corrupt = join(dir, 'corrupt');
  await writeFile(corrupt, 'clusters: [\n');
  assert.ok((await refused(corrupt)).startsWith(`kubeconfig ${corrupt}: not valid YAML: `));
  const list = join(dir, 'list');
  await writeFile(list, '- a\n');
  assert.equal(await refused(list), `kubeconfig ${list}: not a kubeconfig (expected a YAML mapping)`);
  const alone = await mkdtemp(join(dir, 'alone-'));
  const path = join(alone, 'config');
  await writeFile(path, stringify(doc));
  assert.equal(await refused(path, 'b'), `kubeconfig ${path}: file ${join(alone, 'token.txt')}: no such file`);
});

test('a kubeconfig from a Secret: inline credentials only, no plugin run and no file read', async () => {
  const origin = 'Secret default/remote key value';
  const config = await kubeconfigFromData(stringify(doc), origin);
  assert.equal(config.server, 'https://127.0.0.1:6443');
  assert.equal(config.ca, 'CA-PEM');
  assert.equal(config.token, 'secret');
  const refused = (changed: object) =>
    kubeconfigFromData(stringify({ ...doc, ...changed }), origin).then(
      () => assert.fail('accepted'),
      (err: Error) => {
        assert.ok(err instanceof KubeconfigError);
        return err.message;
      },
    );
  const plugin = { users: [{ name: 'tok', user: { exec: { command: 'aws', apiVersion: 'x' } } }] };
  assert.equal(
    await refused(plugin),
    `${origin}: user "tok" uses an exec plugin, which is not run: a kubeconfig from a Secret must carry its ` +
      'credentials inline',
  );
  const provider = { users: [{ name: 'tok', user: { 'auth-provider': { name: 'gcp' } } }] };
  assert.match(await refused(provider), /user "tok" uses an auth-provider plugin, which is not run/);
  assert.equal(
    await refused({ 'current-context': 'b' }),
    `${origin}: file token.txt is not read: a kubeconfig from a Secret must carry its credentials inline`,
  );
});
