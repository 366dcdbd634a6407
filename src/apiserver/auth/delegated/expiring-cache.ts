// The bounded cache of the webhook authenticator and authorizer (k8s.io/apiserver's LRU-expiring cache):
// every entry has its own lifetime, and when the cache is full the least recently used entry leaves.
export const DEFAULT_CACHE_ENTRIES = 10_000;

export class ExpiringCache<V> {
  /** A Map iterates in insertion order: re-inserting on every hit keeps the least recently used first. */
  private readonly entries = new Map<string, { value: V; expires: number }>();

  constructor(
    private readonly maxEntries = DEFAULT_CACHE_ENTRIES,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expires <= this.now()) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  /** A lifetime of 0 or less caches nothing (kube's TTL flags set to 0 turn the cache off). */
  set(key: string, value: V, ttlMs: number): void {
    this.entries.delete(key);
    if (ttlMs <= 0) return;
    this.entries.set(key, { value, expires: this.now() + ttlMs });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  get size(): number {
    return this.entries.size;
  }
}
