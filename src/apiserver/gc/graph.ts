// The garbage collector's picture of who owns whom, as kube's GraphBuilder keeps it
// (pkg/controller/garbagecollector/graph_builder.go): one node per uid, built from watch
// events, with its owners (the object's ownerReferences) and its dependents (the nodes whose
// references name it). An owner referenced before it is seen is a virtual node, to be
// verified by a lookup. The graph decides what needs attention and hands it to the queues;
// the collector does the reads and writes.
import type { KubeObject } from '../../api/kind.ts';
import { FOREGROUND_FINALIZER, ORPHAN_FINALIZER } from '../../api/schema/index.ts';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** Where an object is: for a virtual node, as its dependents' references name it (the namespace is
 * the dependent's, and is ignored when the owner's kind is cluster-scoped). */
export interface Identity {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
}

export class Node {
  readonly dependents = new Set<Node>();
  owners: OwnerReference[] = [];
  /** Referenced as an owner, never observed. */
  virtual: boolean;
  beingDeleted = false;
  /** Deleted in the foreground: waits for its blocking dependents to be deleted. */
  deletingDependents = false;

  constructor(
    public identity: Identity,
    virtual: boolean,
  ) {
    this.virtual = virtual;
  }

  /** Dependents whose reference to this node has blockOwnerDeletion: a foreground deletion waits for them. */
  blockingDependents(): Node[] {
    const uid = this.identity.uid;
    return [...this.dependents].filter((d) => d.owners.some((o) => o.uid === uid && o.blockOwnerDeletion === true));
  }
}

/** Where the graph sends nodes: kube's attemptToDelete and attemptToOrphan queues. */
export interface GraphQueues {
  attemptToDelete(node: Node): void;
  attemptToOrphan(node: Node): void;
}

export function ownerReferencesOf(obj: KubeObject): OwnerReference[] {
  const refs = obj.metadata.ownerReferences;
  if (!Array.isArray(refs)) return [];
  return (refs as OwnerReference[]).filter((r) => typeof r?.uid === 'string' && r.uid !== '');
}

function identityOf(obj: KubeObject): Identity {
  const { namespace = '', name = '', uid = '' } = obj.metadata;
  return { apiVersion: obj.apiVersion, kind: obj.kind, namespace, name, uid };
}

export class Graph {
  private readonly nodes = new Map<string, Node>();

  constructor(private readonly queues: GraphQueues) {}

  get size(): number {
    return this.nodes.size;
  }

  /** An object was listed, added or modified. */
  observe(obj: KubeObject): void {
    const uid = obj.metadata.uid;
    if (!uid) return;
    const owners = ownerReferencesOf(obj);
    let node = this.nodes.get(uid);
    if (!node) {
      node = new Node(identityOf(obj), false);
      this.nodes.set(uid, node);
      node.owners = owners;
      this.addToOwners(node, owners);
    } else {
      if (node.virtual) {
        node.virtual = false;
        node.identity = identityOf(obj);
      }
      this.updateOwners(node, owners);
    }
    const finalizers = obj.metadata.finalizers ?? [];
    node.beingDeleted = obj.metadata.deletionTimestamp !== undefined;
    // Seen again on every event, so a collector that starts (or restarts) picks up deletions under way.
    if (node.beingDeleted && finalizers.includes(ORPHAN_FINALIZER)) {
      this.queues.attemptToOrphan(node);
    } else if (node.beingDeleted && finalizers.includes(FOREGROUND_FINALIZER)) {
      node.deletingDependents = true;
      for (const dependent of node.dependents) this.queues.attemptToDelete(dependent);
      this.queues.attemptToDelete(node);
    }
  }

  /** An object was deleted: its dependents may now be garbage, and an owner deleting in the
   * foreground may have been waiting for it. */
  forget(obj: KubeObject): void {
    const node = obj.metadata.uid ? this.nodes.get(obj.metadata.uid) : undefined;
    if (node) this.remove(node);
  }

  /** A lookup found no object behind a virtual node: it goes as if its deletion had been observed. */
  forgetVirtual(node: Node): void {
    if (node.virtual && this.nodes.get(node.identity.uid) === node) this.remove(node);
  }

  private remove(node: Node): void {
    this.nodes.delete(node.identity.uid);
    this.removeFromOwners(node, node.owners);
    for (const dependent of node.dependents) this.queues.attemptToDelete(dependent);
    for (const ref of node.owners) {
      const owner = this.nodes.get(ref.uid);
      if (owner?.deletingDependents) this.queues.attemptToDelete(owner);
    }
  }

  private updateOwners(node: Node, owners: OwnerReference[]): void {
    const before = new Map(node.owners.map((r) => [r.uid, r]));
    const after = new Map(owners.map((r) => [r.uid, r]));
    const added = owners.filter((r) => !before.has(r.uid));
    const removed = node.owners.filter((r) => !after.has(r.uid));
    // An owner deleting in the foreground waits no longer for a dependent that stopped blocking it.
    const unblocked = node.owners.filter((r) => r.blockOwnerDeletion && !after.get(r.uid)?.blockOwnerDeletion);
    node.owners = owners;
    this.addToOwners(node, added);
    this.removeFromOwners(node, removed);
    for (const ref of unblocked) {
      const owner = this.nodes.get(ref.uid);
      if (owner?.deletingDependents) this.queues.attemptToDelete(owner);
    }
  }

  private addToOwners(node: Node, refs: OwnerReference[]): void {
    for (const ref of refs) {
      let owner = this.nodes.get(ref.uid);
      if (!owner) {
        const { apiVersion, kind, name, uid } = ref;
        owner = new Node({ apiVersion, kind, name, uid, namespace: node.identity.namespace }, true);
        this.nodes.set(uid, owner);
        this.queues.attemptToDelete(owner);
      }
      owner.dependents.add(node);
      // A dependent that arrives while its owner deletes in the foreground goes the way of the others.
      if (owner.deletingDependents) this.queues.attemptToDelete(node);
    }
  }

  private removeFromOwners(node: Node, refs: OwnerReference[]): void {
    for (const ref of refs) this.nodes.get(ref.uid)?.dependents.delete(node);
  }
}
