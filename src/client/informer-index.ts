// A secondary index over an informer's cache (client-go's Indexer): the cached objects by
// the keys `keysOf` gives each, kept current from the informer's changes. "Which
// GitRepositories name Secret default/git-auth" is then one map lookup, not a scan of the
// cache per event. Create it before the informer starts, so it sees the first list.
import type { KubeObject } from '../api/kind.ts';
import type { Informer, InformerChange } from './informer.ts';

const idOf = (obj: KubeObject) => `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;

export class InformerIndex<T extends KubeObject> {
  /** Index key → object id → object. */
  private readonly byKey = new Map<string, Map<string, T>>();
  /** Object id → the index keys it is filed under. */
  private readonly keysOfId = new Map<string, readonly string[]>();

  constructor(
    informer: Informer<T>,
    private readonly keysOf: (obj: T) => Iterable<string>,
  ) {
    informer.onChange((change) => this.apply(change));
  }

  /** The objects filed under `key`, in no particular order. */
  get(key: string): T[] {
    return [...(this.byKey.get(key)?.values() ?? [])];
  }

  private apply(change: InformerChange<T>): void {
    if (change.type === 'SYNC') {
      this.byKey.clear();
      this.keysOfId.clear();
      for (const obj of change.items) this.file(obj);
      return;
    }
    this.unfile(idOf(change.object));
    if (change.type !== 'DELETED') this.file(change.object);
  }

  private file(obj: T): void {
    const id = idOf(obj);
    const keys = [...new Set(this.keysOf(obj))];
    this.keysOfId.set(id, keys);
    for (const key of keys) {
      let objects = this.byKey.get(key);
      if (!objects) this.byKey.set(key, (objects = new Map()));
      objects.set(id, obj);
    }
  }

  private unfile(id: string): void {
    for (const key of this.keysOfId.get(id) ?? []) {
      const objects = this.byKey.get(key);
      objects?.delete(id);
      if (objects?.size === 0) this.byKey.delete(key);
    }
    this.keysOfId.delete(id);
  }
}
