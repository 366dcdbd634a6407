// The cluster's Namespaces, for the API server in aggregated mode: kube-apiserver keeps them, and
// Gatehouse follows them with an informer, as kube's NamespaceLifecycle admission plugin does
// (plugin/pkg/admission/namespace/lifecycle): a create is checked against the informer's cache, and a
// namespace missing from it is read live, since the watch may lag a namespace created a moment ago.
import { namespaceKind } from '../api/core/namespace/index.ts';
import type { KubeObject } from '../api/kind.ts';
import { isStatusError } from '../client/errors.ts';
import { Informer } from '../client/informer.ts';
import type { KubeClient } from '../client/rest.ts';
import { errors } from './errors.ts';
import type { HealthCheck } from './http/handler.ts';
import type { ExternalNamespaces } from './registry/registry.ts';

export class ClusterNamespaces implements ExternalNamespaces {
  private readonly informer: Informer;

  constructor(
    private readonly client: KubeClient,
    onError: (err: unknown) => void,
  ) {
    this.informer = new Informer(client, namespaceKind, { onError });
  }

  /** Not ready until the cluster's namespaces are listed once: kube's plugin waits for its informer too. */
  readonly readiness: HealthCheck = {
    name: 'cluster-namespaces',
    readinessOnly: true,
    check: async () => {
      if (this.informer.lastResourceVersion === '') throw new Error("the cluster's namespaces are not listed yet");
    },
  };

  start(handlers: { ending(name: string): void; listed(names: ReadonlySet<string>): void }): void {
    this.informer.onChange((change) => {
      if (change.type === 'SYNC') {
        handlers.listed(new Set(change.items.map((ns) => ns.metadata.name as string)));
        for (const ns of change.items) if (ns.metadata.deletionTimestamp) handlers.ending(ns.metadata.name as string);
      } else if (change.type === 'DELETED' || change.object.metadata.deletionTimestamp) {
        handlers.ending(change.object.metadata.name as string);
      }
    });
    this.informer.start();
  }

  async get(name: string): Promise<KubeObject | undefined> {
    const cached = this.informer.get(undefined, name);
    if (cached) return cached;
    try {
      return await this.client.get(namespaceKind, name);
    } catch (err) {
      if (isStatusError(err, 'NotFound')) return undefined;
      // The create cannot be admitted without knowing the namespace: 503 names what failed, as kube's
      // plugin answers with the lookup's error.
      throw errors.unavailable(
        `cannot look up namespace "${name}" in the cluster: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  close(): void {
    void this.informer.stop();
  }
}
