// SharedCounters against the storage driver the API server's counters endpoint uses
// (MemoryStorage.addCounters), standing in for the API server: what is tested is how a
// process counts locally, exchanges and adopts totals.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { MAX_COUNTER_INCREMENTS, type CounterIncrementBody } from '../api/counters.ts';
import { ApiStatusError } from '../client/errors.ts';
import { MemoryStorage } from '../storage/memory/memory-storage.ts';
import { SharedCounters, type CounterExchange } from './shared-counters.ts';
import { eventually } from '../../test/support/eventually.ts';

const LATER = Date.now() + 3_600_000;

/** An exchange with `storage`, recording each batch sent. */
function through(storage: MemoryStorage, batches: CounterIncrementBody[][] = []): CounterExchange {
  return (increments) => {
    batches.push(increments);
    return storage.addCounters(increments);
  };
}

/** Counters that exchange only when asked (no background period within a test). */
function gatewayCounters(exchange: CounterExchange, logger?: pino.Logger): SharedCounters {
  return new SharedCounters({ exchange, logger, flushEveryMs: 3_600_000 });
}

function capture(): { logger: pino.Logger; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  return { lines, logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) }) };
}

describe('SharedCounters', () => {
  it('counts without waiting, sends every count in one batch, and adopts the totals of all processes', async () => {
    const storage = new MemoryStorage();
    const batches: CounterIncrementBody[][] = [];
    const a = gatewayCounters(through(storage, batches));
    const b = gatewayCounters(through(storage));
    const [ca, cb] = [a.counter('k', 0, LATER), b.counter('k', 0, LATER)];
    const other = a.counter('other', 0, LATER);
    for (let i = 0; i < 3; i++) a.count(ca, 100);
    a.count(other, 100);
    b.count(cb, 100);
    b.count(cb, 100);
    assert.deepEqual([ca.value, cb.value], [3, 2], 'decided on the local view before any exchange');
    await a.flush();
    assert.deepEqual(batches, [
      [
        { key: 'k', window: 0, delta: 3, expiresAt: LATER },
        { key: 'other', window: 0, delta: 1, expiresAt: LATER },
      ],
    ]);
    await b.flush();
    assert.equal(cb.value, 5);
    a.refresh(ca);
    await a.flush();
    assert.deepEqual([ca.value, ca.pending], [5, 0]);
    await Promise.all([a.close(), b.close()]);
  });

  it('reads a counter it has not seen before its first use, as a restarted gateway must', async () => {
    const storage = new MemoryStorage();
    await storage.addCounters([{ key: 'quota', window: 0, delta: 7, expiresAt: LATER }]);
    const restarted = gatewayCounters(through(storage));
    const counter = restarted.counter('quota', 0, LATER);
    await restarted.flush();
    assert.equal(counter.value, 7);
    await restarted.close();
  });

  it('exchanges at once when a count nears what is left of its limit', async () => {
    const storage = new MemoryStorage();
    const batches: CounterIncrementBody[][] = [];
    const counters = gatewayCounters(through(storage, batches));
    const counter = counters.counter('k', 0, LATER);
    await new Promise((resolve) => setImmediate(resolve));
    await counters.flush();
    assert.equal(batches.length, 1, 'a new counter is read at once');
    batches.length = 0;
    counters.count(counter, 100);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(batches.length, 0, 'far from the limit, the count waits for the next period');
    counters.count(counter, 2);
    await eventually(async () =>
      assert.deepEqual(await storage.addCounters([{ key: 'k', window: 0, delta: 0, expiresAt: LATER }]), [2]),
    );
    assert.equal(batches.length, 1);
    await counters.close();
  });

  it('splits a large exchange into batches the endpoint accepts', async () => {
    const storage = new MemoryStorage();
    const batches: CounterIncrementBody[][] = [];
    const counters = gatewayCounters(through(storage, batches));
    const all = Array.from({ length: MAX_COUNTER_INCREMENTS + 5 }, (_, i) => counters.counter(`k${i}`, 0, LATER));
    for (const counter of all) counters.count(counter, 100);
    await counters.flush();
    assert.deepEqual(
      batches.map((b) => b.length),
      [MAX_COUNTER_INCREMENTS, 5],
    );
    assert.ok(all.every((c) => c.value === 1 && c.pending === 0));
    await counters.close();
  });

  it('keeps counting on its own while the API server is unreachable, says so once, and sends the counts when it is back', async () => {
    const storage = new MemoryStorage();
    let reachable = false;
    const { logger, lines } = capture();
    const counters = gatewayCounters(
      (increments) =>
        reachable ? storage.addCounters(increments) : Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')),
      logger,
    );
    const counter = counters.counter('k', 0, LATER);
    counters.count(counter, 100);
    await counters.flush();
    counters.count(counter, 100);
    await counters.flush();
    assert.deepEqual(counters.stats(), { shared: false, failures: 2, unsent: 2, dropped: 0 });
    assert.equal(counter.value, 2, 'the local view keeps every count');
    assert.deepEqual(
      lines.map((l) => l.level),
      [40],
      'one warning, not one per failed exchange',
    );
    assert.match(lines[0].msg, /exchanging limit counts with the API server failed/);

    reachable = true;
    await storage.addCounters([{ key: 'k', window: 0, delta: 10, expiresAt: LATER }]);
    await counters.flush();
    assert.deepEqual(counters.stats(), { shared: true, failures: 2, unsent: 0, dropped: 0 });
    assert.equal(counter.value, 12);
    assert.deepEqual(await storage.addCounters([{ key: 'k', window: 0, delta: 0, expiresAt: LATER }]), [12]);
    assert.match(lines[1].msg, /works again: rate limits and quotas are shared again/);
    await counters.close();
  });

  it("drops counts the API server refuses (its identity's budget) instead of sending them again forever", async () => {
    const storage = new MemoryStorage();
    const { logger, lines } = capture();
    const batches: CounterIncrementBody[][] = [];
    let refuse = true;
    const counters = gatewayCounters((increments) => {
      batches.push(increments);
      if (!refuse) return storage.addCounters(increments);
      const status = {
        code: 403,
        reason: 'Forbidden',
        message: 'counters.gatehouse.dev is forbidden: increments[0].delta',
      };
      return Promise.reject(new ApiStatusError(status, 403));
    }, logger);
    const counter = counters.counter('k', 0, LATER);
    for (let i = 0; i < 3; i++) counters.count(counter, 100);
    await counters.flush();
    assert.deepEqual(counters.stats(), { shared: false, failures: 1, unsent: 0, dropped: 3 });
    assert.equal(counter.value, 3, "the process's own view keeps them");
    const warning = lines.find((l) => /the API server refused limit counts: dropped/.test(l.msg));
    assert.equal((warning as { dropped?: number } | undefined)?.dropped, 3);

    refuse = false;
    counters.count(counter, 100);
    await counters.flush();
    assert.deepEqual(
      batches.map((b) => b.map((i) => i.delta)),
      [[3], [1]],
      'the refused counts are not sent again',
    );
    assert.deepEqual(counters.stats(), { shared: true, failures: 1, unsent: 0, dropped: 3 });
    assert.equal(counter.value, 4);
    await counters.close();
  });

  it('sends what is left when closed', async () => {
    const storage = new MemoryStorage();
    const counters = gatewayCounters(through(storage));
    const counter = counters.counter('k', 0, LATER);
    counters.count(counter, 100);
    await counters.close();
    assert.deepEqual(await storage.addCounters([{ key: 'k', window: 0, delta: 0, expiresAt: LATER }]), [1]);
  });

  it('exchanges in the background every period', async () => {
    const storage = new MemoryStorage();
    const counters = new SharedCounters({ exchange: through(storage), flushEveryMs: 20 });
    const counter = counters.counter('k', 0, LATER);
    await counters.flush();
    counters.count(counter, 100);
    await eventually(async () =>
      assert.deepEqual(await storage.addCounters([{ key: 'k', window: 0, delta: 0, expiresAt: LATER }]), [1]),
    );
    await counters.close();
  });
});
