// State that outlives config swaps: upstream pools, health checkers and circuit breakers are
// looked up by key while a config compiles, so a new config keeps the connections, the
// health verdicts and the failure counts of the one before. Each compile marks, asks for
// what it uses, and sweeps; whatever that compile did not ask for is disposed of.

export class Carried<V> {
  private readonly items = new Map<string, V>();
  private used = new Set<string>();

  /** The value for `key`, made by `create` when no config has used the key yet. */
  get(key: string, create: () => V): V {
    this.used.add(key);
    let value = this.items.get(key);
    if (value === undefined) {
      value = create();
      this.items.set(key, value);
    }
    return value;
  }

  /** Starts a compile: keys asked for until sweep() are the ones the new config uses. */
  mark(): void {
    this.used = new Set();
  }

  /** Disposes of the values the last compile did not ask for. */
  sweep(dispose: (value: V) => void): void {
    for (const [key, value] of this.items) {
      if (this.used.has(key)) continue;
      this.items.delete(key);
      dispose(value);
    }
  }

  values(): IterableIterator<V> {
    return this.items.values();
  }

  /** Forgets every value; the caller disposes of them. */
  clear(): void {
    this.items.clear();
    this.used.clear();
  }
}
