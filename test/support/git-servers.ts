// Real Git servers on 127.0.0.1 for tests, and helpers that make repositories with the
// system `git`. Served repositories are ordinary working repositories under `repoRoot`
// (one directory per repository): a test "pushes" by committing in the served directory
// with `commit()`, which the next fetch sees.
//
// - SSH: OpenSSH's sshd, run as our own process with its own host key and config; public-key
//   logins run the system git's upload-pack / receive-pack on the repository's absolute path.
//   No test needs an SSH behaviour sshd cannot produce, so there is no in-process SSH server.
// - HTTP(S): a node:http(s) server that runs `git http-backend` as a CGI program, with
//   optional basic or bearer authentication and a self-signed certificate.
// - file:// needs no server: `fileUrl(dir)`.
//
// Both servers count `git upload-pack` runs (`uploadPackCount`, advertisements included)
// and, separately, the runs in which the client asked for objects (`fetchCount`), so a test
// can tell a poll from a fetch: the HTTP server reads the requests (a `want` line in protocol
// v0, `command=fetch` in v2), the SSH server git's own trace of each upload-pack run.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { ensureSelfSignedCert } from '../../src/apiserver/tls.ts';
import { freePort } from './postgres.ts';

const execFileAsync = promisify(execFile);

// ---------------------------------------------------------------------------------------
// Repositories

/** A fixed identity and date, and no user or system configuration: the same files and
 * history give the same commit SHAs on every machine. */
const GIT_ENV: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  LC_ALL: 'C',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Gatehouse Test',
  GIT_AUTHOR_EMAIL: 'test@gatehouse.invalid',
  GIT_AUTHOR_DATE: '2024-01-01T00:00:00Z',
  GIT_COMMITTER_NAME: 'Gatehouse Test',
  GIT_COMMITTER_EMAIL: 'test@gatehouse.invalid',
  GIT_COMMITTER_DATE: '2024-01-01T00:00:00Z',
};

/** Runs the system git in `repoDir` with the fixed test identity; resolves with trimmed stdout. */
export async function gitIn(repoDir: string, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('git', ['-C', repoDir, ...args], {
    env: GIT_ENV,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout.trim();
}

/** A new repository in `dir` on branch `main` with one commit of `files` (path → content);
 * resolves with the commit SHA. Pushes to its checked-out branch update the work tree. */
export async function makeRepo(dir: string, files: Record<string, string>, message = 'initial'): Promise<string> {
  await mkdir(dir, { recursive: true });
  await gitIn(dir, ['init', '--quiet', '--initial-branch=main']);
  await gitIn(dir, ['config', 'receive.denyCurrentBranch', 'updateInstead']);
  return commit(dir, files, message);
}

/** Commits on the current branch: each path gets its content, or is deleted when null.
 * Resolves with the new commit SHA. */
export async function commit(repoDir: string, files: Record<string, string | null>, message: string): Promise<string> {
  for (const [path, content] of Object.entries(files)) {
    const file = join(repoDir, path);
    if (content === null) {
      await rm(file, { force: true });
    } else {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, content);
    }
  }
  await gitIn(repoDir, ['add', '--all']);
  await gitIn(repoDir, ['commit', '--quiet', '--allow-empty', '-m', message]);
  return gitIn(repoDir, ['rev-parse', 'HEAD']);
}

/** Tags HEAD (or `target`); annotated when a message is given. Resolves with the tagged commit SHA. */
export async function tag(
  repoDir: string,
  name: string,
  options: { message?: string; target?: string } = {},
): Promise<string> {
  const target = options.target ?? 'HEAD';
  await gitIn(
    repoDir,
    options.message === undefined ? ['tag', name, target] : ['tag', '-a', name, '-m', options.message, target],
  );
  return gitIn(repoDir, ['rev-parse', `${target}^{commit}`]);
}

/** Switches the repository's checked-out branch, creating it at HEAD when it does not exist. */
export async function switchBranch(repoDir: string, branch: string): Promise<void> {
  const exists = await gitIn(repoDir, ['branch', '--list', branch]);
  await gitIn(repoDir, exists ? ['switch', '--quiet', branch] : ['switch', '--quiet', '--create', branch]);
}

export function fileUrl(repoDir: string): string {
  return pathToFileURL(repoDir).href;
}

// ---------------------------------------------------------------------------------------
// Traffic counting shared by both servers

/** Counts upload-pack runs and, among them, those that asked for objects. */
class UploadPackCounter {
  uploadPacks = 0;
  fetches = 0;

  /** Starts one upload-pack run; `observe` it with the client's bytes as they arrive. */
  start(): { observe(chunk: Buffer): void } {
    this.uploadPacks++;
    let seen = '';
    let counted = false;
    return {
      observe: (chunk) => {
        if (counted || seen.length > 65_536) return;
        seen += chunk.toString('latin1');
        // pkt-lines: four hex digits of length, then the payload.
        if (/[0-9a-f]{4}(want [0-9a-f]{40}|command=fetch)/.test(seen)) {
          counted = true;
          this.fetches++;
        }
      },
    };
  }
}

// ---------------------------------------------------------------------------------------
// SSH

export interface KeyPair {
  /** OpenSSH private key (PEM-like text). */
  privateKey: string;
  /** `ssh-ed25519 AAAA…` */
  publicKey: string;
}

/** A fresh ed25519 key pair made by the system ssh-keygen (for a client: the Secret's `identity`). */
export function makeClientKey(): KeyPair {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-key-'));
  try {
    const file = join(dir, 'key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'gatehouse-test', '-f', file]);
    return { privateKey: readFileSync(file, 'utf8'), publicKey: readFileSync(`${file}.pub`, 'utf8').trim() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The SHA256 fingerprint of a public key file as the system ssh-keygen computes it. */
async function sshFingerprint(publicKeyFile: string): Promise<string> {
  const { stdout } = await execFileAsync('ssh-keygen', ['-l', '-E', 'sha256', '-f', publicKeyFile]);
  return stdout.split(' ')[1];
}

export interface SshGitServerOptions {
  /** Where the served repositories are: `url(repo)` names `<repoRoot>/<repo>`. */
  repoRoot: string;
  /** Public keys (`ssh-ed25519 AAAA…`) allowed to log in; every other key is refused. */
  authorizedKeys: string[];
}

export interface SshGitServer {
  readonly port: number;
  /** `ssh://<user>@127.0.0.1:PORT<repoRoot>/<repo>`: the user this process runs as, the
   * repository by its absolute path, as on any host where Git is an ordinary account. */
  url(repo: string): string;
  /** `[127.0.0.1]:PORT ssh-ed25519 AAAA…`, for the Secret's known_hosts. */
  readonly knownHostsLine: string;
  /** `SHA256:…` of the current host key. */
  readonly fingerprint: string;
  readonly uploadPackCount: number;
  readonly fetchCount: number;
  /** Stops sshd and starts it again on the same port with a fresh host key. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

const SSHD = '/usr/sbin/sshd';
const SSHD_START_MS = 30_000;

/** git-upload-pack runs that git's own trace2 recorded (one event file per process under
 * `dir`), and among them those that packed objects: a client that wants nothing (a poll that
 * finds no change) makes upload-pack start no pack-objects. */
function countUploadPacks(dir: string): { uploadPacks: number; fetches: number } {
  let uploadPacks = 0;
  let fetches = 0;
  for (const file of readdirSync(dir)) {
    const events = readFileSync(join(dir, file), 'utf8');
    if (!/"event":"cmd_name".*"name":"upload-pack"/.test(events)) continue;
    uploadPacks++;
    if (/"event":"child_start".*"argv":\["git",[^\]]*"pack-objects"/.test(events)) fetches++;
  }
  return { uploadPacks, fetches };
}

/** OpenSSH's sshd as the Git host: its own process on 127.0.0.1, its own host key, config
 * and authorized keys in a temp dir. The login runs the real `git-upload-pack` from PATH, as
 * a Git host with shell accounts does; no ForceCommand. As root (CI), sshd needs its
 * privilege separation directory, and StrictModes is off because the authorized keys live
 * under the world-writable temp dir, which sshd would otherwise refuse. */
export async function startSshGitServer(options: SshGitServerOptions): Promise<SshGitServer> {
  const root = resolve(options.repoRoot);
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-sshd-'));
  const trace = join(dir, 'trace');
  await mkdir(trace);
  await writeFile(join(dir, 'authorized_keys'), `${options.authorizedKeys.join('\n')}\n`, { mode: 0o600 });
  if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const user = userInfo().username;
  const port = await freePort();
  const hostKey = join(dir, 'host_key');
  const config = [
    `ListenAddress 127.0.0.1:${port}`,
    `HostKey ${hostKey}`,
    'PidFile none',
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'StrictModes no',
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    // git asks for protocol v2 through this variable (it sends it with SendEnv).
    'AcceptEnv GIT_PROTOCOL',
    `SetEnv GIT_TRACE2_EVENT=${trace}`,
    'LogLevel ERROR',
  ];
  await writeFile(join(dir, 'sshd_config'), `${config.join('\n')}\n`);
  let publicKey = '';
  let fingerprint = '';
  let sshd: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async () => {
    await rm(hostKey, { force: true });
    await rm(`${hostKey}.pub`, { force: true });
    await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', hostKey]);
    publicKey = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(' ').slice(0, 2).join(' ');
    fingerprint = await sshFingerprint(`${hostKey}.pub`);
    // -D: no daemon, -e: log to stderr, where "Server listening" tells it is ready.
    const child = spawn(SSHD, ['-D', '-e', '-o', 'LogLevel=INFO', '-f', join(dir, 'sshd_config')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    sshd = child;
    exited = new Promise((done) => child.once('exit', () => done()));
    let log = '';
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`sshd did not listen within ${SSHD_START_MS} ms: ${log}`)),
        SSHD_START_MS,
      );
      child.stderr?.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('Server listening on 127.0.0.1')) {
          clearTimeout(timer);
          ready();
        }
      });
      child.once('error', fail);
      child.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`sshd exited with ${code}: ${log}`));
      });
    });
  };
  const stop = async () => {
    if (sshd && sshd.exitCode === null && sshd.signalCode === null) sshd.kill('SIGTERM');
    await exited;
  };
  await start();

  return {
    port,
    url: (repo) => `ssh://${user}@127.0.0.1:${port}${join(root, repo)}`,
    get knownHostsLine() {
      return `[127.0.0.1]:${port} ${publicKey}`;
    },
    get fingerprint() {
      return fingerprint;
    },
    get uploadPackCount() {
      return countUploadPacks(trace).uploadPacks;
    },
    get fetchCount() {
      return countUploadPacks(trace).fetches;
    },
    async restart() {
      await stop();
      await start();
    },
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------
// HTTP(S)

export type HttpGitAuth = { username: string; password: string } | { bearerToken: string };

export interface HttpGitServerOptions {
  repoRoot: string;
  /** Required credentials; every request without them gets 401. */
  auth?: HttpGitAuth;
  /** Serve HTTPS with a self-signed certificate for 127.0.0.1 (its PEM is `ca`). */
  tls?: boolean;
  /** False serves protocol v0 only, like an old server: a client cannot then fetch a commit no ref advertises. */
  protocolV2?: boolean;
}

export interface HttpGitServer {
  /** `http(s)://127.0.0.1:PORT/<repo>` */
  url(repo: string): string;
  readonly uploadPackCount: number;
  readonly fetchCount: number;
  /** Every request's start (`+<repo>`) and end (`-<repo>`), in the order they happened. */
  readonly requestLog: readonly string[];
  /** PEM of the self-signed certificate, with `tls`. */
  readonly ca: string | undefined;
  close(): Promise<void>;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The user the request authenticates as ('' with no auth configured), or undefined. */
function authenticate(req: IncomingMessage, auth: HttpGitAuth | undefined): string | undefined {
  if (!auth) return '';
  const header = req.headers.authorization ?? '';
  if ('bearerToken' in auth) return sameText(header, `Bearer ${auth.bearerToken}`) ? 'token' : undefined;
  const basic = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  return sameText(header, basic) ? auth.username : undefined;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Runs git http-backend for one request (RFC 3875 CGI) and relays its answer. */
function runHttpBackend(
  root: string,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  user: string,
  protocolV2: boolean,
): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const env: NodeJS.ProcessEnv = {
    ...GIT_ENV,
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    GATEWAY_INTERFACE: 'CGI/1.1',
    REQUEST_METHOD: req.method,
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.slice(1),
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    CONTENT_LENGTH: String(body.length),
    REMOTE_ADDR: req.socket.remoteAddress ?? '',
    REMOTE_USER: user,
    HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
  };
  const protocol = req.headers['git-protocol'];
  if (protocolV2 && typeof protocol === 'string') env.HTTP_GIT_PROTOCOL = protocol;
  const child = spawn('git', ['http-backend'], { env, stdio: 'pipe' });
  child.stdin.on('error', () => {});
  child.stdin.end(body);
  let head = Buffer.alloc(0);
  let headersSent = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (headersSent) return void res.write(chunk);
    head = Buffer.concat([head, chunk]);
    const text = head.toString('latin1');
    const match = /\r?\n\r?\n/.exec(text);
    if (!match) return;
    let status = 200;
    for (const line of text.slice(0, match.index).split(/\r?\n/)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else res.setHeader(name, value);
    }
    res.statusCode = status;
    headersSent = true;
    res.write(head.subarray(match.index + match[0].length));
  });
  child.on('close', () => {
    if (!headersSent) res.statusCode = 500;
    res.end();
  });
}

export async function startHttpGitServer(options: HttpGitServerOptions): Promise<HttpGitServer> {
  const root = resolve(options.repoRoot);
  const counter = new UploadPackCounter();
  const requestLog: string[] = [];
  let ca: string | undefined;
  let tlsDir: string | undefined;

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const repo = new URL(req.url ?? '/', 'http://127.0.0.1').pathname.split('/')[1];
    requestLog.push(`+${repo}`);
    res.on('close', () => requestLog.push(`-${repo}`));
    void (async () => {
      const body = await readBody(req);
      const user = authenticate(req, options.auth);
      if (user === undefined) {
        const scheme = options.auth && 'bearerToken' in options.auth ? 'Bearer' : 'Basic';
        res.writeHead(401, { 'www-authenticate': `${scheme} realm="git"`, 'content-type': 'text/plain' });
        return void res.end('authentication required\n');
      }
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const uploadPack =
        url.pathname.endsWith('/git-upload-pack') || url.searchParams.get('service') === 'git-upload-pack';
      if (uploadPack) {
        const plain = req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
        counter.start().observe(plain);
      }
      runHttpBackend(root, req, res, body, user, options.protocolV2 !== false);
    })().catch(() => {
      res.statusCode = 500;
      res.end();
    });
  };

  let server: HttpServer;
  if (options.tls) {
    tlsDir = await mkdtemp(join(tmpdir(), 'gatehouse-git-tls-'));
    const cert = await ensureSelfSignedCert(tlsDir, ['127.0.0.1']);
    ca = cert.cert;
    server = createHttpsServer({ cert: cert.cert, key: cert.key }, handler);
  } else {
    server = createHttpServer(handler);
  }
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const base = `${options.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: (repo) => `${base}/${repo}`,
    get uploadPackCount() {
      return counter.uploadPacks;
    },
    get fetchCount() {
      return counter.fetches;
    },
    requestLog,
    ca,
    async close() {
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
      if (tlsDir) await rm(tlsDir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------
// Failure stand-ins

export interface SilentServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Accepts TCP connections on 127.0.0.1 and never answers: a hung Git server. */
export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  const server: NetServer = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((done) => {
        for (const s of sockets) s.destroy();
        server.close(() => done());
      }),
  };
}
