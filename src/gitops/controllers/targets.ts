// Where a Sync's objects live: the controller's own API server, or the cluster (another Gatehouse API server, or
// kube-apiserver) that a kubeconfig in a Secret of the Sync's namespace describes: spec.kubeConfig.secretRef, as
// Flux's Kustomization, key `value` or else `value.yaml` unless the reference names one. Only the objects go there:
// the Sync's status, inventory, history and Events stay with the Sync.
//
// The kubeconfig must carry its credentials inline (client/kubeconfig.ts refuses plugins and files); its token
// and client key join the redactor before any request is made, so no message carries them. One client per Sync is
// kept while the Secret's resourceVersion stays, so the connections are reused from reconcile to reconcile.
import { secretKind, type Secret } from '../../api/core/secret/index.ts';
import type { Sync } from '../../api/kinds/sync/index.ts';
import { KubeconfigError, kubeconfigFromData } from '../../client/kubeconfig.ts';
import { KubeClient } from '../../client/rest.ts';
import type { Redactor } from '../redact.ts';
import { getOrUndefined } from './read.ts';

/** Flux's keys of a kubeconfig Secret, in the order they are looked for. */
export const KUBECONFIG_KEYS = ['value', 'value.yaml'];

export interface Target {
  client: KubeClient;
  /** Names a remote target in messages: `<server> (spec.kubeConfig Secret <ns>/<name>)`; absent for the local one. */
  remote?: string;
}

/** spec.kubeConfig cannot be used: its Secret or key is missing, or its kubeconfig is refused. */
export class TargetError extends Error {
  override readonly name = 'TargetError';
}

interface RemoteTarget extends Required<Target> {
  /** The Secret's resourceVersion and key the client was made from. */
  version: string;
}

export class SyncTargets {
  private readonly remotes = new Map<string, RemoteTarget>();

  constructor(
    private readonly client: KubeClient,
    private readonly redactor: Redactor,
  ) {}

  /** The target of `sync`, before any impersonation of its spec.serviceAccountName. */
  async of(sync: Sync): Promise<Target> {
    const ref = sync.spec.kubeConfig?.secretRef;
    const key = syncKey(sync);
    if (!ref) {
      await this.forget(key);
      return { client: this.client };
    }
    const namespace = sync.metadata.namespace ?? 'default';
    const secretName = `Secret ${namespace}/${ref.name}`;
    const secret = await getOrUndefined<Secret>(this.client, secretKind, { namespace, name: ref.name });
    if (!secret) throw new TargetError(`${secretName} named by spec.kubeConfig.secretRef not found`);
    const field = (ref.key ? [ref.key] : KUBECONFIG_KEYS).find((k) => secret.data?.[k] !== undefined);
    if (!field) {
      const keys = (ref.key ? [ref.key] : KUBECONFIG_KEYS).map((k) => `"${k}"`).join(' or ');
      throw new TargetError(`${secretName} named by spec.kubeConfig.secretRef has no key ${keys}`);
    }
    const version = `${secret.metadata.resourceVersion}/${field}`;
    const known = this.remotes.get(key);
    if (known?.version === version) return known;
    await this.forget(key);
    const text = Buffer.from(secret.data![field], 'base64').toString('utf8');
    const config = await kubeconfigFromData(text, `${secretName} key ${field}`).catch((err: unknown) => {
      throw err instanceof KubeconfigError ? new TargetError(err.message, { cause: err }) : err;
    });
    for (const value of [config.token, config.clientKey]) if (value) this.redactor.remember(value);
    const remote = {
      client: new KubeClient(config),
      remote: `${config.server} (spec.kubeConfig ${secretName})`,
      version,
    };
    this.remotes.set(key, remote);
    return remote;
  }

  /** Closes the client kept for the Sync `namespace/name`, if any: it is gone or no longer remote. */
  async forget(key: string): Promise<void> {
    const known = this.remotes.get(key);
    this.remotes.delete(key);
    await known?.client.close();
  }

  async close(): Promise<void> {
    await Promise.all([...this.remotes.keys()].map((key) => this.forget(key)));
  }
}

function syncKey(sync: Sync): string {
  return `${sync.metadata.namespace ?? 'default'}/${sync.metadata.name}`;
}
