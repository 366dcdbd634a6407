// Real Git servers on 127.0.0.1 for tests, and helpers that make repositories with the
// system `git`. Served repositories are ordinary working repositories under `repoRoot`
// (one directory per repository): a test "pushes" by committing in the served directory
// with `commit()`, which the next fetch sees.
//
// - SSH: an ssh2 server with public-key authentication that runs `git upload-pack` /
//   `git receive-pack` for exec requests, confined to repoRoot.
// - HTTP(S): a node:http(s) server that runs `git http-backend` as a CGI program, with
//   optional basic or bearer authentication and a self-signed certificate.
// - file:// needs no server: `fileUrl(dir)`.
//
// Both servers count `git upload-pack` runs (`uploadPackCount`, advertisements included)
// and, separately, the runs in which the client asked for objects (`fetchCount`: a `want`
// line in protocol v0, `command=fetch` in v2), so a test can tell a poll from a fetch.
import { execFile, spawn } from 'node:child_process';
import { timingSafeEqual } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import ssh2 from 'ssh2';
import { ensureSelfSignedCert } from '../../src/apiserver/tls.ts';

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

/** ssh2's generator now and then encodes a key whose blob lost a leading zero byte (about
 * one in 300), which nothing can parse; such a pair is drawn again. */
function ed25519Pair(): { private: string; public: string } {
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    if (!(ssh2.utils.parseKey(pair.public) instanceof Error) && !(ssh2.utils.parseKey(pair.private) instanceof Error))
      return pair;
  }
}

/** A fresh ed25519 key pair for a client (the Secret's `identity`). */
export function makeClientKey(): KeyPair {
  const pair = ed25519Pair();
  return { privateKey: pair.private, publicKey: pair.public };
}

/** The SHA256 fingerprint of a public key as the system ssh-keygen computes it. */
async function sshFingerprint(publicKey: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-fp-'));
  try {
    await writeFile(join(dir, 'key.pub'), `${publicKey}\n`);
    const { stdout } = await execFileAsync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'key.pub')]);
    return stdout.split(' ')[1];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface SshGitServerOptions {
  repoRoot: string;
  /** Public keys (`ssh-ed25519 AAAA…`) allowed to log in; every other key is refused. */
  authorizedKeys: string[];
  /** Host private key (OpenSSH format); a fresh ed25519 key when absent. */
  hostKey?: string;
}

export interface SshGitServer {
  readonly port: number;
  /** `ssh://git@127.0.0.1:PORT/<repo>` */
  url(repo: string): string;
  /** `[127.0.0.1]:PORT ssh-ed25519 AAAA…`, for the Secret's known_hosts. */
  readonly knownHostsLine: string;
  /** `SHA256:…` of the current host key. */
  readonly fingerprint: string;
  readonly uploadPackCount: number;
  readonly fetchCount: number;
  /** Closes and listens again on the same port, with `hostKey` or a fresh host key. */
  restart(options?: { hostKey?: string }): Promise<void>;
  close(): Promise<void>;
}

/** Parses `git-upload-pack '/path'` as git sends it (the path shell-quoted with single quotes). */
function parseGitExec(command: string): { service: 'git-upload-pack' | 'git-receive-pack'; path: string } | undefined {
  const match = /^(git-upload-pack|git-receive-pack) '((?:[^']|'\\'')*)'$/.exec(command);
  if (!match) return undefined;
  return { service: match[1] as 'git-upload-pack' | 'git-receive-pack', path: match[2].replaceAll("'\\''", "'") };
}

/** The repository directory `requested` names under `root`, or undefined when it leaves root. */
function confine(root: string, requested: string): string | undefined {
  const target = resolve(root, requested.replace(/^\/+/, ''));
  const rel = relative(root, target);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? undefined : target;
}

export async function startSshGitServer(options: SshGitServerOptions): Promise<SshGitServer> {
  const root = resolve(options.repoRoot);
  const allowed = options.authorizedKeys.map((line) => {
    const key = ssh2.utils.parseKey(line);
    if (key instanceof Error) throw new Error(`authorizedKeys: not a public key: ${key.message}`);
    return key;
  });
  const counter = new UploadPackCounter();
  let hostKey = options.hostKey ?? ed25519Pair().private;
  let publicKey = '';
  let keyType = '';
  let fingerprint = '';
  let server: ssh2.Server | undefined;
  let port = 0;
  const connections = new Set<ssh2.Connection>();

  const handleClient = (client: ssh2.Connection) => {
    connections.add(client);
    client.on('close', () => connections.delete(client));
    client.on('error', () => client.end());
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey') return ctx.reject(['publickey']);
      const key = allowed.find((k) => k.getPublicSSH().equals(ctx.key.data));
      // Without a signature the client only asks whether the key would do (RFC 4252 §7).
      if (!key || (ctx.signature && !key.verify(ctx.blob!, ctx.signature, ctx.hashAlgo)))
        return ctx.reject(['publickey']);
      ctx.accept();
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        const env: Record<string, string> = {};
        session.on('env', (accept, _reject, info) => {
          // Protocol v2 is asked for through this variable (git sends it with SendEnv).
          if (info.key === 'GIT_PROTOCOL') env.GIT_PROTOCOL = info.val;
          accept?.();
        });
        session.on('exec', (accept, _reject, info) => {
          const channel = accept();
          let ended = false;
          const end = (code: number, message?: string) => {
            if (ended) return;
            ended = true;
            if (message) channel.stderr.write(`fatal: ${message}\n`);
            channel.exit(code);
            channel.end();
          };
          const exec = parseGitExec(info.command);
          if (!exec) return end(128, `unsupported command: ${info.command}`);
          const dir = confine(root, exec.path);
          if (!dir) return end(128, `'${exec.path}' does not appear to be a git repository`);
          const observer = exec.service === 'git-upload-pack' ? counter.start() : undefined;
          const child = spawn('git', [exec.service.slice('git-'.length), dir], {
            env: { ...GIT_ENV, ...env },
            stdio: 'pipe',
          });
          channel.on('data', (chunk: Buffer) => {
            observer?.observe(chunk);
            child.stdin.write(chunk);
          });
          channel.on('end', () => child.stdin.end());
          child.stdin.on('error', () => {});
          child.stdout.pipe(channel, { end: false });
          child.stderr.pipe(channel.stderr, { end: false });
          child.on('error', (err) => end(128, err.message));
          child.on('close', (code) => end(code ?? 128));
        });
      });
    });
  };

  const listen = async () => {
    const parsed = ssh2.utils.parseKey(hostKey);
    if (parsed instanceof Error) throw new Error(`hostKey: not a private key: ${parsed.message}`);
    publicKey = parsed.getPublicSSH().toString('base64');
    keyType = parsed.type;
    fingerprint = await sshFingerprint(`${keyType} ${publicKey}`);
    server = new ssh2.Server({ hostKeys: [hostKey] }, handleClient);
    await new Promise<void>((done, fail) => {
      server!.once('error', fail);
      server!.listen(port, '127.0.0.1', () => done());
    });
    port = (server.address() as AddressInfo).port;
  };
  const stop = async () => {
    for (const c of connections) c.end();
    await new Promise<void>((done) => server!.close(() => done()));
  };
  await listen();

  return {
    get port() {
      return port;
    },
    url: (repo) => `ssh://git@127.0.0.1:${port}/${repo}`,
    get knownHostsLine() {
      return `[127.0.0.1]:${port} ${keyType} ${publicKey}`;
    },
    get fingerprint() {
      return fingerprint;
    },
    get uploadPackCount() {
      return counter.uploadPacks;
    },
    get fetchCount() {
      return counter.fetches;
    },
    async restart(restartOptions = {}) {
      await stop();
      hostKey = restartOptions.hostKey ?? ed25519Pair().private;
      await listen();
    },
    close: stop,
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
