// What every driver does the same way with a batch of counter increments: increments of
// one counter are summed first (one SQL statement may not update a row twice), and the
// batch is put in one order, so two processes adding overlapping batches lock rows in
// the same order and cannot deadlock.
import type { CounterIncrement } from './storage.ts';

/** How often, at most, a driver deletes expired counters (during an addCounters call). */
export const COUNTER_SWEEP_EVERY_MS = 60_000;

export interface MergedIncrements {
  /** One increment per counter, sorted by key then window. */
  counters: CounterIncrement[];
  /** For each increment given, the index of its counter in `counters`. */
  positions: number[];
}

export function mergeIncrements(increments: readonly CounterIncrement[]): MergedIncrements {
  const byId = new Map<string, CounterIncrement>();
  const ids = increments.map((inc) => {
    const id = counterId(inc.key, inc.window);
    const seen = byId.get(id);
    if (seen) {
      seen.delta += inc.delta;
      seen.expiresAt = Math.max(seen.expiresAt, inc.expiresAt);
    } else {
      byId.set(id, { key: inc.key, window: inc.window, delta: inc.delta, expiresAt: inc.expiresAt });
    }
    return id;
  });
  const counters = [...byId.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.window - b.window));
  const index = new Map(counters.map((c, i) => [counterId(c.key, c.window), i]));
  return { counters, positions: ids.map((id) => index.get(id)!) };
}

export function counterId(key: string, window: number): string {
  return `${window}\u0000${key}`;
}
