// Gatehouse installed into a KubeCluster as an operator installs it (docs/operations.md): deploy/'s namespace,
// ServiceAccounts and RBAC applied with kubectl, `gatehouse apiserver --mode aggregated` run as the
// ServiceAccount gatehouse-apiserver (a TokenRequest token), and deploy/'s APIService v1alpha1.gatehouse.dev
// with the caBundle of Gatehouse's serving certificate. The process runs on the host, not in a Pod: its
// Service is of type ExternalName `localhost` (see kube-cluster.ts for why).
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { type GatehouseProcess, startGatehouse } from '../support/cli.ts';
import { createCertificateAuthority } from '../support/pki.ts';
import {
  freePort,
  GATEHOUSE_NAMESPACE,
  GATEHOUSE_SERVICE,
  GATEHOUSE_SERVICE_HOST,
  type KubeCluster,
} from './kube-cluster.ts';

const DEPLOY = new URL('../../deploy/base/', import.meta.url).pathname;
export const API_SERVICE = 'v1alpha1.gatehouse.dev';

export interface AggregatedGatehouse {
  /** Gatehouse's own address, https://127.0.0.1:<port>, which kube-aggregator proxies to. */
  url: string;
  /** PEM of the CA of its serving certificate (the APIService's caBundle). */
  ca: string;
  /** Starts the API server again (same port, storage and identity) after stop or kill, and registers its
   * APIService again if it was deleted. */
  start(): Promise<void>;
  /** Ends the process with SIGKILL, as a crashed or evicted Pod. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

async function documents(file: string): Promise<Record<string, unknown>[]> {
  return parseAllDocuments(await readFile(join(DEPLOY, file), 'utf8')).map((d) => d.toJSON());
}

/** Installs and starts Gatehouse's API server in `cluster` on `storage` (PGlite in its directory when absent, so
 * a restart keeps its objects), and waits until kube-aggregator reports the APIService Available. */
export async function startAggregatedGatehouse(cluster: KubeCluster, storage = 'pglite'): Promise<AggregatedGatehouse> {
  const dir = join(cluster.dir, 'gatehouse');
  await mkdir(dir, { recursive: true });
  const ca = await createCertificateAuthority(dir, 'gatehouse-ca');
  const serving = await ca.issueServing('gatehouse-apiserver', [GATEHOUSE_SERVICE_HOST]);
  for (const file of ['namespace.yaml', 'service-accounts.yaml', 'rbac/policy.yaml', 'rbac/delegation.yaml']) {
    await cluster.kubectlOk(['apply', '-f', join(DEPLOY, file)]);
  }
  const kubeconfig = await cluster.serviceAccountKubeconfig(GATEHOUSE_NAMESPACE, GATEHOUSE_SERVICE);
  const port = await freePort();
  const apiService = (await documents('apiserver.yaml')).find((d) => d.kind === 'APIService');
  if (!apiService) throw new Error('deploy/base/apiserver.yaml has no APIService');
  const spec = apiService.spec as { caBundle?: string; service: { port: number } };
  spec.caBundle = Buffer.from(ca.cert).toString('base64');
  spec.service.port = port;
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: GATEHOUSE_SERVICE, namespace: GATEHOUSE_NAMESPACE },
    spec: { type: 'ExternalName', externalName: 'localhost', ports: [{ name: 'https', port }] },
  };
  await cluster.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(service) });

  const args = [
    ...['apiserver', '--mode', 'aggregated', '--kubeconfig', kubeconfig],
    ...['--storage', storage, '--data-dir', dir, '--bind', '127.0.0.1', '--port', String(port)],
    ...['--tls-cert-file', serving.certFile, '--tls-private-key-file', serving.keyFile],
  ];
  let running: GatehouseProcess | undefined;
  /** Starts the process and (re-)registers its APIService, then waits for kube-aggregator's verdict: it reaches
   * Gatehouse's discovery with the front-proxy certificate. A failure leaves no process behind. */
  async function start() {
    const started = await startGatehouse(args, 'API server listening');
    try {
      await cluster.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(apiService) });
      const wait = ['wait', '--for=condition=Available', `apiservice/${API_SERVICE}`, '--timeout=180s'];
      await cluster.kubectlOk(wait, { timeoutMs: 200_000 });
    } catch (err) {
      await started.kill();
      throw err;
    }
    running = started;
  }
  await start();
  return {
    url: `https://127.0.0.1:${port}`,
    ca: ca.cert,
    start,
    kill: async () => running?.kill(),
    stop: async () => running?.stop(),
  };
}
