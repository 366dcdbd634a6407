import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { KubeconfigError, loadKubeconfig } from './kubeconfig.ts';

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
    { name: 'one', cluster: { server: 'https://127.0.0.1:6443/', 'certificate-authority-data': Buffer.from('CA-PEM').toString('base64') } },
    { name: 'two', cluster: { server: 'https://127.0.0.1:7443', 'certificate-authority': 'ca.pem', 'insecure-skip-tls-verify': true } },
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
  await assert.rejects(loadKubeconfig(path, 'nope'), (err: unknown) => err instanceof KubeconfigError && /"nope"/.test(err.message));
});

test('a missing, unreadable or corrupt kubeconfig, or a missing file it names, is a KubeconfigError naming the file', async () => {
  const missing = join(dir, 'absent');
  await assert.rejects(loadKubeconfig(missing), (err: unknown) => err instanceof KubeconfigError && err.message === `kubeconfig ${missing}: no such file`);
  const corrupt = join(dir, 'corrupt');
  await writeFile(corrupt, 'clusters: [\n');
  await assert.rejects(loadKubeconfig(corrupt), (err: unknown) => err instanceof KubeconfigError && err.message.startsWith(`kubeconfig ${corrupt}: not valid YAML: `));
  const list = join(dir, 'list');
  await writeFile(list, '- a\n');
  await assert.rejects(loadKubeconfig(list), (err: unknown) => err instanceof KubeconfigError && /list: not a kubeconfig/.test(err.message));
  const alone = await mkdtemp(join(dir, 'alone-'));
  const path = join(alone, 'config');
  await writeFile(path, stringify(doc));
  const expected = `kubeconfig ${path}: file ${join(alone, 'token.txt')}: no such file`;
  await assert.rejects(loadKubeconfig(path, 'b'), (err: unknown) => err instanceof KubeconfigError && err.message === expected);
});
