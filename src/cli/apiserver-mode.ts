// `gatehouse apiserver --mode`: standalone (the default; Gatehouse is the whole API kubectl talks to) or
// aggregated (behind kube-apiserver's aggregation layer, serving only gatehouse.dev, with the cluster's
// API from --kubeconfig or the in-cluster configuration, as k8s.io/apiserver's servers take it).
import { InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import type { KubeClient } from '../client/rest.ts';

export type ApiServerMode = 'standalone' | 'aggregated';

export interface ModeFlags {
  mode: ApiServerMode;
  kubeconfig?: string;
}

export function apiServerMode(value: string): ApiServerMode {
  if (value !== 'standalone' && value !== 'aggregated')
    throw new InvalidArgumentError(`"${value}" is not a mode: standalone or aggregated`);
  return value;
}

/** The cluster's API in aggregated mode, with the namespace the server's own objects there (its Lease)
 * go in: the kubeconfig context's, or the Pod's. Undefined standalone, where --kubeconfig means nothing. */
export async function clusterOf(flags: ModeFlags): Promise<{ client: KubeClient; namespace: string } | undefined> {
  if (flags.mode === 'standalone') {
    if (flags.kubeconfig !== undefined)
      throw new InvalidArgumentError('--kubeconfig is only valid with --mode aggregated');
    return undefined;
  }
  // Imported here, not at the top: declaring --mode (gatehouse --help) must not load the client.
  const [{ KubeClient }, { loadClientConfig }] = await Promise.all([
    import('../client/rest.ts'),
    import('../client/in-cluster.ts'),
  ]);
  const config = await loadClientConfig(flags.kubeconfig === undefined ? undefined : resolve(flags.kubeconfig));
  return { client: new KubeClient(config), namespace: config.namespace };
}
