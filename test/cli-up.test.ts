// `gatehouse up` as a user runs it: a real process on PGlite on disk, driven by kubectl,
// stopped with SIGINT or SIGTERM (clean exit) and with SIGKILL right after an acknowledged write.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { AuditEvent } from '../src/apiserver/audit/event.ts';
import { KUBECTL } from './support/apiserver.ts';
import { GATEHOUSE, gatehouse } from './support/cli.ts';
import { eventually } from './support/eventually.ts';
import { fileUrl, makeClientKey, makeRepo, startSshGitServer } from './support/git-servers.ts';
import { freshPgliteDir } from './support/pglite.ts';

const exec = promisify(execFile);

interface Running {
  proc: ChildProcess;
  url: string;
  gatewayUrl: string;
  exited: Promise<number | null>;
  /** What it wrote to stderr so far. */
  stderr(): string;
}

async function up(dataDir: string, extra: string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<Running> {
  const ports = ['--api-port', '0', '--gateway-port', '0', '--gateway-internal-port', '0', '--hook-port', '0'];
  const args = [...GATEHOUSE, 'up', '--data-dir', dataDir, ...ports, ...extra];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => void (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const [url, gatewayUrl] = await new Promise<[string, string]>((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Gatehouse is up\. API server: (https:\/\/\S+)[^\n]*\n\s+gateway: (http:\/\/\S+)/.exec(out);
      if (m) resolve([m[1], m[2]]);
    });
    void exited.then((code) => reject(new Error(`gatehouse up exited with ${code}: ${out}`)));
  });
  return { proc, url, gatewayUrl, exited, stderr: () => stderr };
}

/** This environment without a Git identity: no global or system config, no identity variables. */
async function withoutGitIdentity(home: string): Promise<NodeJS.ProcessEnv> {
  await mkdir(home, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config') };
  env.GIT_CONFIG_NOSYSTEM = '1';
  for (const who of ['AUTHOR', 'COMMITTER']) for (const what of ['NAME', 'EMAIL']) delete env[`GIT_${who}_${what}`];
  delete env.EMAIL;
  delete env.GIT_CONFIG_GLOBAL;
  return env;
}

describe('gatehouse up', () => {
  let dir: string;
  const kubectl = async (args: string[], input?: string) => {
    const child = exec(KUBECTL, [
      '--kubeconfig',
      join(dir, 'kubeconfig'),
      '--cache-dir',
      join(dir, 'kube-cache'),
      ...args,
    ]);
    if (input !== undefined) child.child.stdin?.end(input);
    return (await child).stdout;
  };
  const api = (name: string) =>
    JSON.stringify({
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'ApiDefinition',
      metadata: { name },
      spec: { listenPath: `/${name}`, upstream: { targets: [{ url: 'http://127.0.0.1:9' }] } },
    });

  /** One `gatehouse up` on `dir` that the tests below share, in order: each start costs seconds,
   * so a test that stops it starts the next one. */
  let running: Running | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-up-'));
    // A first start on an empty directory is the demo's, below.
    await freshPgliteDir(join(dir, 'pglite'));
    running = await up(dir);
  });
  after(async () => {
    if (running && running.proc.exitCode === null) {
      running.proc.kill('SIGTERM');
      await running.exited;
    }
    await rm(dir, { recursive: true, force: true });
  });
  const current = () => {
    assert.ok(running, 'gatehouse up is running');
    return running;
  };

  it('serves an API applied with kubectl through its gateway', async () => {
    const upstream = createServer((req, res) => res.end(JSON.stringify({ path: req.url })));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    try {
      const target = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
      await kubectl(
        ['apply', '-f', '-'],
        JSON.stringify({
          apiVersion: 'gatehouse.dev/v1alpha1',
          kind: 'ApiDefinition',
          metadata: { name: 'echo' },
          spec: { listenPath: '/echo/', stripListenPath: true, upstream: { targets: [{ url: target }] } },
        }),
      );
      let status = 0;
      let body = '';
      for (let i = 0; i < 100 && status !== 200; i++) {
        const res = await fetch(`${current().gatewayUrl}/echo/hello`);
        status = res.status;
        body = await res.text();
        if (status !== 200) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(status, 200);
      assert.deepEqual(JSON.parse(body), { path: '/hello' });
      await kubectl(['delete', 'api', 'echo']);
    } finally {
      upstream.close();
    }
    // Recorded in DATA_DIR/audit.log by the built-in policy, as the log's queue drains.
    await eventually(async () => {
      const lines = (await readFile(join(dir, 'audit.log'), 'utf8')).trim().split('\n');
      const echo = lines
        .map((l) => JSON.parse(l) as AuditEvent)
        .filter((e) => e.objectRef?.name === 'echo' && !e.objectRef.subresource && e.user.username === 'admin');
      const writes = echo.filter((e) => e.verb !== 'get').map((e) => [e.verb, e.level, e.responseStatus?.code]);
      assert.deepEqual(writes, [
        ['create', 'RequestResponse', 201],
        ['delete', 'RequestResponse', 200],
      ]);
    });
  });

  it('refuses a second up, and an apiserver on its PGlite directory, naming the pid that holds it', async () => {
    const first = current();
    const kubeconfig = await readFile(join(dir, 'kubeconfig'), 'utf8');
    // Runs a command to its exit; one that starts serving instead is stopped and reported.
    const refused = async (args: string[]) => {
      const proc = spawn(process.execPath, [...GATEHOUSE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      proc.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
      proc.stdout.on('data', (d: Buffer) => {
        if (/API server listening|Gatehouse is up/.test(d.toString())) proc.kill('SIGTERM');
      });
      const [code, signal] = (await once(proc, 'exit')) as [number | null, string | null];
      return { code: signal ?? code, stderr };
    };
    const ports = ['--api-port', '0', '--gateway-port', '0', '--gateway-internal-port', '0', '--hook-port', '0'];
    const second = await refused(['up', '--data-dir', dir, ...ports]);
    assert.equal(second.code, 1);
    assert.ok(second.stderr.includes(`${dir} is in use by process ${first.proc.pid}`), second.stderr);
    const pglite = join(dir, 'pglite');
    const apiserver = await refused([
      'apiserver',
      '--storage',
      `pglite:${pglite}`,
      '--data-dir',
      join(dir, 'other'),
      '--port',
      '0',
    ]);
    assert.equal(apiserver.code, 1);
    assert.ok(apiserver.stderr.includes(`${pglite} is in use by process ${first.proc.pid}`), apiserver.stderr);
    assert.equal(await readFile(join(dir, 'kubeconfig'), 'utf8'), kubeconfig, "the kubeconfig is the first one's");
    assert.match(await kubectl(['get', 'namespaces']), /^default\s/m);
  });

  it('loses no acknowledged write when killed with SIGKILL', async () => {
    for (let i = 0; i < 5; i++) await kubectl(['apply', '-f', '-'], api(`acked-${i}`));
    const killed = current();
    running = undefined;
    killed.proc.kill('SIGKILL');
    await killed.exited;
    running = await up(dir);
    const names = (await kubectl(['get', 'apis', '-o', 'name'])).trim().split('\n');
    for (let i = 0; i < 5; i++)
      assert.ok(names.includes(`apidefinition.gatehouse.dev/acked-${i}`), `acked-${i} survived`);
  });

  it('writes a kubeconfig kubectl uses, stops cleanly on SIGINT (Ctrl-C) and SIGTERM and keeps its data', async () => {
    assert.match(await kubectl(['apply', '-f', '-'], api('kept')), /created/);
    const interrupted = current();
    running = undefined;
    interrupted.proc.kill('SIGINT');
    assert.equal(await interrupted.exited, 0);
    const second = await up(dir);
    try {
      assert.match(await kubectl(['get', 'apis']), /^kept\s+\/kept/m);
    } finally {
      second.proc.kill('SIGTERM');
      assert.equal(await second.exited, 0);
    }
  });

  it('up --demo serves examples/ from Git; the GitOps CLI lists, diffs, suspends, resumes and reconciles', async () => {
    const demoDir = join(dir, 'demo');
    const kubeconfig = join(demoDir, 'kubeconfig');
    const cli = (args: string[]) => gatehouse([...args, '--kubeconfig', kubeconfig]);
    const kubectlDemo = async (args: string[]) =>
      (await exec(KUBECTL, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'kube-cache'), ...args])).stdout;
    const noIdentity = await withoutGitIdentity(join(dir, 'home'));
    // Every port a free one: the examples' default ports are replaced by the ones in use.
    const running = await up(demoDir, ['--demo', '--demo-upstream-port', '0'], noIdentity);
    try {
      const steps = [
        'opening storage pglite:.*',
        'starting the API server',
        'starting the gateway',
        'starting the GitOps controller',
        'demo: making a Git repository',
      ];
      await eventually(() => assert.match(running.stderr(), new RegExp(steps.map((step) => `► ${step}`).join('\n'))));
      await eventually(async () => assert.match(await kubectlDemo(['get', 'apis']), /^hello\s+\/hello/m), {
        attempts: 300,
      });
      await eventually(
        async () => {
          const res = await fetch(`${running.gatewayUrl}/hello/x`);
          assert.equal(res.status, 200);
          assert.equal(((await res.json()) as { message: string }).message, 'Hello from the Gatehouse demo upstream');
        },
        { attempts: 200 },
      );
      const status = async () => (await fetch(`${running.gatewayUrl}/status`)).status;
      await eventually(async () => assert.equal(await status(), 200), { attempts: 200 });

      const syncs = await cli(['get', 'syncs']);
      assert.equal(syncs.code, 0, syncs.stderr);
      assert.match(syncs.stdout, /^NAME\s+SOURCE\s+PATH\s+SUSPENDED\s+READY\s+STATUS\s+AGE\n/);
      assert.match(syncs.stdout, /^demo\s+GitRepository\/demo\s+\.\/\s+false\s+True\s+applied revision main@sha1:\w+/m);
      assert.match((await cli(['get', 'sources', 'demo', '-o', 'yaml'])).stdout, /revision: main@sha1:[0-9a-f]{40}/);
      const clean = await cli(['diff', 'sync', 'demo']);
      assert.deepEqual([clean.code, /No changes/.test(clean.stdout)], [0, true], clean.stdout + clean.stderr);

      // Suspended, a hand edit stays and diff shows it (exit 1); resumed, it is undone.
      assert.equal((await cli(['suspend', 'sync', 'demo'])).code, 0);
      await kubectlDemo([
        'patch',
        'api',
        'hello',
        '--type=merge',
        '-p',
        '{"spec":{"responseHeaders":{"set":{"X-Served-From":"hand"}}}}',
      ]);
      const drift = await cli(['diff', 'sync', 'demo']);
      assert.equal(drift.code, 1, drift.stderr);
      assert.match(
        drift.stdout,
        /~ ApiDefinition default\/hello \(update\)\n\s+spec\.responseHeaders\.set\[X-Served-From\]\s+"hand" → "git"/,
      );
      assert.equal((await cli(['resume', 'sync', 'demo'])).code, 0);
      const undone = await cli(['diff', 'sync', 'demo', '-o', 'json']);
      assert.equal(undone.code, 0, undone.stderr);
      const actions = JSON.parse(undone.stdout).objects.map((o: { action: string }) => o.action);
      assert.ok(actions.length > 0 && actions.every((a: string) => a === 'unchanged'), undone.stdout);

      // A commit in the demo repository, then reconcile with its source: live at once.
      // As the README says, on a machine where git knows no user.
      const demoRepo = join(demoDir, 'demo', 'repo');
      const hello = join(demoRepo, 'apis', 'hello.yaml');
      await writeFile(hello, (await readFile(hello, 'utf8')).replace('X-Served-From: git', 'X-Served-From: git-v2'));
      await exec('git', ['commit', '-q', '-am', 'v2'], { cwd: demoRepo, env: noIdentity });
      const reconciled = await cli(['reconcile', 'sync', 'demo', '--with-source']);
      assert.equal(reconciled.code, 0, reconciled.stderr);
      assert.match(reconciled.stderr, /✔ applied revision main@sha1:/);
      assert.match(await kubectlDemo(['get', 'api', 'hello', '-o', 'jsonpath={.spec.responseHeaders.set}']), /git-v2/);
      // Without a reconcile: the demo source's next poll (every 10 s) brings the commit, the
      // Sync follows its new revision and the gateway serves it.
      await writeFile(hello, (await readFile(hello, 'utf8')).replace('X-Served-From: git-v2', 'X-Served-From: git-v3'));
      await exec('git', ['commit', '-q', '-am', 'v3'], { cwd: demoRepo, env: noIdentity });
      await eventually(
        async () => {
          const res = await fetch(`${running.gatewayUrl}/hello/x`);
          await res.body?.cancel();
          assert.equal(res.headers.get('x-served-from'), 'git-v3');
        },
        { attempts: 600 },
      );
      const missing = await cli(['reconcile', 'sync', 'nope']);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /nope/);

      // bootstrap: GitRepository and Sync in one go, waiting for the first apply.
      const repo = join(dir, 'boot-repo');
      await makeRepo(repo, {
        'deploy/boot.yaml': JSON.stringify({
          apiVersion: 'gatehouse.dev/v1alpha1',
          kind: 'ApiDefinition',
          metadata: { name: 'boot' },
          spec: { listenPath: '/boot', upstream: { targets: [{ url: 'http://127.0.0.1:9' }] } },
        }),
      });
      const boot = await cli(['bootstrap', '--url', fileUrl(repo), '--path', 'deploy', '--name', 'boot']);
      assert.equal(boot.code, 0, boot.stderr);
      assert.match(boot.stderr, /► GitRepository default\/boot → file:\/\//);
      assert.match(boot.stderr, /✔ applied revision main@sha1:/);
      assert.match(await kubectlDemo(['get', 'api', 'boot', '-o', 'name']), /apidefinition.gatehouse.dev\/boot/);

      // A revision that does not validate: bootstrap says why and what it left in place; diff
      // exits 2 (kubectl diff's error code) naming the file, object and field.
      const badRepo = join(dir, 'bad-repo');
      const noUpstream = {
        apiVersion: 'gatehouse.dev/v1alpha1',
        kind: 'ApiDefinition',
        metadata: { name: 'bad' },
        spec: { listenPath: '/bad' },
      };
      await makeRepo(badRepo, { 'deploy/bad.yaml': JSON.stringify(noUpstream) });
      const bad = await cli(['bootstrap', '--url', fileUrl(badRepo), '--path', 'deploy', '--name', 'bad']);
      assert.equal(bad.code, 1, bad.stderr);
      const failure = /nothing was applied:\n\s+deploy\/bad\.yaml: ApiDefinition default\/bad: spec\.upstream:/;
      assert.match(bad.stderr, new RegExp(`✗ .*${failure.source}`));
      assert.match(bad.stderr, /left in place: gitrepository\/bad, sync\/bad in namespace default; /);
      assert.match(bad.stderr, / kubectl delete -n default sync\/bad gitrepository\/bad\n/);
      const badDiff = await cli(['diff', 'sync', 'bad']);
      assert.equal(badDiff.code, 2, badDiff.stderr);
      const refusal = `^gatehouse: Sync default/bad: revision main@sha1:\\w{40} cannot be applied: .*${failure.source}`;
      assert.match(badDiff.stderr, new RegExp(refusal));
      assert.equal((await cli(['diff', 'sync', 'nope'])).code, 2);
      // A first fetch that fails: the source's own error, not only "no artifact yet".
      const gone = await cli([
        'bootstrap',
        '--url',
        fileUrl(join(dir, 'no-such-repo')),
        '--path',
        'deploy',
        '--name',
        'gone',
      ]);
      assert.equal(gone.code, 1, gone.stderr);
      assert.match(gone.stderr, /✗ .*GitRepository default\/gone has no artifact yet: \S.+/);
      await kubectlDemo(['delete', 'sync/bad', 'gitrepository/bad', 'sync/gone', 'gitrepository/gone']);

      // create secret git scans an ssh host key and stores it only once confirmed.
      const key = makeClientKey();
      const ssh = await startSshGitServer({ repoRoot: dir, authorizedKeys: [key.publicKey] });
      try {
        const keyFile = join(dir, 'id');
        await writeFile(keyFile, key.privateKey, { mode: 0o600 });
        const unconfirmed = await cli([
          'create',
          'secret',
          'git',
          'ssh-creds',
          '--url',
          ssh.url('boot-repo'),
          '--private-key-file',
          keyFile,
        ]);
        assert.equal(unconfirmed.code, 1);
        assert.ok(unconfirmed.stderr.includes(`--host-key-fingerprint ${ssh.fingerprint}`), unconfirmed.stderr);
        const wrong = await cli([
          'create',
          'secret',
          'git',
          'ssh-creds',
          '--url',
          ssh.url('boot-repo'),
          '--private-key-file',
          keyFile,
          '--host-key-fingerprint',
          'SHA256:not-it',
        ]);
        assert.equal(wrong.code, 1);
        const created = await cli([
          'create',
          'secret',
          'git',
          'ssh-creds',
          '--url',
          ssh.url('boot-repo'),
          '--private-key-file',
          keyFile,
          '--host-key-fingerprint',
          ssh.fingerprint,
        ]);
        assert.equal(created.code, 0, created.stderr);
        assert.ok(!created.stderr.includes(key.privateKey.split('\n')[1]), 'the key is not printed');
        const stored = JSON.parse(await kubectlDemo(['get', 'secret', 'ssh-creds', '-o', 'json'])) as {
          data: Record<string, string>;
        };
        assert.equal(Buffer.from(stored.data.known_hosts, 'base64').toString().trim(), ssh.knownHostsLine);
        assert.equal(Buffer.from(stored.data.identity, 'base64').toString(), key.privateKey);
      } finally {
        await ssh.close();
      }
    } finally {
      running.proc.kill('SIGTERM');
      assert.equal(await running.exited, 0);
    }
  });
});
