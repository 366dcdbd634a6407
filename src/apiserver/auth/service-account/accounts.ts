// The uids of the ServiceAccounts that exist, for the token authenticator: a token is bound to the uid
// of the ServiceAccount it was issued for, so deleting the ServiceAccount (or deleting and re-creating
// it under the same name) revokes every token it had. Answered from a map kept by a storage watch, as
// kube's authenticator reads an informer cache; a name the map does not hold is read from storage, since
// the watch may lag a ServiceAccount created a moment ago (by this process or another replica).
import { ApiError } from '../../errors.ts';
import type { ResourceStore } from '../../registry/store.ts';

const RETRY_MS = 1000;

export class ServiceAccountUids {
  private readonly uids = new Map<string, string>();
  private readonly store: ResourceStore;

  constructor(store: ResourceStore) {
    this.store = store;
  }

  /** Follows the ServiceAccounts until `signal` aborts; a watch that ends is opened again. */
  follow(signal: AbortSignal): void {
    void (async () => {
      while (!signal.aborted) {
        try {
          for await (const { type, object } of await this.store.watch(undefined, {}, signal)) {
            const key = `${object.metadata.namespace}/${object.metadata.name}`;
            if (type === 'DELETED') this.uids.delete(key);
            else if (type !== 'BOOKMARK') this.uids.set(key, object.metadata.uid as string);
          }
        } catch {
          // Storage closing or a compacted history: the next watch starts from the current state.
        }
        // What the map held may have changed unseen; until the watch is back, lookups read storage.
        this.uids.clear();
        if (!signal.aborted) await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
      }
    })();
  }

  /** The uid of the ServiceAccount `namespace/name`, undefined when there is none. */
  async uidOf(namespace: string, name: string): Promise<string | undefined> {
    const cached = this.uids.get(`${namespace}/${name}`);
    if (cached) return cached;
    try {
      return (await this.store.get(namespace, name)).metadata.uid;
    } catch (err) {
      if (err instanceof ApiError && err.reason === 'NotFound') return undefined;
      throw err;
    }
  }
}
