// A Gatehouse API server as its own process (`gatehouse apiserver`, HTTPS with a static
// token), with a kubeconfig for the components that talk to it.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureSelfSignedCert } from '../../src/apiserver/tls.ts';
import { writeKubeconfig } from '../../src/cli/kubeconfig.ts';
import { waitForOutput, type Child, type Processes } from './processes.ts';
import { gatehouseArgv, REPO_ROOT } from './repo.ts';

export interface ApiServerProcess {
  child: Child;
  url: string;
  /** PEM of the CA that signs the server's certificate. */
  ca: string;
  token: string;
  kubeconfigPath: string;
}

export interface ApiServerProcessOptions {
  /** memory | pglite | postgres://… */
  storage: string;
  /** Data directory: certificate, token file, kubeconfig and embedded storage go here. */
  dir: string;
  token: string;
  /** Groups of the token's user: system:masters by default, which the authorizer lets through before RBAC. */
  groups?: string;
  /** Command prefix the server runs under, e.g. ['taskset', '-c', '1']. */
  prefix?: readonly string[];
  stderr?: 'pipe' | 'inherit';
}

export async function startApiServerProcess(
  processes: Processes,
  options: ApiServerProcessOptions,
): Promise<ApiServerProcess> {
  const { dir, token } = options;
  const tls = await ensureSelfSignedCert(join(dir, 'tls'));
  const tokenFile = join(dir, 'tokens.csv');
  await writeFile(tokenFile, `${token},bench,bench,"${options.groups ?? 'system:masters'}"\n`);
  const child = processes.start(
    'API server',
    [
      ...(options.prefix ?? []),
      ...gatehouseArgv([
        'apiserver',
        '--storage',
        options.storage,
        '--data-dir',
        dir,
        '--port',
        '0',
        '--token-file',
        tokenFile,
        '--tls-cert-file',
        tls.certFile,
        '--tls-private-key-file',
        tls.keyFile,
      ]),
    ],
    { cwd: REPO_ROOT, env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'info' }, stderr: options.stderr },
  );
  // The "listening" log line carries the URL (the port is picked by the OS).
  const [, url] = await waitForOutput(child, /"url":"(https:\/\/[^"]+)"/);
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeKubeconfig(kubeconfigPath, url, tls.cert, token);
  return { child, url, ca: tls.cert, token, kubeconfigPath };
}
