import assert from 'node:assert/strict';
import { describe, it, mock, type TestContext } from 'node:test';
import { ItemBackoff } from './backoff.ts';
import { WorkQueue } from './work-queue.ts';

/** Whether `promise` has settled by the time queued microtasks have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

function fakeTimers(t: TestContext): void {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  t.after(() => mock.timers.reset());
}

describe('WorkQueue', () => {
  it('hands out a key added several times before it is taken once, in first-added order', async () => {
    const q = new WorkQueue();
    for (const key of ['a/x', 'a/y', 'a/x', 'a/x']) q.add(key);
    assert.equal(q.length, 2);
    assert.equal(await q.get(), 'a/x');
    assert.equal(await q.get(), 'a/y');
    assert.equal(await settled(q.get()), false, 'nothing else is queued');
  });

  it('wakes a waiting worker when a key arrives', async () => {
    const q = new WorkQueue();
    const next = q.get();
    assert.equal(await settled(next), false);
    q.add('ns/a');
    assert.equal(await next, 'ns/a');
  });

  it('never hands one key to two workers: added while processing, it comes back after done', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    assert.equal(await q.get(), 'ns/a');
    q.add('ns/a');
    q.add('ns/a');
    const second = q.get();
    assert.equal(await settled(second), false, 'the dirty key waits for done()');
    assert.equal(q.inFlight, 1);
    q.done('ns/a');
    assert.equal(await second, 'ns/a', 'handed out again, once');
    q.done('ns/a');
    assert.equal(await settled(q.get()), false);
  });

  it('addAfter delays a key and an earlier deadline wins', async (t) => {
    fakeTimers(t);
    const q = new WorkQueue();
    q.addAfter('ns/a', 10_000);
    q.addAfter('ns/a', 50);
    q.addAfter('ns/a', 20_000);
    mock.timers.tick(49);
    assert.equal(q.length, 0);
    mock.timers.tick(1);
    assert.equal(q.length, 1);
    assert.equal(await q.get(), 'ns/a');
    q.done('ns/a');
    mock.timers.tick(20_000);
    assert.equal(q.length, 0, 'the later deadlines were dropped');
  });

  it('addRateLimited backs off per key until forget()', async (t) => {
    fakeTimers(t);
    const q = new WorkQueue({ baseDelayMs: 100, jitter: 0 });
    assert.equal(q.addRateLimited('ns/a'), 100);
    assert.equal(q.addRateLimited('ns/b'), 100, 'each key has its own backoff');
    mock.timers.tick(100);
    assert.equal(q.length, 2);
    assert.equal(q.addRateLimited('ns/a'), 200);
    assert.equal(q.addRateLimited('ns/a'), 400);
    assert.equal(q.failures('ns/a'), 3);
    q.forget('ns/a');
    assert.equal(q.failures('ns/a'), 0);
    assert.equal(q.addRateLimited('ns/a'), 100);
  });

  it('shutDown hands out nothing more, drops pending keys and waits for keys in flight', async (t) => {
    fakeTimers(t);
    const q = new WorkQueue();
    q.add('ns/a');
    q.add('ns/b');
    q.addAfter('ns/c', 100);
    assert.equal(await q.get(), 'ns/a');
    const drained = q.shutDown();
    assert.equal(await q.get(), undefined);
    q.add('ns/d');
    mock.timers.tick(100);
    assert.equal(q.length, 0);
    assert.equal(await settled(drained), false, 'ns/a is still being processed');
    q.done('ns/a');
    await drained;
  });

  it('shutDown releases waiting workers', async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    await q.shutDown();
    assert.equal(await waiting, undefined);
  });
});

describe('ItemBackoff', () => {
  it('doubles from the base delay up to the cap', () => {
    const b = new ItemBackoff({ baseDelayMs: 100, maxDelayMs: 1000, jitter: 0 });
    const delays = Array.from({ length: 7 }, () => b.next('k'));
    assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('defaults to 100 ms doubling to 5 minutes', () => {
    const b = new ItemBackoff({ jitter: 0 });
    assert.equal(b.next('k'), 100);
    for (let i = 0; i < 2000; i++) b.next('k');
    assert.equal(b.next('k'), 5 * 60_000, 'capped, however many failures');
  });

  it('jitter only shortens a delay, by at most its fraction', () => {
    let r = 0;
    const b = new ItemBackoff({ baseDelayMs: 1000, jitter: 0.1, random: () => r });
    r = 0.999;
    assert.equal(b.next('a'), 900);
    b.forget('a');
    r = 0;
    assert.equal(b.next('a'), 1000);
  });
});
