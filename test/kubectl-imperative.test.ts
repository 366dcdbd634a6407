// End-to-end: kubectl's imperative commands for built-in kinds, which send their bodies
// as Kubernetes protobuf, against a real Gatehouse API server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';

describe('kubectl imperative create of core kinds (protobuf bodies)', () => {
  let t: TestApiServer;
  before(async () => {
    t = await startTestApiServer();
  });
  after(async () => {
    await t.stop();
  });

  it('creates a namespace', async () => {
    assert.match(await t.kubectl(['create', 'namespace', 'imperative']), /namespace\/imperative created/);
    const ns = JSON.parse(await t.kubectl(['get', 'namespace', 'imperative', '-o', 'json']));
    assert.equal(ns.kind, 'Namespace');
    assert.equal(ns.metadata.name, 'imperative');
    assert.ok(ns.metadata.uid);
  });

  it('creates a generic secret from literals, stored as base64 data', async () => {
    assert.match(
      await t.kubectl([
        'create',
        'secret',
        'generic',
        'creds',
        '-n',
        'imperative',
        '--from-literal=username=admin',
        '--from-literal=password=s3cr=t',
      ]),
      /secret\/creds created/,
    );
    const secret = JSON.parse(await t.kubectl(['get', 'secret', 'creds', '-n', 'imperative', '-o', 'json']));
    assert.equal(secret.metadata.namespace, 'imperative');
    assert.equal(secret.type, 'Opaque');
    assert.deepEqual(Object.keys(secret.data).sort(), ['password', 'username']);
    assert.equal(Buffer.from(secret.data.username, 'base64').toString(), 'admin');
    assert.equal(Buffer.from(secret.data.password, 'base64').toString(), 's3cr=t');
  });

  it('creates a configmap from literals with labels from a later label command', async () => {
    assert.match(
      await t.kubectl([
        'create',
        'configmap',
        'settings',
        '--from-literal=mode=fast',
        '--from-literal=greeting=héllo wörld',
      ]),
      /configmap\/settings created/,
    );
    await t.kubectl(['label', 'configmap', 'settings', 'tier=gold']);
    const cm = JSON.parse(await t.kubectl(['get', 'configmap', 'settings', '-o', 'json']));
    assert.deepEqual(cm.data, { mode: 'fast', greeting: 'héllo wörld' });
    assert.equal(cm.metadata.labels.tier, 'gold');
    assert.equal(cm.metadata.namespace, 'default');
  });

  it('reports a duplicate create as AlreadyExists', async () => {
    const r = await t.kubectlResult(['create', 'configmap', 'settings', '--from-literal=a=b']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /configmaps "settings" already exists/);
  });
});
