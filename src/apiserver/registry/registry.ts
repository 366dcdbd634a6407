// All resource stores of the server, looked up by group and plural, plus the namespace
// lifecycle kube-apiserver enforces through admission and the namespace controller:
// objects are only created in namespaces that exist and are not terminating, and a
// deleted namespace removes its contents before it goes. The namespaces are this server's
// own (standalone) or another API server's (aggregated: the cluster's, ExternalNamespaces).
import type { KindDefinition, KubeObject } from '../../api/kind.ts';
import type { Storage } from '../../storage/storage.ts';
import { ApiError, errors, type ResourceRef } from '../errors.ts';
import { validatePropagation } from './propagation.ts';
import {
  ResourceStore,
  type DeleteOptions,
  type DeleteResult,
  type NamespaceGuard,
  type WriteOptions,
} from './store.ts';

export const DEFAULT_NAMESPACES = ['default'];
const NAMESPACE_FINALIZER = 'kubernetes';

/** Namespaces kept by another API server (the cluster's, in aggregated mode: cluster-namespaces.ts). The
 * registry checks creates against them and deletes its objects in those that terminate or are gone, as
 * kube's NamespaceLifecycle admission and namespace controller do for kube-apiserver's own resources. */
export interface ExternalNamespaces {
  /** The namespace as known (a cache, then its server on a miss); undefined when it does not exist. */
  get(name: string): Promise<KubeObject | undefined>;
  /** Follows the namespaces until close(): `ending` with each that is terminating or gone, `listed` with
   * the names that exist after each full list, so objects in any other namespace are found. */
  start(handlers: { ending(name: string): void; listed(names: ReadonlySet<string>): void }): void;
  close(): void;
}

export class Registry implements NamespaceGuard {
  readonly kinds: KindDefinition[];
  private readonly stores = new Map<string, ResourceStore>();
  private readonly sweeping = new Set<string>();
  /** Namespaces as last seen through a storage watch, so a create does not cost a read.
   * A miss falls back to storage (the watch may lag a write made by another process). */
  private readonly namespaceCache = new Map<string, KubeObject>();
  private readonly stopWatch = new AbortController();
  private readonly external?: ExternalNamespaces;

  constructor(kinds: KindDefinition[], storage: Storage, external?: ExternalNamespaces) {
    this.kinds = kinds;
    this.external = external;
    for (const def of kinds) {
      this.stores.set(
        `${def.group}/${def.plural}`,
        new ResourceStore(def, storage, this, { afterWrite: (d, ns) => this.afterWrite(d, ns) }),
      );
    }
  }

  store(group: string, plural: string): ResourceStore | undefined {
    return this.stores.get(`${group}/${plural}`);
  }

  private get namespaces(): ResourceStore {
    const store = this.store('', 'namespaces');
    if (!store) throw new Error('the Namespace kind is not registered');
    return store;
  }

  /** Creates the namespaces every cluster has (idempotent), or follows the external ones. */
  async bootstrap(): Promise<void> {
    if (this.external) {
      this.external.start({ ending: (name) => this.sweep(name), listed: (names) => this.sweepOrphans(names) });
      return;
    }
    for (const name of DEFAULT_NAMESPACES) {
      try {
        await this.namespaces.create(
          '',
          { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
          { dryRun: false, fieldValidation: 'Strict' },
        );
      } catch (err) {
        if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
      }
    }
    const events = await this.namespaces.watch(undefined, {}, this.stopWatch.signal);
    void (async () => {
      try {
        for await (const event of events) {
          const ns = event.object;
          const name = ns.metadata.name as string;
          if (event.type === 'DELETED') this.namespaceCache.delete(name);
          else if (event.type !== 'BOOKMARK') this.namespaceCache.set(name, ns);
          // Also finishes deletions a previous process (or another replica) left behind.
          if (event.type !== 'DELETED' && ns.metadata.deletionTimestamp && !this.sweeping.has(name)) this.sweep(name);
        }
      } catch {
        // The watch ends when storage closes; lookups fall back to storage reads.
        this.namespaceCache.clear();
      }
    })();
  }

  /** Stops the namespace watch; storage is closed by its owner. */
  close(): void {
    this.stopWatch.abort();
    this.external?.close();
  }

  async assertWritable(namespace: string, ref: ResourceRef, name: string): Promise<void> {
    const ns = this.external ? await this.external.get(namespace) : await this.storedNamespace(namespace);
    if (!ns) throw errors.notFound({ group: '', resource: 'namespaces' }, namespace);
    if (ns.metadata.deletionTimestamp) throw errors.namespaceTerminating(ref, name, namespace);
  }

  private async storedNamespace(name: string): Promise<KubeObject | undefined> {
    try {
      return this.namespaceCache.get(name) ?? (await this.namespaces.get('', name));
    } catch (err) {
      if (err instanceof ApiError && err.reason === 'NotFound') return undefined;
      throw err;
    }
  }

  /** Deletes a namespace: at once when empty, else it is marked terminating (held by the
   * `kubernetes` finalizer) while its contents are deleted. */
  async deleteNamespace(name: string, options: DeleteOptions, write: WriteOptions): Promise<DeleteResult> {
    // Refused before the namespace is marked, not after.
    validatePropagation(options, `namespaces/${name}`);
    const ns = await this.namespaces.get('', name);
    if (!ns.metadata.deletionTimestamp && !write.dryRun && (await this.countIn(name)) > 0) {
      const finalizers = [...new Set([...(ns.metadata.finalizers ?? []), NAMESPACE_FINALIZER])];
      await this.namespaces.update('', name, { ...ns, metadata: { ...ns.metadata, finalizers } }, write);
    }
    const result = await this.namespaces.delete('', name, options, write);
    if (result.pending && !write.dryRun) this.sweep(name);
    return result;
  }

  private afterWrite(def: KindDefinition, namespace: string): void {
    if (def.kind === 'Namespace' || !def.namespaced) return;
    if (this.sweeping.has(namespace)) this.sweep(namespace);
  }

  /** Deletes every object in a terminating namespace, then releases the namespace. Runs
   * again whenever an object in it is written, until objects held by finalizers are gone. */
  sweep(namespace: string): void {
    this.sweeping.add(namespace);
    void this.sweepOnce(namespace).catch(() => {
      // Retried on the next write in the namespace or the next bootstrap.
    });
  }

  private async sweepOnce(namespace: string): Promise<void> {
    for (const def of this.kinds) {
      if (!def.namespaced || def.createOnly) continue;
      const store = this.store(def.group, def.plural) as ResourceStore;
      const page = await store.list(namespace, {});
      for (const item of page.items) {
        const obj = JSON.parse(item) as KubeObject;
        if (obj.metadata.deletionTimestamp) continue;
        try {
          await store.delete(namespace, obj.metadata.name as string, {}, { dryRun: false, fieldValidation: 'Ignore' });
        } catch (err) {
          if (!(err instanceof ApiError && err.reason === 'NotFound')) throw err;
        }
      }
    }
    // Objects held by finalizers remain; the next write in the namespace sweeps again.
    if ((await this.countIn(namespace)) > 0) return;
    this.sweeping.delete(namespace);
    // An external namespace is released by its own server's namespace controller.
    if (this.external) return;
    const ns = await this.namespaces.get('', namespace).catch(() => undefined);
    if (!ns) return;
    const finalizers = (ns.metadata.finalizers ?? []).filter((f) => f !== NAMESPACE_FINALIZER);
    await this.namespaces.update(
      '',
      namespace,
      { ...ns, metadata: { ...ns.metadata, finalizers } },
      { dryRun: false, fieldValidation: 'Ignore' },
    );
  }

  /** Sweeps the namespaces that hold objects here but no longer exist (deleted while this server was not
   * watching); each is looked up again first, as it may have been created after `names` was listed. */
  private sweepOrphans(names: ReadonlySet<string>): void {
    void (async () => {
      const holding = new Set<string>();
      for (const def of this.kinds) {
        if (!def.namespaced || def.createOnly) continue;
        const page = await (this.store(def.group, def.plural) as ResourceStore).list(undefined, {});
        for (const item of page.items) holding.add((JSON.parse(item) as KubeObject).metadata.namespace as string);
      }
      for (const name of holding) {
        if (!names.has(name) && !(await this.external?.get(name))) this.sweep(name);
      }
    })().catch(() => {
      // Retried after the next full list of the namespaces.
    });
  }

  private async countIn(namespace: string): Promise<number> {
    let n = 0;
    for (const def of this.kinds) {
      if (!def.namespaced || def.createOnly) continue;
      n += (await (this.store(def.group, def.plural) as ResourceStore).list(namespace, { limit: 1 })).items.length;
    }
    return n;
  }
}
