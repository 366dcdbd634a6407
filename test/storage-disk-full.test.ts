// A full disk under the data directory, made for real: `gatehouse apiserver` on PGlite, or a
// PostgreSQL server, runs as a child process on a small tmpfs (test/support/small-disk.ts)
// that the test fills and frees. A write that cannot be stored is refused with a 503 Status
// saying why, /readyz fails while /livez and reads keep answering, a restart on the full disk
// is refused with the reason, and once space returns the server writes again by itself with
// every acknowledged write kept.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { startTestApiServer } from './support/apiserver.ts';
import { eventually } from './support/eventually.ts';
import { freshPgliteDir } from './support/pglite.ts';
import { startPostgres } from './support/postgres.ts';
import { makeSmallDisk, type SmallDisk } from './support/small-disk.ts';
import { GATEHOUSE } from './support/cli.ts';

/** Room for a fresh PGlite database (about 40 MiB) and the 64 MiB reserve, with some to fill. */
const DISK_MIB = 160;
/** Bounds each request: a write that hangs fails the test instead of stalling it. */
const REQUEST_BOUND_MS = 60_000;
/** Free space left by a fill: too little for PostgreSQL to switch to a new WAL segment. */
const LEFT_FREE = 1024 * 1024;
/** Polls /readyz after space returns, generously for a loaded machine. */
const READY_AGAIN = { attempts: 600, intervalMs: 100 };

interface Server {
  proc: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

describe('a full disk under PGlite', { timeout: 600_000 }, () => {
  let dir: string;
  let disk: SmallDisk;
  let dispatcher: Agent;

  const args = () => [
    'apiserver',
    '--storage',
    `pglite:${join(disk.dir, 'pglite')}`,
    '--data-dir',
    join(dir, 'data'),
    '--port',
    '0',
  ];
  const start = (): { proc: ChildProcess; exited: Promise<number | null>; output: () => string } => {
    const proc = disk.spawn([process.execPath, ...GATEHOUSE, ...args()], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => void (out += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => void (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    return { proc, exited, output: () => out };
  };
  const serve = async (): Promise<Server> => {
    const { proc, exited, output } = start();
    const url = await new Promise<string>((resolve, reject) => {
      proc.stdout?.on('data', () => {
        const line = output()
          .split('\n')
          .find((l) => l.includes('API server listening'));
        const m = line && /"url":"(https:\/\/[^"]+)"/.exec(line);
        if (m) resolve(m[1]);
      });
      void exited.then((code) => reject(new Error(`gatehouse apiserver exited with ${code}: ${output()}`)));
    });
    dispatcher ??= new Agent({ connect: { ca: await readFile(join(dir, 'data', 'tls', 'apiserver.crt'), 'utf8') } });
    return { proc, url, exited };
  };
  const request = (server: Server, path: string, init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, {
      ...init,
      signal: AbortSignal.timeout(REQUEST_BOUND_MS),
      dispatcher,
    } as RequestInit);
  const create = (server: Server, name: string) =>
    request(server, '/api/v1/namespaces/default/configmaps', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v: name } }),
    });
  const stop = async (server: Server) => {
    server.proc.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-disk-full-'));
    await mkdir(join(dir, 'disk'));
    disk = await makeSmallDisk(join(dir, 'disk'), DISK_MIB);
    await freshPgliteDir(join(disk.outside, 'pglite'));
  });
  after(async () => {
    await dispatcher?.close();
    await disk?.unmount();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses writes with 503, fails /readyz while the disk is full, writes again once space returns', async () => {
    const server = await serve();
    try {
      assert.equal((await create(server, 'before')).status, 201);
      await disk.fill(LEFT_FREE);

      const refused = await create(server, 'refused');
      assert.equal(refused.status, 503);
      const status = (await refused.json()) as { kind: string; reason: string; message: string };
      assert.equal(status.kind, 'Status');
      assert.equal(status.reason, 'ServiceUnavailable');
      assert.match(status.message, /the disk under \S+ is full: \d+\.\d MiB free/);

      const ready = await request(server, '/readyz?verbose');
      assert.equal(ready.status, 500);
      assert.match(await ready.text(), /\[-\]storage-writable failed: .*disk under .* is full/);
      assert.equal((await request(server, '/livez')).status, 200, 'a full disk is no reason to restart');
      const read = await request(server, '/api/v1/namespaces/default/configmaps/before');
      assert.equal(read.status, 200, 'reads are served');

      await disk.free();
      await eventually(async () => assert.equal((await request(server, '/readyz')).status, 200), READY_AGAIN);
      assert.equal((await create(server, 'after')).status, 201);
      assert.equal((await request(server, '/api/v1/namespaces/default/configmaps/refused')).status, 404);
    } finally {
      await stop(server);
    }
  });

  it('refuses to start on a full disk, naming it; starts with all acknowledged writes once space returns', async () => {
    await disk.fill(LEFT_FREE);
    const refused = start();
    assert.equal(await refused.exited, 1);
    assert.match(refused.output(), /gatehouse: .*the disk under \S+ is full/);

    await disk.free();
    const server = await serve();
    try {
      for (const name of ['before', 'after']) {
        assert.equal((await request(server, `/api/v1/namespaces/default/configmaps/${name}`)).status, 200, name);
      }
    } finally {
      await stop(server);
    }
  });
});

describe('a full disk under PostgreSQL', { timeout: 600_000 }, () => {
  it('refuses writes with 503, fails /readyz while the disk is full, writes again once space returns', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-pg-disk-full-'));
    await chmod(dir, 0o755); // the server runs as an unprivileged user
    await mkdir(join(dir, 'disk'));
    const disk = await makeSmallDisk(join(dir, 'disk'), DISK_MIB);
    const postgres = await startPostgres({ disk });
    const server = await startTestApiServer(await postgres.newDatabase());
    const create = (name: string) =>
      server.request('/api/v1/namespaces/default/configmaps', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        // Random, so PostgreSQL cannot compress it into the room left.
        body: JSON.stringify({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name },
          data: { v: randomBytes(1536 * 1024).toString('base64') },
        }),
        signal: AbortSignal.timeout(REQUEST_BOUND_MS),
      });
    try {
      assert.equal((await create('before')).status, 201);
      await disk.fill(LEFT_FREE);

      const refused = await create('refused');
      assert.equal(refused.status, 503);
      const status = (await refused.json()) as { reason: string; message: string };
      assert.equal(status.reason, 'ServiceUnavailable');
      assert.match(status.message, /No space left on device/);
      const ready = await server.request('/readyz?verbose');
      assert.equal(ready.status, 500);
      assert.match(await ready.text(), /\[-\]storage-writable failed: .*No space left on device/);
      assert.equal((await server.request('/livez')).status, 200);
      assert.equal((await server.request('/api/v1/namespaces/default/configmaps/before')).status, 200);

      await disk.free();
      await eventually(async () => assert.equal((await server.request('/readyz')).status, 200), READY_AGAIN);
      assert.equal((await create('after')).status, 201);
      assert.equal((await server.request('/api/v1/namespaces/default/configmaps/before')).status, 200);
    } finally {
      await disk.free(); // PostgreSQL's shutdown checkpoint needs room
      await server.stop();
      await postgres.stop();
      await disk.unmount();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
