import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CounterIncrement } from '../storage/storage.ts';
import type { UserInfo } from './auth/auth.ts';
import { ApiError } from './errors.ts';
import { budgetedCounters, MAX_UNSENT_MS } from './counter-budget.ts';

const gateway: UserInfo = { name: 'system:serviceaccount:gatehouse-system:gatehouse-gateway', uid: 'u', groups: [] };
const other: UserInfo = { ...gateway, name: 'system:serviceaccount:gatehouse-system:gateway-b' };
const admin: UserInfo = { name: 'admin', uid: 'a', groups: ['system:masters'] };
const add = (delta: number, key = 'quota:acme'): CounterIncrement => ({ key, window: 0, delta, expiresAt: 1 });

describe('counter budget', () => {
  function budget() {
    let now = 1_000_000;
    const added: number[] = [];
    const counters = budgetedCounters(
      {
        addCounters: async (increments) =>
          increments.map((inc) => {
            added.push(inc.delta);
            return inc.delta;
          }),
      },
      { ratePerSecond: 100, burst: 10, now: () => now },
    );
    return { counters, added, advance: (ms: number) => void (now += ms) };
  }
  const refused = (promise: Promise<unknown>) =>
    assert.rejects(promise, (err: unknown) => err instanceof ApiError && err.code === 403);

  it('gives an identity not heard from the whole unsent time, then what it served since its last batch', async () => {
    const { counters, added, advance } = budget();
    await refused(counters.addCounters([add((100 * MAX_UNSENT_MS) / 1000 + 11)], gateway));
    await counters.addCounters([add((100 * MAX_UNSENT_MS) / 1000 + 10)], gateway);
    await refused(counters.addCounters([add(11)], gateway));
    advance(500);
    await counters.addCounters([add(60), add(0, 'rate:acme')], gateway);
    advance(100);
    await refused(counters.addCounters([add(15), add(10)], gateway));
    // Each identity has its own time; system:masters is not bounded.
    await counters.addCounters([add(6_000)], other);
    await counters.addCounters([add(1_000_000)], admin);
    assert.deepEqual(added, [6_010, 60, 0, 6_000, 1_000_000]);
  });

  it('counts the wait since the last accepted batch up to the unsent time only', async () => {
    const { counters, advance } = budget();
    await counters.addCounters([add(0)], gateway);
    advance(10 * MAX_UNSENT_MS);
    await refused(counters.addCounters([add((100 * MAX_UNSENT_MS) / 1000 + 11)], gateway));
  });
});
