// State that outlives config swaps: upstream pools, health checkers, circuit breakers, remote
// key sets and limiters are looked up by key while a config compiles, so a new config keeps
// the connections, the health verdicts, the failure counts and the fetched keys of the one
// before.
//
// Each part of a config (one ApiDefinition, or what all APIs share) records the keys it took
// while it compiled: its Claims. A config holds the claims of its parts; when a new config
// swaps in, it acquires the claims of parts it added and releases those of parts it dropped,
// so a value is disposed of when the last part using it goes. Parts reused unchanged are not
// touched: a compile costs what changed, not what exists.

export class Carried<V> {
  private readonly items = new Map<string, { value: V; refs: number }>();

  constructor(private readonly dispose: (value: V) => void) {}

  /** The value for `key`, made by `create` when none is kept. */
  get(key: string, create: () => V): V {
    recording?.taken.push([this as Carried<unknown>, key]);
    let item = this.items.get(key);
    if (item === undefined) this.items.set(key, (item = { value: create(), refs: 0 }));
    return item.value;
  }

  acquire(key: string): void {
    const item = this.items.get(key);
    if (item) item.refs++;
  }

  /** Disposes of the value when no part holds it any more. */
  release(key: string): void {
    const item = this.items.get(key);
    if (!item || --item.refs > 0) return;
    this.items.delete(key);
    this.dispose(item.value);
  }

  values(): V[] {
    return [...this.items.values()].map((i) => i.value);
  }

  /** Forgets every value; the caller disposes of them. */
  clear(): void {
    this.items.clear();
  }
}

/** The keys one part of a config took from Carried stores while it compiled. */
export class Claims {
  readonly taken: Array<[Carried<unknown>, string]> = [];

  /** The config adopting the part holds what it took. */
  acquire(): void {
    for (const [store, key] of this.taken) store.acquire(key);
  }

  /** The config that held the part was replaced by one without it. */
  release(): void {
    for (const [store, key] of this.taken) store.release(key);
  }
}

let recording: Claims | undefined;

/** Runs `compile` (synchronous: nothing else may compile meanwhile) and records what it took
 * from every Carried store. */
export function recordClaims<T>(compile: () => T): { value: T; claims: Claims } {
  const outer = recording;
  const claims = new Claims();
  recording = claims;
  try {
    return { value: compile(), claims };
  } finally {
    recording = outer;
  }
}
