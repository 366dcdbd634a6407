// What one identity may add to the shared limit counters (api/counters.ts). A gateway adds to a counter
// one per request it admitted since its last exchange, so no honest gateway adds more than it could have
// served in that time: `ratePerSecond` × the time since that identity's last accepted batch (at most
// MAX_UNSENT_MS, how long a gateway may have kept counting without reaching the API server), plus `burst`
// for the batches one exchange is split into. A batch asking more for any counter is refused whole, so a
// gateway identity cannot add 10⁶ to a consumer's quota in one request; what it can still add is written
// in docs/operations.md. system:masters is not bounded, as no RBAC policy bounds it.
import type { CounterIncrement } from '../storage/storage.ts';
import { counterId } from '../storage/counters.ts';
import type { UserInfo } from './auth/auth.ts';
import { errors } from './errors.ts';
import { COUNTERS_REF, type CounterStore } from './http/counters.ts';

export interface CounterBudgetOptions {
  /** Most requests one gateway serves per second into one counter. */
  ratePerSecond?: number;
  /** Added to every counter's budget of a batch, whatever the time since the last. */
  burst?: number;
  now?: () => number;
}

export const DEFAULT_COUNTER_RATE_PER_SECOND = 10_000;
export const DEFAULT_COUNTER_BURST = 1_000;
/** The time since the last batch counts up to this long; an identity the API server has not heard from
 * since it started is given all of it, so a gateway that counted through an outage is not refused. */
export const MAX_UNSENT_MS = 60_000;

/** `store` with every batch of an identity outside system:masters held to its budget. */
export function budgetedCounters(store: CounterStore, options: CounterBudgetOptions = {}): CounterStore {
  const rate = options.ratePerSecond ?? DEFAULT_COUNTER_RATE_PER_SECOND;
  const burst = options.burst ?? DEFAULT_COUNTER_BURST;
  const now = options.now ?? Date.now;
  /** Time of each identity's last accepted batch. */
  const lastBatchAt = new Map<string, number>();
  return {
    async addCounters(increments, user) {
      if (user.groups.includes('system:masters')) return store.addCounters(increments, user);
      const at = now();
      const elapsed = Math.min(at - (lastBatchAt.get(user.name) ?? at - MAX_UNSENT_MS), MAX_UNSENT_MS);
      refuseOverBudget(increments, user, Math.floor((rate * elapsed) / 1000) + burst);
      lastBatchAt.set(user.name, at);
      return store.addCounters(increments, user);
    },
  };
}

/** Throws Forbidden naming the first increment of a counter whose deltas in the batch sum above `budget`. */
function refuseOverBudget(increments: readonly CounterIncrement[], user: UserInfo, budget: number): void {
  const sums = new Map<string, number>();
  increments.forEach(({ key, window, delta }, i) => {
    const id = counterId(key, window);
    const sum = (sums.get(id) ?? 0) + delta;
    sums.set(id, sum);
    if (sum <= budget) return;
    throw errors.forbidden(
      `counters.gatehouse.dev is forbidden: increments[${i}].delta: ` +
        `User ${JSON.stringify(user.name)} may add at most ${budget} to counter ${JSON.stringify(key)} now ` +
        `(what one gateway serves since its last batch), not ${sum}`,
      COUNTERS_REF,
    );
  });
}
