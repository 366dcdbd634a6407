// The controller runtime against a real API server: a toy reconciler over Syncs, driven
// by a real informer, writing the real status subresource and recording real Events.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Event } from '../src/api/core/event/index.ts';
import { eventKind } from '../src/api/core/event/index.ts';
import { syncKind, type Sync, type SyncStatus } from '../src/api/kinds/sync/index.ts';
import { findCondition } from '../src/api/status.ts';
import { isStatusError } from '../src/client/errors.ts';
import { Informer } from '../src/client/informer.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { KubeClient } from '../src/client/rest.ts';
import {
  Controller,
  EventRecorder,
  TerminalError,
  generationChanged,
  keyOf,
  markFailed,
  markReady,
  markStalled,
  writeStatus,
  type Reconciler,
  type Request,
  type Result,
  type RuntimeLogger,
  type StatusWriteOutcome,
} from '../src/controller/runtime/index.ts';
import { startTestApiServer, useApiServer, type TestApiServer } from './support/apiserver.ts';
import { eventually } from './support/eventually.ts';

const MODE = 'test.gatehouse.dev/mode';
type Mode = 'ok' | 'fail-twice' | 'terminal' | 'poll';

function sync(name: string, mode: Mode = 'ok'): Sync {
  return {
    apiVersion: 'gatehouse.dev/v1alpha1',
    kind: 'Sync',
    metadata: { name, namespace: 'default', annotations: { [MODE]: mode } },
    spec: {
      sourceRef: { kind: 'GitRepository', name: 'repo' },
      path: './',
      interval: '5m',
      prune: false,
      suspend: false,
    },
  };
}

/** Collects warnings and errors, so tests can see what was logged instead of thrown. */
function capturingLogger() {
  const lines: string[] = [];
  const logger: RuntimeLogger = {
    debug() {},
    info() {},
    warn: (_f, message) => void lines.push(`warn ${message}`),
    error: (_f, message) => void lines.push(`error ${message}`),
  };
  return { logger, lines };
}

/** Reads the Sync it is asked about and behaves as its mode annotation says. */
class ToyReconciler implements Reconciler {
  readonly attempts = new Map<string, number>();
  readonly outcomes = new Map<string, StatusWriteOutcome>();

  constructor(
    private readonly client: KubeClient,
    private readonly events: EventRecorder,
  ) {}

  async reconcile(request: Request): Promise<Result> {
    const key = keyOf(request);
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    let current: Sync;
    try {
      current = await this.client.get<Sync>(syncKind, request.name, request.namespace);
    } catch (err) {
      if (isStatusError(err, 'NotFound')) return {};
      throw err;
    }
    const next = structuredClone(current);
    const write = async () => {
      this.outcomes.set(key, (await writeStatus(this.client, syncKind, current, next.status ?? {})).outcome);
    };
    switch (current.metadata.annotations?.[MODE] as Mode) {
      case 'fail-twice':
        if (attempt <= 2) {
          markFailed(next, 'UpstreamRefused', 'upstream refused the connection');
          await write();
          void this.events.record(current, 'Warning', 'UpstreamRefused', 'upstream refused password=hunter2');
          throw new Error(`attempt ${attempt} failed`);
        }
        break;
      case 'terminal':
        markStalled(next, 'InvalidSpec', 'nothing can fix this but a new spec');
        await write();
        throw new TerminalError('invalid spec');
      case 'poll':
        markReady(next, 'Polled', 'polling');
        await write();
        return { requeueAfterMs: 50 };
    }
    markReady(next, 'Succeeded', `applied generation ${current.metadata.generation}`);
    await write();
    void this.events.record(current, 'Normal', 'Reconciled', `applied generation ${current.metadata.generation}`);
    return {};
  }
}

describe('controller runtime against a real API server', () => {
  let t: TestApiServer;
  let client: KubeClient;
  let informer: Informer<Sync>;
  let events: EventRecorder;
  let reconciler: ToyReconciler;
  let controller: Controller;
  const log = capturingLogger();

  before(async () => {
    t = await startTestApiServer();
    client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    informer = new Informer<Sync>(client, syncKind, { namespace: 'default' });
    events = new EventRecorder(client, 'gatehouse.dev/toy-controller', log.logger, {
      redact: (m) => m.replace(/password=\S+/g, 'password=***'),
    });
    reconciler = new ToyReconciler(client, events);
    // One worker: keys are reconciled in the order they were enqueued, which the
    // status-only test relies on.
    controller = new Controller({
      name: 'toy',
      reconciler,
      logger: log.logger,
      concurrency: 1,
      backoff: { baseDelayMs: 20 },
    }).watch(informer, undefined, generationChanged);
    informer.start();
    await controller.start();
  });

  after(async () => {
    await controller.stop();
    await informer.stop();
    await events.flush();
    await client.close();
    await t.stop();
  });

  const get = (name: string) => client.get<Sync>(syncKind, name, 'default');
  const eventsAbout = async (name: string) =>
    (await client.list<Event>(eventKind, { namespace: 'default' })).items.filter((e) => e.involvedObject.name === name);

  it('reconciles a created object and again when its spec changes, writing observedGeneration', async () => {
    await client.create(syncKind, sync('alpha'));
    await eventually(async () => {
      const s = await get('alpha');
      assert.equal(s.status?.observedGeneration, 1);
      assert.equal(findCondition(s.status, 'Ready')?.status, 'True');
      assert.equal(findCondition(s.status, 'Ready')?.observedGeneration, 1);
    });
    await client.patch(syncKind, 'alpha', { spec: { path: './apis' } }, 'merge', 'default');
    await eventually(async () => {
      const s = await get('alpha');
      assert.equal(s.metadata.generation, 2);
      assert.equal(s.status?.observedGeneration, 2);
      assert.equal(findCondition(s.status, 'Ready')?.message, 'applied generation 2');
    });
  });

  it('trigger() settles after a reconcile that read the state current at the call', async () => {
    await client.patch(syncKind, 'alpha', { spec: { path: './v3' } }, 'merge', 'default');
    assert.deepEqual(await controller.trigger({ namespace: 'default', name: 'alpha' }), {});
    assert.equal((await get('alpha')).status?.observedGeneration, 3);
  });

  it('writes status only when it changed: a no-op reconcile keeps the resourceVersion', async () => {
    await controller.trigger({ namespace: 'default', name: 'alpha' });
    const before = (await get('alpha')).metadata.resourceVersion;
    await controller.trigger({ namespace: 'default', name: 'alpha' });
    assert.equal(reconciler.outcomes.get('default/alpha'), 'unchanged');
    assert.equal((await get('alpha')).metadata.resourceVersion, before);
  });

  it('does not reconcile on a status-only change when filtered by generationChanged', async () => {
    await controller.trigger({ namespace: 'default', name: 'alpha' });
    const attempts = reconciler.attempts.get('default/alpha');
    await client.patchStatus(
      syncKind,
      'alpha',
      { status: { lastAttemptedRevision: 'main@sha1:0123' } },
      'merge',
      'default',
    );
    // With one worker, a key enqueued by that status change would be reconciled before
    // this later spec change of another object.
    await client.create(syncKind, sync('marker'));
    await eventually(async () => assert.equal((await get('marker')).status?.observedGeneration, 1));
    assert.equal(reconciler.attempts.get('default/alpha'), attempts);
  });

  it('retries a failing reconcile with backoff until it succeeds', async () => {
    await client.create(syncKind, sync('flaky', 'fail-twice'));
    await eventually(async () => assert.equal(findCondition((await get('flaky')).status, 'Ready')?.status, 'True'));
    assert.equal(reconciler.attempts.get('default/flaky'), 3);
    assert.ok(controller.counters.errors >= 2);
    assert.ok(log.lines.includes('warn reconcile failed; retrying'));
  });

  it('does not retry a TerminalError; the object is Stalled', async () => {
    const { errors, terminalErrors } = controller.counters;
    await client.create(syncKind, sync('broken', 'terminal'));
    await eventually(async () => {
      const s = await get('broken');
      assert.equal(findCondition(s.status, 'Stalled')?.status, 'True');
      assert.equal(findCondition(s.status, 'Ready')?.status, 'False');
    });
    // Only an error counted in `errors` is put back with backoff (controller.test.ts shows, on a mocked
    // clock, that a TerminalError is never retried): nothing was scheduled again.
    await eventually(() => assert.equal(controller.counters.terminalErrors, terminalErrors + 1));
    assert.equal(controller.counters.errors, errors, 'no retry scheduled');
    assert.equal(reconciler.attempts.get('default/broken'), 1);
    await assert.rejects(controller.trigger({ namespace: 'default', name: 'broken' }), TerminalError);
  });

  it('requeues after requeueAfterMs without any change', async () => {
    await client.create(syncKind, sync('poller', 'poll'));
    await eventually(() => assert.ok((reconciler.attempts.get('default/poller') ?? 0) >= 3));
    assert.equal((await get('poller')).metadata.generation, 1);
    await client.delete(syncKind, 'poller', 'default');
  });

  it('records Events, aggregating identical ones, with messages redacted; kubectl lists them', async () => {
    await events.flush();
    const [warning] = (await eventsAbout('flaky')).filter((e) => e.type === 'Warning');
    assert.equal(warning.reason, 'UpstreamRefused');
    assert.equal(warning.message, 'upstream refused password=***');
    assert.equal(warning.count, 2, 'two identical failures, one Event');
    assert.equal(warning.involvedObject.kind, 'Sync');
    assert.equal(warning.involvedObject.apiVersion, 'gatehouse.dev/v1alpha1');
    assert.equal(warning.involvedObject.uid, (await get('flaky')).metadata.uid);
    assert.equal(warning.source?.component, 'gatehouse.dev/toy-controller');
    assert.equal(warning.reportingComponent, 'gatehouse.dev/toy-controller');

    const reconciled = () =>
      eventsAbout('alpha').then((list) => list.find((e) => e.message === 'applied generation 3'));
    const before = (await reconciled())!.count;
    await controller.trigger({ namespace: 'default', name: 'alpha' });
    await events.flush();
    const after = (await reconciled())!;
    assert.equal(after.count, before + 1);
    assert.ok(after.lastTimestamp! >= after.firstTimestamp!);

    const table = await t.kubectl(['get', 'events', '-n', 'default']);
    assert.match(table, /Warning\s+UpstreamRefused\s+sync\/flaky\s+upstream refused password=\*\*\*/);
    assert.match(table, /Normal\s+Reconciled\s+sync\/alpha\s+applied generation 3/);
  });

  it('creates a new Event once the aggregation window has passed, and logs instead of throwing', async () => {
    const local = capturingLogger();
    const recorder = new EventRecorder(client, 'gatehouse.dev/toy-controller', local.logger, { windowMs: 0 });
    const alpha = await get('alpha');
    await recorder.record(alpha, 'Normal', 'Windowed', 'same message');
    await recorder.record(alpha, 'Normal', 'Windowed', 'same message');
    assert.deepEqual(
      (await eventsAbout('alpha')).filter((e) => e.reason === 'Windowed').map((e) => e.count),
      [1, 1],
    );

    const elsewhere: Sync = { ...sync('ghost'), metadata: { name: 'ghost', namespace: 'no-such-namespace' } };
    await recorder.record(elsewhere, 'Warning', 'Lost', 'cannot be stored');
    assert.deepEqual(local.lines, ['warn event not recorded']);
  });
});

describe('writeStatus against a real API server', () => {
  const api = useApiServer();

  it('re-reads on a conflict and stores exactly the wanted status, removing dropped fields', async () => {
    const created = await api.client.create(syncKind, sync('conflict'));
    const first = await writeStatus(api.client, syncKind, created, {
      lastAttemptedRevision: 'r1',
      lastAppliedRevision: 'r1',
    } satisfies SyncStatus);
    assert.equal(first.outcome, 'written');
    // Spec and status move on after the caller read the object: its resourceVersion and
    // the status it would diff against are stale.
    await api.client.patch(syncKind, 'conflict', { spec: { path: './moved' } }, 'merge', 'default');
    await api.client.patchStatus(syncKind, 'conflict', { status: { inventory: { entries: [] } } }, 'merge', 'default');
    const wanted: SyncStatus = { observedGeneration: 1, lastAttemptedRevision: 'r2' };
    const second = await writeStatus(api.client, syncKind, first.object!, wanted);
    assert.equal(second.outcome, 'written');
    const stored = await api.client.get<Sync>(syncKind, 'conflict', 'default');
    assert.deepEqual(stored.status, wanted);
    assert.equal(stored.spec.path, './moved');
  });

  it('writes nothing when the status is unchanged, and reports a deleted object as gone', async () => {
    const created = await api.client.create(syncKind, sync('gone'));
    const { object } = await writeStatus(api.client, syncKind, created, { lastAttemptedRevision: 'r1' });
    const same = await writeStatus(api.client, syncKind, object!, {
      lastAttemptedRevision: 'r1',
      lastAppliedRevision: undefined,
    });
    assert.equal(same.outcome, 'unchanged');
    assert.equal(
      (await api.client.get<Sync>(syncKind, 'gone', 'default')).metadata.resourceVersion,
      object!.metadata.resourceVersion,
    );
    await api.client.delete(syncKind, 'gone', 'default');
    assert.deepEqual(await writeStatus(api.client, syncKind, object!, { lastAttemptedRevision: 'r2' }), {
      outcome: 'gone',
    });
  });
});

describe('secondary watches against a real API server', () => {
  const api = useApiServer();

  it('map a modification before and after it, so the object a reference left is reconciled too', async (t) => {
    const OWNER = 'test.gatehouse.dev/owner';
    const reconciled: string[] = [];
    const informer = new Informer<Sync>(api.client, syncKind);
    const controller = new Controller({
      name: 'owners',
      logger: capturingLogger().logger,
      reconciler: { reconcile: async (request) => void reconciled.push(keyOf(request)) },
    }).watch(informer, (s) => {
      const owner = s.metadata.annotations?.[OWNER];
      return owner ? [{ namespace: 'default', name: owner }] : [];
    });
    t.after(async () => {
      await controller.stop();
      await informer.stop();
    });
    informer.start();
    await controller.start();
    const child = sync('child');
    child.metadata.annotations = { [OWNER]: 'first' };
    await api.client.create(syncKind, child);
    await eventually(() => assert.deepEqual(reconciled, ['default/first']));
    const moved = { metadata: { annotations: { [OWNER]: 'second' } } };
    await api.client.patch(syncKind, 'child', moved, 'merge', 'default');
    await eventually(() =>
      assert.deepEqual([...reconciled].sort(), ['default/first', 'default/first', 'default/second']),
    );
  });
});
