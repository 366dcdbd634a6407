// All resource stores of the server, looked up by group and plural, plus the namespace
// lifecycle kube-apiserver enforces through admission and the namespace controller:
// objects are only created in namespaces that exist and are not terminating, and a
// deleted namespace removes its contents before it goes.
import type { KindDefinition, KubeObject } from '../../api/kind.ts';
import type { Storage } from '../../storage/storage.ts';
import { ApiError, errors } from '../errors.ts';
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

export class Registry implements NamespaceGuard {
  readonly kinds: KindDefinition[];
  private readonly stores = new Map<string, ResourceStore>();
  private readonly sweeping = new Set<string>();
  /** Namespaces as last seen through a storage watch, so a create does not cost a read.
   * A miss falls back to storage (the watch may lag a write made by another process). */
  private readonly namespaceCache = new Map<string, KubeObject>();
  private readonly stopWatch = new AbortController();

  constructor(kinds: KindDefinition[], storage: Storage) {
    this.kinds = kinds;
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

  /** Creates the namespaces every cluster has. Idempotent. */
  async bootstrap(): Promise<void> {
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
  }

  async assertWritable(namespace: string): Promise<void> {
    let ns = this.namespaceCache.get(namespace);
    try {
      ns ??= await this.namespaces.get('', namespace);
    } catch (err) {
      if (err instanceof ApiError && err.reason === 'NotFound')
        throw errors.notFound({ group: '', resource: 'namespaces' }, namespace);
      throw err;
    }
    if (ns.metadata.deletionTimestamp) {
      throw errors.forbidden(
        `unable to create new content in namespace ${namespace} because it is being terminated`,
        { group: '', resource: 'namespaces' },
        namespace,
      );
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

  private async countIn(namespace: string): Promise<number> {
    let n = 0;
    for (const def of this.kinds) {
      if (!def.namespaced || def.createOnly) continue;
      n += (await (this.store(def.group, def.plural) as ResourceStore).list(namespace, { limit: 1 })).items.length;
    }
    return n;
  }
}
