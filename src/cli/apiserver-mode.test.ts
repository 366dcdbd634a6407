import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { apiServerMode, clusterOf } from './apiserver-mode.ts';

test('--mode takes standalone or aggregated, and names what it refuses', () => {
  assert.equal(apiServerMode('standalone'), 'standalone');
  assert.equal(apiServerMode('aggregated'), 'aggregated');
  assert.throws(() => apiServerMode('cluster'), /"cluster" is not a mode: standalone or aggregated/);
});

test('standalone has no cluster, and refuses --kubeconfig rather than ignore it', async () => {
  assert.equal(await clusterOf({ mode: 'standalone' }), undefined);
  await assert.rejects(clusterOf({ mode: 'standalone', kubeconfig: 'k' }), (err: Error) => {
    assert.ok(err instanceof InvalidArgumentError);
    assert.equal(err.message, '--kubeconfig is only valid with --mode aggregated');
    return true;
  });
});
