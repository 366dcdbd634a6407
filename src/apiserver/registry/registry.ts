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
  type StoreHooks,
  type WriteOptions,
} from './store.ts';

export const DEFAULT_NAMESPACES = ['default'];
const NAMESPACE_FINALIZER = 'kubernetes';
/** A terminating namespace's objects are listed this many at a time and deleted this many at once. */
const SWEEP_PAGE = 500;
const SWEEP_PARALLEL = 128;
/** How soon a namespace whose objects finalizers still hold is looked at again. */
const SWEEP_RETRY_MS = 2000;

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
  /** Terminating namespaces whose contents are still to be deleted. */
  private readonly sweeping = new Set<string>();
  /** The sweep under way per namespace and whether another was asked for meanwhile: one at a time, so the
   * deletes of one sweep (each a write in the namespace) ask for one more sweep, not one each. */
  private readonly sweeps = new Map<string, { again: boolean }>();
  /** Whether this replica sweeps (see sweepNamespaces). */
  private sweeper = true;
  /** Namespaces as last seen through a storage watch, so a create does not cost a read.
   * A miss falls back to storage (the watch may lag a write made by another process). */
  private readonly namespaceCache = new Map<string, KubeObject>();
  private readonly stopWatch = new AbortController();
  private readonly external?: ExternalNamespaces;

  /** `records`: what each write commits beside the object (the ApiDefinitions' history). */
  constructor(
    kinds: KindDefinition[],
    storage: Storage,
    external?: ExternalNamespaces,
    records: Pick<StoreHooks, 'linkedWrite'> = {},
  ) {
    this.kinds = kinds;
    this.external = external;
    const linkedWrite = records.linkedWrite?.bind(records);
    for (const def of kinds) {
      this.stores.set(
        `${def.group}/${def.plural}`,
        new ResourceStore(def, storage, this, { afterWrite: (d, ns) => this.afterWrite(d, ns), linkedWrite }),
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

  /** Whether this replica deletes the contents of terminating namespaces. Replicas sharing storage sweep
   * only while holding the garbage collector's Lease (kube-controller-manager runs its namespace and garbage
   * collectors under one election), so each namespace is emptied once, not by every replica; a replica
   * taking over sweeps every namespace it knows to be terminating. */
  sweepNamespaces(enabled: boolean): void {
    this.sweeper = enabled;
    if (!enabled) return;
    for (const [name, ns] of this.namespaceCache) if (ns.metadata.deletionTimestamp) this.sweeping.add(name);
    for (const name of this.sweeping) this.sweep(name);
  }

  /** Deletes every object in a terminating namespace, then releases the namespace. Runs
   * again whenever an object in it is written here, and every few seconds while objects held by
   * finalizers remain (they may be released on another replica). */
  sweep(namespace: string): void {
    this.sweeping.add(namespace);
    if (!this.sweeper) return;
    const running = this.sweeps.get(namespace);
    if (running) {
      running.again = true;
      return;
    }
    const state = { again: false };
    this.sweeps.set(namespace, state);
    void (async () => {
      let left = false;
      try {
        do {
          state.again = false;
          left = await this.sweepOnce(namespace);
        } while (state.again && this.sweeper);
      } catch {
        left = true;
      } finally {
        this.sweeps.delete(namespace);
      }
      if (left && this.sweeper)
        setTimeout(() => this.sweeping.has(namespace) && this.sweep(namespace), SWEEP_RETRY_MS).unref();
    })();
  }

  /** One pass over the namespace, page by page and SWEEP_PARALLEL deletes at a time; true when objects remain.
   * A namespace that exists and is not terminating (any more) is left alone: a sweep asked for while this
   * replica did not lead may run long after, when the namespace has been made again. */
  private async sweepOnce(namespace: string): Promise<boolean> {
    const write: WriteOptions = { dryRun: false, fieldValidation: 'Ignore' };
    const current = this.external
      ? await this.external.get(namespace)
      : await this.namespaces.get('', namespace).catch((err: unknown) => {
          if (err instanceof ApiError && err.reason === 'NotFound') return undefined;
          throw err;
        });
    if (current && !current.metadata.deletionTimestamp) {
      this.sweeping.delete(namespace);
      return false;
    }
    for (const store of this.namespacedStores()) {
      let next: string | undefined;
      do {
        if (!this.sweeper) return true;
        const page = await store.list(namespace, { limit: SWEEP_PAGE, continue: next });
        const names = page.items
          .map((item) => JSON.parse(item) as KubeObject)
          .filter((obj) => !obj.metadata.deletionTimestamp)
          .map((obj) => obj.metadata.name as string);
        for (let i = 0; i < names.length; i += SWEEP_PARALLEL) {
          await Promise.all(
            names.slice(i, i + SWEEP_PARALLEL).map((name) =>
              store.delete(namespace, name, {}, write).catch((err: unknown) => {
                if (!(err instanceof ApiError && err.reason === 'NotFound')) throw err;
              }),
            ),
          );
        }
        next = page.continue;
      } while (next);
    }
    // Objects held by finalizers remain until they are released.
    if ((await this.countIn(namespace)) > 0) return true;
    this.sweeping.delete(namespace);
    // An external namespace is released by its own server's namespace controller.
    if (this.external) return false;
    const ns = await this.namespaces.get('', namespace).catch(() => undefined);
    if (!ns) return false;
    const finalizers = (ns.metadata.finalizers ?? []).filter((f) => f !== NAMESPACE_FINALIZER);
    await this.namespaces.update('', namespace, { ...ns, metadata: { ...ns.metadata, finalizers } }, write);
    return false;
  }

  /** Sweeps the namespaces that hold objects here but no longer exist (deleted while this server was not
   * watching); each is looked up again first, as it may have been created after `names` was listed. */
  private sweepOrphans(names: ReadonlySet<string>): void {
    void (async () => {
      const holding = new Set<string>();
      for (const store of this.namespacedStores()) {
        let next: string | undefined;
        do {
          const page = await store.list(undefined, { limit: SWEEP_PAGE, continue: next });
          for (const item of page.items) holding.add((JSON.parse(item) as KubeObject).metadata.namespace as string);
          next = page.continue;
        } while (next);
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
    for (const store of this.namespacedStores()) n += (await store.list(namespace, { limit: 1 })).items.length;
    return n;
  }

  /** The stores of namespaced objects, each stored collection once: a kind served from another's storage
   * (events.k8s.io Events) is left to the kind it is stored as; create-only kinds keep nothing. */
  private *namespacedStores(): Iterable<ResourceStore> {
    for (const def of this.kinds) {
      if (def.namespaced && !def.createOnly && !def.storedAs) yield this.store(def.group, def.plural) as ResourceStore;
    }
  }
}
