// The uids of the ServiceAccounts that exist, for the token authenticator: a token is bound to the uid
// of the ServiceAccount it was issued for, so deleting the ServiceAccount (or deleting and re-creating
// it under the same name) revokes every token it had. Answered from a map kept by a storage watch, as
// kube's authenticator reads an informer cache. A name the map does not hold is read from storage only
// while the map may not know it yet: before the watch has delivered the current state, or for a token
// issued within the last WATCH_LAG_MS (its ServiceAccount may have been created a moment before, by this
// process or another replica, and the watch may lag). A revoked token costs no storage read after that.
import { ApiError } from '../../errors.ts';
import type { ResourceStore } from '../../registry/store.ts';

const RETRY_MS = 1000;
/** How long a watch may lag a write it will deliver: far above what it does, even across replicas. */
const WATCH_LAG_MS = 30_000;

export class ServiceAccountUids {
  private readonly uids = new Map<string, string>();
  private readonly store: ResourceStore;
  /** Whether the map holds every ServiceAccount (the watch delivered the current state, and is open). */
  private synced = false;

  constructor(store: ResourceStore) {
    this.store = store;
  }

  /** Follows the ServiceAccounts until `signal` aborts; a watch that ends is opened again. */
  follow(signal: AbortSignal): void {
    void (async () => {
      while (!signal.aborted) {
        try {
          const events = await this.store.watch(undefined, { sendInitialEvents: true }, signal);
          for await (const { type, object, initialEventsEnd } of events) {
            const key = `${object.metadata.namespace}/${object.metadata.name}`;
            if (type === 'BOOKMARK') this.synced ||= initialEventsEnd === true;
            else if (type === 'DELETED') this.uids.delete(key);
            else this.uids.set(key, object.metadata.uid as string);
          }
        } catch {
          // Storage closing or a compacted history: the next watch starts from the current state.
        }
        // What the map held may have changed unseen; until the watch is back, lookups read storage.
        this.synced = false;
        this.uids.clear();
        if (!signal.aborted) await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
      }
    })();
  }

  /** The uid of the ServiceAccount `namespace/name`, undefined when there is none. `issuedAt` (milliseconds
   * since the epoch) is when the token asking was issued, at or after the ServiceAccount's creation. */
  async uidOf(namespace: string, name: string, issuedAt: number, now: number): Promise<string | undefined> {
    const cached = this.uids.get(`${namespace}/${name}`);
    if (cached || (this.synced && now - issuedAt > WATCH_LAG_MS)) return cached;
    try {
      return (await this.store.get(namespace, name)).metadata.uid;
    } catch (err) {
      if (err instanceof ApiError && err.reason === 'NotFound') return undefined;
      throw err;
    }
  }
}
