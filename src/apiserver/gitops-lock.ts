// The GitOps lock: validating admission that refuses an update, patch, apply or delete of an object a Sync owns
// (its sync labels) by anyone but the user the Sync's writes come from (syncWriter: the Sync's ServiceAccount,
// or the controller's identity it recorded in status.appliedBy), so a hand edit never takes effect, instead of
// being reverted a second later. The refusal is kube's answer to a denied admission, 403 Forbidden, naming the
// owner, its source and the file. Creates are not locked (the object is nobody's yet), nor status writes (the
// store admits no status subresource write), nor the objects of a Sync with spec.lock false or suspended (as
// Flux's suspend, the way to hand its objects over for a while: its apply stops, hand edits stay).
//
// Break glass: a user the authorizer allows the verb `override` on the object may write it when the written
// object carries the override-reason annotation, or the stored one does (removing it ends the override, and
// deleting an overridden object is the override's too). Such a write is marked in the request's audit event.
//
// Syncs are read from an index kept by a watch (as RBAC's policy index): the Sync's own writes are let through
// without a read. The index may lag behind a Sync (its first status.appliedBy), so a refusal is decided on the
// stored Sync: one read per refused write.
import type { KindDefinition, KubeObject } from '../api/kind.ts';
import {
  OVERRIDE_REASON_ANNOTATION,
  OVERRIDE_VERB,
  SOURCE_PATH_ANNOTATION,
  SYNC_NAME_LABEL,
  SYNC_NAMESPACE_LABEL,
  syncKind,
  syncWriter,
  type Sync,
} from '../api/kinds/sync/index.ts';
import { ApiError, errors } from './errors.ts';
import type { Authorizer, UserInfo } from './auth/auth.ts';
import type { Registry } from './registry/registry.ts';
import type { ResourceStore } from './registry/store.ts';

/** Annotations of the audit event of a write the lock let through by an override. */
const OVERRIDE_AUDIT_ANNOTATION = 'gatehouse.dev/override';

const RETRY_MS = 1000;

export interface GitOpsLockOptions {
  /** Asked whether a user may `override` the lock on an object (the server's whole chain). */
  authorizer: Authorizer;
  /** Told of every write let through by an override, for the request's audit event. */
  onOverride(user: UserInfo, annotations: Record<string, string>): void;
  /** Told when the watch of Syncs fails; it is opened again a second later. */
  onError(err: unknown): void;
}

export class GitOpsLock {
  private readonly syncs = new Map<string, Sync>();
  private readonly stop = new AbortController();

  private constructor(
    private readonly store: ResourceStore,
    private readonly options: GitOpsLockOptions,
  ) {}

  /** The lock of the Syncs `registry` serves (none when it serves no Syncs), once its index holds them all. */
  static async start(registry: Registry, options: GitOpsLockOptions): Promise<GitOpsLock | undefined> {
    const store = registry.store(syncKind.group, syncKind.plural);
    if (!store) return undefined;
    const lock = new GitOpsLock(store, options);
    await new Promise<void>((synced) => void lock.follow(synced));
    return lock;
  }

  close(): void {
    this.stop.abort();
  }

  /** Refuses a write of `obj` over `old` (obj absent: a delete; old absent: a create) by `user`. */
  async admit(user: UserInfo, def: KindDefinition, obj: KubeObject | undefined, old: KubeObject | undefined) {
    const labels = old?.metadata.labels;
    const name = labels?.[SYNC_NAME_LABEL];
    const namespace = labels?.[SYNC_NAMESPACE_LABEL];
    if (!old || !name || !namespace) return;
    const free = (sync: Sync | undefined) =>
      !sync || sync.spec.lock === false || sync.spec.suspend || syncWriter(sync) === user.name;
    if (free(this.syncs.get(`${namespace}/${name}`))) return;
    const sync = await this.read(namespace, name);
    if (free(sync) || (await this.overridden(user, def, obj, old))) return;
    const ref = { group: def.group, resource: def.plural };
    throw errors.forbidden(lockedMessage(def, old, sync as Sync), ref, old.metadata.name);
  }

  /** Whether `user` may override the lock on `old` and the write sets or removes the override annotation. */
  private async overridden(user: UserInfo, def: KindDefinition, obj: KubeObject | undefined, old: KubeObject) {
    const set = obj?.metadata.annotations?.[OVERRIDE_REASON_ANNOTATION];
    const was = old.metadata.annotations?.[OVERRIDE_REASON_ANNOTATION];
    if (set === undefined && was === undefined) return false;
    const { namespace, name } = old.metadata;
    const attrs = { user, verb: OVERRIDE_VERB, group: def.group, resource: def.plural, namespace, name };
    if (!(await this.options.authorizer.authorize(attrs)).allowed) return false;
    const action = set === undefined ? (obj ? 'removed' : 'deleted') : 'set';
    this.options.onOverride(user, { [OVERRIDE_AUDIT_ANNOTATION]: action, [OVERRIDE_REASON_ANNOTATION]: set ?? was! });
    return true;
  }

  private async read(namespace: string, name: string): Promise<Sync | undefined> {
    try {
      return (await this.store.get(namespace, name)) as Sync;
    } catch (err) {
      if (err instanceof ApiError && err.reason === 'NotFound') return undefined;
      throw err;
    }
  }

  /** Keeps the index current; a watch that ends is opened again, its initial state replacing the index. */
  private async follow(synced: () => void): Promise<void> {
    const { signal } = this.stop;
    while (!signal.aborted) {
      try {
        const initial = new Map<string, Sync>();
        let listed = false;
        for await (const event of await this.store.watch(undefined, { sendInitialEvents: true }, signal)) {
          if (event.type === 'BOOKMARK') {
            if (!event.initialEventsEnd || listed) continue;
            this.syncs.clear();
            for (const [key, sync] of initial) this.syncs.set(key, sync);
            listed = true;
            synced();
            continue;
          }
          const sync = event.object as Sync;
          const key = `${sync.metadata.namespace}/${sync.metadata.name}`;
          const index = listed ? this.syncs : initial;
          if (event.type === 'DELETED') index.delete(key);
          else index.set(key, sync);
        }
      } catch (err) {
        if (!signal.aborted) this.options.onError(err);
      }
      if (!signal.aborted) await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
}

/** `ApiDefinition default/orders is managed by Sync default/apis (GitRepository default/platform,
 * apis/orders.yaml); change it in Git`. */
function lockedMessage(def: KindDefinition, obj: KubeObject, sync: Sync): string {
  const { namespace, name } = obj.metadata;
  const ref = sync.spec.sourceRef;
  const source = `${ref.kind ?? 'GitRepository'} ${ref.namespace ?? sync.metadata.namespace}/${ref.name}`;
  const file = obj.metadata.annotations?.[SOURCE_PATH_ANNOTATION];
  const owner = `Sync ${sync.metadata.namespace}/${sync.metadata.name}`;
  const what = `${def.kind} ${namespace ? `${namespace}/` : ''}${name}`;
  return `${what} is managed by ${owner} (${source}${file ? `, ${file}` : ''}); change it in Git`;
}
