// What the `gatehouse` command says when it cannot do its job: one line on stderr naming
// the flag, file or server at fault, run as a user runs it (a child process) against a
// real API server.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeKubeconfig } from '../src/cli/kubeconfig.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { gatehouse } from './support/cli.ts';

async function listening(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

/** Runs `run` on every item at once (each a process of its own) and pairs each item with its result. */
async function each<T, R>(items: T[], run: (item: T) => Promise<R>): Promise<Array<[T, R]>> {
  const results = await Promise.all(items.map(run));
  return items.map((item, i) => [item, results[i]]);
}

describe('gatehouse errors', () => {
  /** A read command and the two long-running ones, which must fail as promptly. */
  const commands = () => [
    ['get', 'syncs'],
    ['controller', '--data-dir', join(dir, 'c')],
    ['gateway', '--port', '0', '--internal-port', '0', '--data-dir', join(dir, 'g')],
  ];
  let api: TestApiServer;
  let dir: string;
  before(async () => {
    api = await startTestApiServer();
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-cli-errors-'));
  });
  after(async () => {
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('names a missing or corrupt kubeconfig, from --kubeconfig or $KUBECONFIG, for every command', async () => {
    const missing = join(dir, 'absent');
    const expected = `gatehouse: kubeconfig ${missing}: no such file\n`;
    const r0 = await gatehouse(['get', 'syncs', '--kubeconfig', missing]);
    assert.deepEqual(r0, { code: 1, stdout: '', stderr: expected });
    for (const [command, r] of await each(commands(), (command) => gatehouse(command, { KUBECONFIG: missing }))) {
      assert.deepEqual([r.code, r.stderr], [1, expected], `${command[0]}: ${r.stderr}`);
    }
    const corrupt = join(dir, 'corrupt');
    await writeFile(corrupt, 'clusters: [\n');
    const r = await gatehouse(['get', 'sources', '--kubeconfig', corrupt]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^gatehouse: kubeconfig ${corrupt}: not valid YAML: .+\\n$`));
  });

  it('says the API server cannot be reached, naming its URL and the kubeconfig', async () => {
    const { server, port } = await listening();
    await new Promise((resolve) => server.close(resolve));
    const kubeconfig = join(dir, 'down');
    await writeKubeconfig(kubeconfig, `https://127.0.0.1:${port}`, api.ca, api.token);
    const r = await gatehouse(['get', 'syncs', '--kubeconfig', kubeconfig]);
    const expected =
      `gatehouse: cannot reach the API server at https://127.0.0.1:${port} ` +
      `(from kubeconfig ${kubeconfig}): connection refused (is it running?)\n`;
    assert.deepEqual([r.code, r.stderr], [1, expected]);
  });

  it('says the token in the kubeconfig was refused, and the gateway and controller stop at once on it', async () => {
    const kubeconfig = join(dir, 'wrong-token');
    await writeKubeconfig(kubeconfig, api.url, api.ca, 'not-the-token');
    const expected =
      `gatehouse: the API server at ${api.url} refused the credentials in kubeconfig ${kubeconfig} ` +
      '(401 Unauthorized): the token or certificate is wrong or no longer valid\n';
    for (const [command, r] of await each(commands(), (command) =>
      gatehouse([...command, '--kubeconfig', kubeconfig]),
    )) {
      assert.deepEqual([r.code, r.stderr], [1, expected], `${command[0]}: ${r.stderr}`);
    }
  });

  it('names the flag whose port is in use', async () => {
    const busy = await listening();
    try {
      const port = String(busy.port);
      const inUse = (flag: string) => `gatehouse: ${flag} ${port} (127.0.0.1:${port}) is in use`;
      const apiserver = await gatehouse([
        'apiserver',
        '--storage',
        'memory',
        '--data-dir',
        join(dir, 'a'),
        '--port',
        port,
      ]);
      assert.equal(apiserver.code, 1);
      assert.ok(apiserver.stderr.startsWith(inUse('--port')), apiserver.stderr);
      const gateway = await gatehouse([
        'gateway',
        '--kubeconfig',
        api.kubeconfigPath,
        '--port',
        '0',
        '--internal-port',
        port,
        '--data-dir',
        join(dir, 'g'),
      ]);
      assert.equal(gateway.code, 1);
      assert.ok(gateway.stderr.startsWith(inUse('--internal-port')), gateway.stderr);
    } finally {
      busy.server.close();
    }
  });
});
