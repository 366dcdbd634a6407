// The controller's queueing and outcome rules with an in-memory reconciler; the same
// controller over real informers and a real API server is in test/controller-runtime.test.ts.
import assert from 'node:assert/strict';
import { describe, it, mock, type TestContext } from 'node:test';
import { Controller, ControllerStoppedError, TerminalError, type Request, type Result } from './controller.ts';
import type { RuntimeLogger } from './logger.ts';

const logger: RuntimeLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** A promise and its resolve function. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets the promise jobs and callbacks already due run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await flush();
  return done;
}

/** A controller whose reconciler runs `behaviour` and logs every call; stopped with the test. */
function controllerFor(
  t: TestContext,
  behaviour: (request: Request, call: number, signal: AbortSignal) => Promise<Result | undefined>,
  concurrency = 2,
) {
  const calls: string[] = [];
  const controller = new Controller({
    name: 'toy',
    logger,
    concurrency,
    backoff: { baseDelayMs: 100, jitter: 0 },
    reconciler: {
      reconcile(request, signal) {
        calls.push(`${request.namespace}/${request.name}`);
        return behaviour(request, calls.length, signal);
      },
    },
  });
  t.after(() => controller.stop());
  return { controller, calls };
}

function fakeTimers(t: TestContext): void {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  t.after(() => mock.timers.reset());
}

describe('Controller', () => {
  it('runs at most `concurrency` reconciles at once, never two of one key', async (t) => {
    const gate = deferred();
    const running = new Set<string>();
    const overlaps: string[] = [];
    let peak = 0;
    const { controller, calls } = controllerFor(t, async (request): Promise<undefined> => {
      const key = `${request.namespace}/${request.name}`;
      if (running.has(key)) overlaps.push(key);
      running.add(key);
      peak = Math.max(peak, running.size);
      await gate.promise;
      running.delete(key);
    });
    await controller.start();
    for (const name of ['a', 'b', 'c']) controller.enqueue({ namespace: 'ns', name });
    await flush();
    assert.deepEqual([...running].sort(), ['ns/a', 'ns/b']);
    // Added while in flight: runs again after the current reconcile, not beside it.
    const again = controller.trigger({ namespace: 'ns', name: 'a' });
    gate.resolve();
    await Promise.all([again, controller.trigger({ namespace: 'ns', name: 'c' })]);
    assert.equal(peak, 2);
    assert.deepEqual(overlaps, []);
    assert.deepEqual(calls, ['ns/a', 'ns/b', 'ns/c', 'ns/a']);
    assert.equal(controller.counters.reconciles, 4);
  });

  it('trigger() waits for a reconcile that starts after it, not the one in flight', async (t) => {
    const first = deferred();
    const { controller, calls } = controllerFor(t, async (_r, call) => {
      if (call === 1) await first.promise;
      return call === 2 ? { requeueAfterMs: 0 } : {};
    });
    await controller.start();
    const running = controller.trigger({ namespace: 'ns', name: 'a' });
    await settled(running);
    const later = controller.trigger({ namespace: 'ns', name: 'a' });
    first.resolve();
    assert.deepEqual(await running, {});
    assert.deepEqual(await later, { requeueAfterMs: 0 });
    assert.equal(calls.length, 2);
  });

  it('retries an error with growing backoff and stops retrying after a success', async (t) => {
    fakeTimers(t);
    const { controller, calls } = controllerFor(t, async (_r, call): Promise<undefined> => {
      if (call <= 2) throw new Error(`attempt ${call} failed`);
    });
    await controller.start();
    await assert.rejects(controller.trigger({ namespace: 'ns', name: 'a' }), /attempt 1 failed/);
    const after = async (ms: number) => {
      mock.timers.tick(ms);
      await flush();
      return calls.length;
    };
    assert.equal(await after(99), 1, 'the first backoff is 100 ms');
    assert.equal(await after(1), 2);
    assert.equal(await after(199), 2, 'the second backoff is 200 ms');
    assert.equal(await after(1), 3);
    assert.deepEqual(controller.counters, { reconciles: 3, errors: 2, terminalErrors: 0 });
    assert.equal(await after(60 * 60_000), 3, 'success ends the retries');
  });

  it('does not retry a TerminalError', async (t) => {
    fakeTimers(t);
    const { controller, calls } = controllerFor(t, async () => {
      throw new TerminalError('spec.path escapes the artifact');
    });
    await controller.start();
    await assert.rejects(controller.trigger({ namespace: 'ns', name: 'a' }), TerminalError);
    mock.timers.tick(60 * 60_000);
    await flush();
    assert.equal(calls.length, 1);
    assert.deepEqual(controller.counters, { reconciles: 1, errors: 0, terminalErrors: 1 });
  });

  it('requeues after requeueAfterMs', async (t) => {
    fakeTimers(t);
    const { controller, calls } = controllerFor(t, async () => ({ requeueAfterMs: 30_000 }));
    await controller.start();
    await controller.trigger({ namespace: 'ns', name: 'a' });
    mock.timers.tick(29_999);
    await flush();
    assert.equal(calls.length, 1);
    mock.timers.tick(1);
    await flush();
    assert.equal(calls.length, 2);
  });

  it('stop() aborts the signal, waits for reconciles in flight and rejects pending triggers', async (t) => {
    const release = deferred();
    let aborted = false;
    const { controller } = controllerFor(
      t,
      async (_r, _call, signal): Promise<undefined> => {
        signal.addEventListener('abort', () => (aborted = true));
        await release.promise;
      },
      1,
    );
    await controller.start();
    const inFlight = controller.trigger({ namespace: 'ns', name: 'a' });
    await settled(inFlight);
    const queued = controller.trigger({ namespace: 'ns', name: 'b' });
    const stopped = controller.stop();
    await assert.rejects(queued, ControllerStoppedError);
    assert.equal(aborted, true);
    assert.equal(await settled(stopped), false, 'the reconcile of ns/a is still running');
    release.resolve();
    await stopped;
    assert.deepEqual(await inFlight, {});
    await assert.rejects(controller.trigger({ namespace: 'ns', name: 'a' }), ControllerStoppedError);
  });
});
