// API keys from the command line: `gatehouse create apikey` prints the minted key, the one
// time it is shown; `kubectl apply` of an ApiKey gets a Warning saying where the key went; the
// registry stores only its hash.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hashApiKey } from '../src/api/kinds/api-key/index.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { gatehouse } from './support/cli.ts';

describe('gatehouse create apikey', () => {
  let api: TestApiServer;
  before(async () => {
    api = await startTestApiServer();
    const consumer = { apiVersion: 'gatehouse.dev/v1alpha1', kind: 'Consumer', metadata: { name: 'acme' }, spec: {} };
    await api.kubectl(['apply', '-f', '-'], JSON.stringify(consumer));
  });
  after(() => api.stop());

  it('prints the minted key once on stdout; the server keeps its hash and the expiry asked for', async () => {
    const before = Date.now();
    const r = await gatehouse([
      'create',
      'apikey',
      'acme',
      '--name',
      'acme-ci',
      '--expires',
      '720h',
      '--kubeconfig',
      api.kubeconfigPath,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const key = r.stdout.trim();
    assert.match(key, /^gh_[A-Za-z0-9_-]{43}$/);
    assert.match(r.stderr, /✔ ApiKey default\/acme-ci for Consumer acme, expires \d{4}-\d\d-\d\dT[\d:]{8}Z\n/);
    assert.match(r.stderr, /shown only now/);
    type Stored = { spec: { hash: string; expires: string }; status?: { key?: string } };
    const stored = JSON.parse(await api.kubectl(['get', 'apikey', 'acme-ci', '-o', 'json'])) as Stored;
    assert.equal(stored.spec.hash, hashApiKey(key));
    assert.equal(stored.status?.key, undefined);
    const lifetime = Date.parse(stored.spec.expires) - before;
    assert.ok(lifetime > 719 * 3_600_000 && lifetime <= 720 * 3_600_000 + 60_000, `expires ${stored.spec.expires}`);

    const unnamed = await gatehouse(['create', 'apikey', 'acme', '--kubeconfig', api.kubeconfigPath]);
    assert.equal(unnamed.code, 0, unnamed.stderr);
    assert.match(unnamed.stderr, /✔ ApiKey default\/acme-[a-z0-9]{5} for Consumer acme\n/);
  });

  it('stores only the hash: what the registry writes to storage never holds the key, on create or update', async () => {
    const path = '/apis/gatehouse.dev/v1alpha1/namespaces/default/apikeys';
    const json = { 'content-type': 'application/json' };
    const spec = { consumer: 'acme' };
    const body = JSON.stringify({
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'ApiKey',
      metadata: { name: 'raw' },
      spec,
    });
    const created = await api.request(path, { method: 'POST', headers: json, body });
    assert.equal(created.status, 201);
    type Answer = { spec: { hash: string }; status?: { key?: string } };
    const answer = (await created.json()) as Answer;
    const key = answer.status?.key as string;
    assert.match(key, /^gh_/);
    const stored = async () =>
      (await api.storage.get({ resource: 'gatehouse.dev/apikeys', namespace: 'default', name: 'raw' })).value;
    const check = async (when: string) => {
      const value = await stored();
      assert.equal(value.includes(key), false, `${when}: the key is in storage: ${value}`);
      assert.equal((JSON.parse(value) as Answer).spec.hash, hashApiKey(key), when);
    };
    await check('after create');
    // A client that sends the create answer back (status.key included) must not get it stored.
    const put = await api.request(`${path}/raw`, { method: 'PUT', headers: json, body: JSON.stringify(answer) });
    assert.equal(put.status, 200);
    await check('after an update carrying status.key');
    const patch = await api.request(`${path}/raw`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ status: { key } }),
    });
    assert.equal(patch.status, 200);
    await check('after a merge patch of status.key');
  });

  it('refuses a missing Consumer and a bad duration, naming them', async () => {
    const missing = await gatehouse(['create', 'apikey', 'nobody', '--kubeconfig', api.kubeconfigPath]);
    assert.deepEqual([missing.code, missing.stdout], [1, '']);
    assert.match(missing.stderr, /Consumer default\/nobody does not exist/);
    const bad = await gatehouse(['create', 'apikey', 'acme', '--expires', 'soon', '--kubeconfig', api.kubeconfigPath]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /"soon" is not a positive duration/);
  });

  it('kubectl apply of an ApiKey warns that its key is shown only to create; not when it has a hash', async () => {
    const key = (name: string, extra: object = {}) =>
      JSON.stringify({
        apiVersion: 'gatehouse.dev/v1alpha1',
        kind: 'ApiKey',
        metadata: { name },
        spec: { consumer: 'acme', ...extra },
      });
    const minted = await api.kubectlResult(['apply', '-f', '-'], key('applied'));
    assert.equal(minted.code, 0, minted.stderr);
    const warning =
      'Warning: ApiKey default/applied: its key is shown only in this create response (status.key) ' +
      'and is never stored; kubectl apply prints no key: use "gatehouse create apikey"';
    assert.ok(
      minted.stderr.split('\n').some((line) => line.startsWith(warning)),
      minted.stderr,
    );
    const hash = hashApiKey('gh_minted-elsewhere');
    const hashed = await api.kubectlResult(['apply', '-f', '-'], key('from-git', { hash }));
    assert.deepEqual([hashed.code, hashed.stderr], [0, '']);
  });
});
