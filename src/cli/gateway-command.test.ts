import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { registerGatewayCommand } from './gateway-command.ts';
import { defaultKubeconfig } from './options.ts';
import { componentKubeconfig } from './target.ts';

function program(): Command {
  const p = new Command('gatehouse').exitOverride();
  registerGatewayCommand(p);
  return p;
}

test('declares the gateway flags with their defaults', () => {
  const gateway = program().commands.find((c) => c.name() === 'gateway')!;
  const flags = Object.fromEntries(gateway.options.map((o) => [o.long, o.defaultValue]));
  assert.deepEqual(flags, {
    '--kubeconfig': undefined,
    '--port': 8080,
    '--internal-port': 8081,
    '--bind': '127.0.0.1',
    '--namespace': undefined,
    '--selector': undefined,
    '--data-dir': '.gatehouse/gateway',
    '--workers': 1,
    '--access-log': 'sampled:0.01',
    '--access-log-path': undefined,
    '--access-log-maxsize': 100,
    '--access-log-maxbackup': 5,
  });
});

test('refuses --namespace together with --selector and a bad port, before starting anything', async () => {
  await assert.rejects(
    program().parseAsync(['gateway', '--kubeconfig', 'k', '--namespace', 'a', '--selector', 'b=c'], { from: 'user' }),
    /alternatives/,
  );
  const p = program();
  p.commands[0].exitOverride().configureOutput({ writeErr: () => {} });
  await assert.rejects(
    p.parseAsync(['gateway', '--kubeconfig', 'k', '--port', '70000'], { from: 'user' }),
    /not a port number/,
  );
  await assert.rejects(
    p.parseAsync(['gateway', '--kubeconfig', 'k', '--workers', '0'], { from: 'user' }),
    /not a number of workers/,
  );
});

test('the kubeconfig defaults to the first file of $KUBECONFIG, as for every command, else the one `up` writes', () => {
  assert.equal(defaultKubeconfig({ KUBECONFIG: '/etc/a.yaml:/etc/b.yaml' }), '/etc/a.yaml');
  assert.equal(defaultKubeconfig({}), '.gatehouse/kubeconfig');
});

test('a component without --kubeconfig or $KUBECONFIG uses the in-cluster configuration inside a Pod', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-pod-'));
  try {
    const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
    assert.equal(await componentKubeconfig(undefined, { env, dir }), resolve('.gatehouse/kubeconfig'));
    await writeFile(join(dir, 'token'), 't');
    assert.equal(await componentKubeconfig(undefined, { env, dir }), undefined);
    assert.equal(await componentKubeconfig('k', { env, dir }), resolve('k'));
    assert.equal(await componentKubeconfig(undefined, { env: { ...env, KUBECONFIG: '/etc/a' }, dir }), '/etc/a');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
