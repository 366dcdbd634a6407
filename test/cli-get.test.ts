// `gatehouse get syncs` as a user reads it: a SUSPENDED column, and a Ready message of
// several lines kept on its row — the same columns kubectl shows.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { gatehouse } from './support/cli.ts';

describe('gatehouse get syncs', () => {
  let api: TestApiServer;
  before(async () => {
    api = await startTestApiServer();
  });
  after(() => api.stop());

  it('shows SUSPENDED and keeps a multi-line message on one line', async () => {
    await api.kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'gatehouse.dev/v1alpha1',
        kind: 'Sync',
        metadata: { name: 'apps' },
        spec: { sourceRef: { kind: 'GitRepository', name: 'apps' }, path: './deploy', suspend: true },
      }),
    );
    const lines = [
      '2 of 8 objects failed validation; nothing was applied:',
      'apis/a.yaml: ApiDefinition default/a: spec.listenPath: Required value',
      'apis/b.yaml: ApiDefinition default/b: spec.upstream: Required value',
    ];
    const message = lines.join('\n  ');
    const oneLine = lines.join(' ');
    const lastTransitionTime = new Date().toISOString();
    const ready = { type: 'Ready', status: 'False', reason: 'ValidationFailed', message, lastTransitionTime };
    await api.kubectl([
      'patch',
      'sync',
      'apps',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({
        status: { conditions: [ready] },
      }),
    ]);

    const r = await gatehouse(['get', 'syncs', '--kubeconfig', api.kubeconfigPath]);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trimEnd().split('\n');
    assert.equal(rows.length, 2, r.stdout);
    assert.match(rows[0], /^NAME\s+SOURCE\s+PATH\s+SUSPENDED\s+READY\s+STATUS\s+AGE$/);
    assert.match(rows[1], /^apps\s+GitRepository\/apps\s+\.\/deploy\s+true\s+False\s+(.+?)\s+\d+s$/);
    assert.ok(rows[1].includes(oneLine), rows[1]);

    const kubectl = (await api.kubectl(['get', 'syncs'])).trimEnd().split('\n');
    assert.equal(kubectl.length, 2, kubectl.join('\n'));
    assert.match(kubectl[1], /^apps\s+GitRepository\/apps\s+\.\/deploy\s+true\s+False\s+2 of 8 objects/);
    assert.equal(await api.kubectl(['get', 'sync', 'apps', '-o', 'jsonpath={.status.conditions[0].message}']), message);
  });
});
