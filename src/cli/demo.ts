// `gatehouse up --demo`: a newcomer's first minute. An example upstream on loopback, a local
// Git repository made from examples/, and a GitRepository and Sync that serve it — so the
// APIs in Git are live at the gateway without writing anything. The repository is made
// once per data directory and then left alone: edits and commits there are the point.
import { execFile } from 'node:child_process';
import { cp, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { KindDefinition, KubeObject } from '../api/kind.ts';
import { gitRepositoryKind } from '../api/kinds/git-repository/index.ts';
import { syncKind } from '../api/kinds/sync/index.ts';
import { isStatusError } from '../client/errors.ts';
import type { KubeClient } from '../client/rest.ts';

const exec = promisify(execFile);
const EXAMPLES = new URL('../../examples/', import.meta.url).pathname;
/** The demo commits as this identity so it works where git has no user configured. */
const GIT_IDENTITY = { GIT_AUTHOR_NAME: 'Gatehouse demo', GIT_AUTHOR_EMAIL: 'demo@gatehouse.invalid', GIT_COMMITTER_NAME: 'Gatehouse demo', GIT_COMMITTER_EMAIL: 'demo@gatehouse.invalid' };

export interface Demo {
  repoDir: string;
  upstreamUrl: string;
  close(): Promise<void>;
}

export async function startDemo(options: { client: KubeClient; dataDir: string; host: string; upstreamPort: number }): Promise<Demo> {
  const upstream = await startExampleUpstream(options.host, options.upstreamPort);
  try {
    const repoDir = join(options.dataDir, 'demo', 'repo');
    if (!(await exists(join(repoDir, '.git')))) await makeRepository(repoDir);
    await createIfAbsent(options.client, gitRepositoryKind, {
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'GitRepository',
      metadata: { name: 'demo', namespace: 'default' },
      // A short interval so that a commit in the demo repository shows without a webhook.
      spec: { url: pathToFileURL(repoDir).href, ref: { branch: 'main' }, interval: '10s' },
    });
    await createIfAbsent(options.client, syncKind, {
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'Sync',
      metadata: { name: 'demo', namespace: 'default' },
      spec: { sourceRef: { kind: 'GitRepository', name: 'demo' }, path: './', prune: true, interval: '1m' },
    });
    return { repoDir, upstreamUrl: upstream.url, close: upstream.close };
  } catch (err) {
    await upstream.close();
    throw err;
  }
}

async function makeRepository(repoDir: string): Promise<void> {
  await cp(EXAMPLES, repoDir, { recursive: true });
  const git = (args: string[]) => exec('git', args, { cwd: repoDir, env: { ...process.env, ...GIT_IDENTITY } });
  await git(['init', '-q', '-b', 'main']);
  await git(['add', '-A']);
  await git(['commit', '-q', '-m', 'Example APIs, policies and consumers']);
}

async function createIfAbsent(client: KubeClient, def: KindDefinition, obj: KubeObject): Promise<void> {
  try {
    await client.create(def, obj);
  } catch (err) {
    if (!isStatusError(err, 'AlreadyExists')) throw err;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** Answers every request with a small JSON description of it; /healthz for health checks. */
async function startExampleUpstream(host: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const body = req.url === '/healthz' ? 'ok\n' : `${JSON.stringify({ message: 'Hello from the Gatehouse demo upstream', method: req.method, path: req.url, consumer: req.headers['x-gatehouse-consumer'] })}\n`;
    res.writeHead(200, { 'content-type': req.url === '/healthz' ? 'text/plain' : 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new Error(`the demo upstream cannot listen on ${host}:${port} (in use); pick another with --demo-upstream-port`) : err));
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as { port: number };
  return {
    url: `http://${host}:${address.port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
