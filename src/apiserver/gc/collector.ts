// The garbage collector of ownerReferences, as kube's (pkg/controller/garbagecollector):
// watches of every stored kind feed the Graph; its queues are worked by one loop that reads
// the objects concerned before it acts, so it never acts on a stale graph alone.
// - attemptToDelete: an object none of whose owners exists any more (or ever did) is deleted,
//   with the policy of its own finalizers; one with an owner deleting in the foreground is
//   deleted too (in the foreground when it has dependents of its own); an owner deleting in
//   the foreground loses its `foregroundDeletion` finalizer once no dependent blocks it.
// - attemptToOrphan: an owner deleting with the `orphan` finalizer has its references removed
//   from its dependents, then loses the finalizer.
// It works inside the API server, through the registry's stores (see docs/architecture.md).
import { setMaxListeners } from 'node:events';
import type { KindDefinition, KubeObject } from '../../api/kind.ts';
import { FOREGROUND_FINALIZER, ORPHAN_FINALIZER } from '../../api/schema/index.ts';
import { ApiError } from '../errors.ts';
import type { PropagationPolicy } from '../registry/propagation.ts';
import type { Registry } from '../registry/registry.ts';
import type { ResourceStore, WriteOptions } from '../registry/store.ts';
import { Graph, ownerReferencesOf, type Identity, type Node, type OwnerReference } from './graph.ts';

const WRITE: WriteOptions = { dryRun: false, fieldValidation: 'Ignore' };
/** Pause before an item whose work failed (a conflicting write, storage unavailable) is tried again,
 * doubled on each failure in a row up to the maximum, as kube's rate-limited work queue. */
const RETRY_MS = 1000;
const MAX_RETRY_MS = 5 * 60_000;

/** What a lookup of an identity found: the object, nothing (or another object under the same name), or
 * nothing it can tell because the kind is not served here. */
type Lookup = { found: KubeObject } | { absent: true } | { unresolvable: true };

export interface CollectorEvents {
  /** A watch ended or an item failed; the collector carries on (retries, or restarts its watches). */
  onError?(err: unknown): void;
}

export class Collector {
  private readonly graph: Graph;
  private readonly toDelete = new Set<Node>();
  private readonly toOrphan = new Set<Node>();
  private readonly kinds = new Map<string, ResourceStore>();
  private wake?: () => void;
  private readonly retries = new Set<NodeJS.Timeout>();
  /** Failures in a row of the items that failed last time they were worked. */
  private readonly failures = new Map<Node, number>();

  constructor(
    private readonly registry: Registry,
    private readonly signal: AbortSignal,
    private readonly events: CollectorEvents = {},
  ) {
    this.graph = new Graph({
      attemptToDelete: (node) => this.enqueue(this.toDelete, node),
      attemptToOrphan: (node) => this.enqueue(this.toOrphan, node),
    });
    for (const def of registry.kinds) {
      // A kind stored as another is that kind's objects, followed once, as that kind.
      if (def.createOnly || def.storedAs) continue;
      const store = registry.store(def.group, def.plural);
      if (store) this.kinds.set(kindKey(def.group, def.kind), store);
    }
    // One watch per kind listens on the signal, besides the collector itself.
    setMaxListeners(this.kinds.size + 2, signal);
    signal.addEventListener(
      'abort',
      () => {
        for (const timer of this.retries) clearTimeout(timer);
        this.wake?.();
      },
      { once: true },
    );
  }

  /** Watches every kind and, once each has delivered its current state (kube waits for its caches to
   * sync: a foreground deletion judged on half a graph would finish early), works the queues. Resolves
   * when the signal aborts; rejects when a watch ends, so the caller starts again on a new graph. */
  async run(): Promise<void> {
    let synced!: () => void;
    const allSynced = new Promise<void>((resolve) => (synced = resolve));
    let pending = this.kinds.size;
    const watches = [...this.kinds.values()].map((store) => this.follow(store, () => --pending === 0 && synced()));
    await Promise.race([...watches, allSynced.then(() => this.work())]);
  }

  private async follow(store: ResourceStore, synced: () => void): Promise<void> {
    for await (const event of await store.watch(undefined, { sendInitialEvents: true }, this.signal)) {
      if (event.type === 'BOOKMARK') {
        if (event.initialEventsEnd) synced();
      } else if (event.type === 'DELETED') this.graph.forget(event.object);
      else this.graph.observe(event.object);
    }
    if (!this.signal.aborted) throw new Error(`the garbage collector's watch of ${store.def.plural} ended`);
  }

  private enqueue(queue: Set<Node>, node: Node): void {
    queue.add(node);
    this.wake?.();
  }

  private async work(): Promise<void> {
    while (!this.signal.aborted) {
      const [queue, node] = this.next();
      if (!queue || !node) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      queue.delete(node);
      try {
        if (queue === this.toOrphan) await this.orphanDependents(node);
        else await this.attemptToDelete(node);
        this.failures.delete(node);
      } catch (err) {
        if (this.signal.aborted) return;
        this.events.onError?.(err);
        const failures = (this.failures.get(node) ?? 0) + 1;
        this.failures.set(node, failures);
        const timer = setTimeout(
          () => {
            this.retries.delete(timer);
            this.enqueue(queue, node);
          },
          Math.min(RETRY_MS * 2 ** (failures - 1), MAX_RETRY_MS),
        );
        this.retries.add(timer);
      }
    }
  }

  private next(): [Set<Node> | undefined, Node | undefined] {
    for (const queue of [this.toOrphan, this.toDelete]) {
      const first = queue.values().next();
      if (!first.done) return [queue, first.value];
    }
    return [undefined, undefined];
  }

  /** kube's attemptToDeleteItem. */
  private async attemptToDelete(node: Node): Promise<void> {
    // Being deleted is a one-way trip: its dependents are seen to when it is gone.
    if (node.beingDeleted && !node.deletingDependents) return;
    const lookup = await this.lookup(node.identity);
    if ('absent' in lookup) {
      // A real node's deletion arrives by its watch; a virtual one is known gone only from here.
      this.graph.forgetVirtual(node);
      return;
    }
    if (!('found' in lookup)) return;
    if (node.deletingDependents) return this.finishForeground(node);
    const latest = lookup.found;
    const refs = ownerReferencesOf(latest);
    if (!refs.length) return;
    const owners = await this.classify(latest, refs);
    // An owner that cannot be resolved might exist: the object is left as it is, as kube's collector does.
    if (!owners) return;
    const { solid, dangling, waiting } = owners;
    if (solid.length) {
      // An owner waiting for its dependents must not wait for this one, which stays for its other owners.
      const drop = [...dangling, ...waiting].map((r) => r.uid);
      if (drop.length) await this.rewriteReferences(latest, (r) => (drop.includes(r.uid) ? [] : [r]));
      return;
    }
    if (waiting.length && node.dependents.size) {
      // Two owners each waiting for the other would wait for ever: kube unblocks the references first.
      if ([...node.dependents].some((d) => d.deletingDependents)) {
        await this.rewriteReferences(latest, (r) => [r.blockOwnerDeletion ? { ...r, blockOwnerDeletion: false } : r]);
      }
      return this.deleteObject(latest, 'Foreground');
    }
    const finalizers = latest.metadata.finalizers ?? [];
    const policy: PropagationPolicy = finalizers.includes(ORPHAN_FINALIZER)
      ? 'Orphan'
      : finalizers.includes(FOREGROUND_FINALIZER)
        ? 'Foreground'
        : 'Background';
    await this.deleteObject(latest, policy);
  }

  /** kube's processDeletingDependentsItem: the owner goes once nothing blocks it. */
  private async finishForeground(node: Node): Promise<void> {
    const blocking = node.blockingDependents();
    if (!blocking.length) return this.removeFinalizer(node, FOREGROUND_FINALIZER);
    for (const dependent of blocking) if (!dependent.deletingDependents) this.enqueue(this.toDelete, dependent);
  }

  /** kube's attemptToOrphanWorker. */
  private async orphanDependents(owner: Node): Promise<void> {
    for (const dependent of [...owner.dependents]) {
      const lookup = await this.lookup(dependent.identity);
      if (!('found' in lookup)) continue;
      await this.rewriteReferences(lookup.found, (r) => (r.uid === owner.identity.uid ? [] : [r]));
    }
    await this.removeFinalizer(owner, ORPHAN_FINALIZER);
  }

  /** Sorts an object's owners: solid (present), dangling (absent, or another object under the name), and
   * waiting (deleting in the foreground); undefined when one cannot be resolved. */
  private async classify(obj: KubeObject, refs: OwnerReference[]) {
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    const namespace = obj.metadata.namespace ?? '';
    for (const ref of refs) {
      const store = this.storeOf(ref.apiVersion, ref.kind);
      // A cluster-scoped object cannot have a namespaced owner; kube leaves such an object alone too.
      if (!store || (store.def.namespaced && !namespace)) return undefined;
      const lookup = await this.lookup({ ...ref, namespace });
      if ('absent' in lookup) dangling.push(ref);
      else if (!('found' in lookup)) return undefined;
      else if (deletingInForeground(lookup.found)) waiting.push(ref);
      else solid.push(ref);
    }
    return { solid, dangling, waiting };
  }

  private storeOf(apiVersion: string, kind: string): ResourceStore | undefined {
    const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
    return this.kinds.get(kindKey(group, kind));
  }

  /** Reads what is stored under an identity now (kube's live lookup, never the graph's view). */
  private async lookup(identity: Identity): Promise<Lookup> {
    const store = this.storeOf(identity.apiVersion, identity.kind);
    if (!store) return { unresolvable: true };
    try {
      const found = await store.get(store.def.namespaced ? identity.namespace : '', identity.name);
      return found.metadata.uid === identity.uid ? { found } : { absent: true };
    } catch (err) {
      if (err instanceof ApiError && err.reason === 'NotFound') return { absent: true };
      throw err;
    }
  }

  private async deleteObject(obj: KubeObject, propagationPolicy: PropagationPolicy): Promise<void> {
    const store = this.storeOf(obj.apiVersion, obj.kind) as ResourceStore;
    const { namespace = '', name = '', uid } = obj.metadata;
    const options = { preconditions: { uid }, propagationPolicy };
    try {
      if (isNamespace(store.def)) await this.registry.deleteNamespace(name, options, WRITE);
      else await store.delete(namespace, name, options, WRITE);
    } catch (err) {
      // Gone already, or another object under the name now: nothing of this one is left to delete.
      if (!(err instanceof ApiError && (err.reason === 'NotFound' || err.reason === 'Conflict'))) throw err;
    }
  }

  /** Writes an object's ownerReferences mapped by `map`, unless that changes nothing. A concurrent write
   * fails it with a conflict, and the item is tried again on what is current. */
  private async rewriteReferences(obj: KubeObject, map: (ref: OwnerReference) => OwnerReference[]): Promise<void> {
    const before = ownerReferencesOf(obj);
    const after = before.flatMap(map);
    if (JSON.stringify(after) === JSON.stringify(before)) return;
    const { ownerReferences: _, ...metadata } = obj.metadata;
    await this.write({ ...obj, metadata: after.length ? { ...metadata, ownerReferences: after } : metadata });
  }

  private async removeFinalizer(node: Node, finalizer: string): Promise<void> {
    const lookup = await this.lookup(node.identity);
    if (!('found' in lookup)) return;
    const obj = lookup.found;
    if (!obj.metadata.finalizers?.includes(finalizer)) return;
    const finalizers = obj.metadata.finalizers.filter((f) => f !== finalizer);
    await this.write({ ...obj, metadata: { ...obj.metadata, finalizers } });
  }

  private async write(obj: KubeObject): Promise<void> {
    const store = this.storeOf(obj.apiVersion, obj.kind) as ResourceStore;
    try {
      await store.update(obj.metadata.namespace ?? '', obj.metadata.name ?? '', obj, WRITE);
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'NotFound')) throw err;
    }
  }
}

function deletingInForeground(obj: KubeObject): boolean {
  return obj.metadata.deletionTimestamp !== undefined && (obj.metadata.finalizers ?? []).includes(FOREGROUND_FINALIZER);
}

function kindKey(group: string, kind: string): string {
  return `${group}/${kind}`;
}

function isNamespace(def: KindDefinition): boolean {
  return def.group === '' && def.kind === 'Namespace';
}
