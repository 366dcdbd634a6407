// `gatehouse up --demo`: a newcomer's first minute. An example upstream on loopback, a local
// Git repository made from examples/, and a GitRepository and Sync that serve it — so the
// APIs in Git are live at the gateway without writing anything. The repository is made
// once per data directory and then left alone: edits and commits there are the point.
// The examples name the default ports (so `kubectl apply -R -f examples/` works as they
// are); in the demo repository those URLs become Sync variables, which every start sets to
// the ports it really listens on.
import { execFile } from 'node:child_process';
import { cp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
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
/** The identity the demo repository commits as where git has none configured: set in the
 * repository itself, so the user's own `git commit` there works too. */
const GIT_IDENTITY = { 'user.name': 'Gatehouse demo', 'user.email': 'demo@gatehouse.invalid' };
/** URLs in examples/ replaced by Sync variables in the demo repository. */
const PORT_VARIABLES: Record<string, string> = {
  'http://127.0.0.1:9090': 'DEMO_UPSTREAM',
  'http://127.0.0.1:8081': 'GATEWAY_INTERNAL',
};

export interface Demo {
  repoDir: string;
  upstreamUrl: string;
  close(): Promise<void>;
}

export interface DemoOptions {
  client: KubeClient;
  dataDir: string;
  host: string;
  upstreamPort: number;
  /** The gateway's internal listener, which the `status` example calls. */
  gatewayInternalUrl: string;
  progress(line: string): void;
}

export async function startDemo(options: DemoOptions): Promise<Demo> {
  const upstream = await startExampleUpstream(options.host, options.upstreamPort);
  try {
    const repoDir = join(options.dataDir, 'demo', 'repo');
    if (!(await exists(join(repoDir, '.git')))) {
      options.progress(`► demo: making a Git repository of examples/ in ${repoDir}`);
      await makeRepository(repoDir);
    }
    const substitute = { DEMO_UPSTREAM: upstream.url, GATEWAY_INTERNAL: options.gatewayInternalUrl };
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
      spec: { sourceRef: { kind: 'GitRepository', name: 'demo' }, path: './', prune: true, interval: '1m', substitute },
    });
    // A Sync of an earlier start holds that start's ports.
    await options.client.patch(syncKind, 'demo', { spec: { substitute } }, 'merge', 'default');
    return { repoDir, upstreamUrl: upstream.url, close: upstream.close };
  } catch (err) {
    await upstream.close();
    throw err;
  }
}

async function makeRepository(repoDir: string): Promise<void> {
  await cp(EXAMPLES, repoDir, { recursive: true });
  for (const file of await readdir(repoDir, { recursive: true })) {
    if (!file.endsWith('.yaml')) continue;
    const text = await readFile(join(repoDir, file), 'utf8');
    let replaced = text;
    for (const [url, variable] of Object.entries(PORT_VARIABLES))
      replaced = replaced.replaceAll(url, `\${${variable}}`);
    if (replaced !== text) await writeFile(join(repoDir, file), replaced);
  }
  const git = (args: string[]) => exec('git', args, { cwd: repoDir });
  await git(['init', '-q', '-b', 'main']);
  for (const [key, value] of Object.entries(GIT_IDENTITY)) {
    const configured = await git(['config', '--get', key]).then(
      () => true,
      () => false,
    );
    if (!configured) await git(['config', key, value]);
  }
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
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Answers every request with a small JSON description of it; /healthz for health checks. */
async function startExampleUpstream(host: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const body =
      req.url === '/healthz'
        ? 'ok\n'
        : `${JSON.stringify({ message: 'Hello from the Gatehouse demo upstream', method: req.method, path: req.url, consumer: req.headers['x-gatehouse-consumer'] })}\n`;
    res.writeHead(200, { 'content-type': req.url === '/healthz' ? 'text/plain' : 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as { port: number };
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
