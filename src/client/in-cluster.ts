// The client configuration of a process running in a Kubernetes Pod, as client-go's
// rest.InClusterConfig builds it: the API at KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT,
// the CA and the ServiceAccount token the kubelet mounts. The token is projected and rotated
// by the kubelet, so it is named as a tokenFile: the client reads it again once a minute.
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeconfigError, loadKubeconfig, type ClientConfig } from './kubeconfig.ts';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface InClusterEnvironment {
  env?: NodeJS.ProcessEnv;
  /** Where the token, ca.crt and namespace are mounted. */
  dir?: string;
}

/** Whether this process runs in a Pod: the API's address in the environment and a mounted token. */
export async function inCluster({
  env = process.env,
  dir = SERVICE_ACCOUNT_DIR,
}: InClusterEnvironment = {}): Promise<boolean> {
  if (!env.KUBERNETES_SERVICE_HOST || !env.KUBERNETES_SERVICE_PORT) return false;
  return access(join(dir, 'token')).then(
    () => true,
    () => false,
  );
}

export async function inClusterConfig({
  env = process.env,
  dir = SERVICE_ACCOUNT_DIR,
}: InClusterEnvironment = {}): Promise<ClientConfig> {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new KubeconfigError(
      'no kubeconfig given and not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set',
    );
  }
  const read = async (name: string, optional = false) => {
    try {
      return await readFile(join(dir, name), 'utf8');
    } catch (err) {
      if (optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new KubeconfigError(`in-cluster configuration: cannot read ${join(dir, name)}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  };
  const token = (await read('token'))?.trim();
  const ca = await read('ca.crt');
  const namespace = (await read('namespace', true))?.trim() || 'default';
  // An IPv6 address is bracketed in a URL (client-go joins host and port with net.JoinHostPort).
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return { server, ca, insecureSkipTlsVerify: false, token, tokenFile: join(dir, 'token'), namespace };
}

/** The configuration of a kubeconfig file, or the in-cluster one when none is given. */
export function loadClientConfig(
  kubeconfig: string | undefined,
  environment?: InClusterEnvironment,
): Promise<ClientConfig> {
  return kubeconfig === undefined ? inClusterConfig(environment) : loadKubeconfig(kubeconfig);
}
