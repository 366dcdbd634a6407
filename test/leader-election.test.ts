// Leader election over a real API server's Lease: one holder at a time, hand-over on a clean
// stop, take-over after expiry when the holder vanishes without a word.
import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { leaseKind, type Lease } from '../src/api/core/lease/index.ts';
import { LeaderElector, type LeaseClient } from '../src/client/leader-election.ts';
import { useApiServer } from './support/apiserver.ts';
import { eventually } from './support/eventually.ts';

describe('leader election', () => {
  const api = useApiServer();

  const candidate = (identity: string, name: string, log: string[], client: LeaseClient = api.client) =>
    new LeaderElector({
      client,
      namespace: 'default',
      name,
      identity,
      leaseDurationMs: 1000,
      retryPeriodMs: 100,
      onStartedLeading: () => log.push(`${identity} leads`),
      onStoppedLeading: () => log.push(`${identity} stops`),
    });

  /** The API server's client, noting when each Lease read and update was sent: every attempt reads first. */
  const noting = () => {
    const reads: number[] = [];
    const updates: number[] = [];
    const client: LeaseClient = {
      get: (...args) => {
        reads.push(Date.now());
        return api.client.get(...args);
      },
      create: (...args) => api.client.create(...args),
      update: (...args) => {
        updates.push(Date.now());
        return api.client.update(...args);
      },
    };
    return { reads, updates, client };
  };

  it('elects exactly one holder and hands over when it stops', async () => {
    const log: string[] = [];
    const a = candidate('a', 'clean', log);
    const seen = noting();
    const b = candidate('b', 'clean', log, seen.client);
    a.start();
    await eventually(() => assert.ok(a.isLeader));
    b.start();
    await eventually(() => assert.ok(seen.reads.length >= 3, 'b tried three times'));
    assert.equal(b.isLeader, false, 'b waits while a renews');
    const lease = await api.client.get<Lease>(leaseKind, 'clean', 'default');
    assert.equal(lease.spec?.holderIdentity, 'a');
    await a.stop();
    await eventually(() => assert.ok(b.isLeader));
    assert.deepEqual(log, ['a leads', 'a stops', 'b leads']);
    assert.equal((await api.client.get<Lease>(leaseKind, 'clean', 'default')).spec?.leaseTransitions, 1);
    await b.stop();
  });

  it('a replica stopped while its attempt is in flight neither leads nor keeps the lease', async () => {
    const log: string[] = [];
    const a = candidate('a', 'inflight', log);
    a.start();
    await a.stop();
    assert.equal(a.isLeader, false);
    assert.deepEqual(log, []);
    const lease = await api.client.get<Lease>(leaseKind, 'inflight', 'default');
    assert.equal(lease.spec?.holderIdentity, '', 'the lease is released for the next replica');
  });

  it('takes over an expired lease whose holder vanished', async () => {
    const log: string[] = [];
    // The vanished holder: a lease record nobody renews.
    await api.client.create(leaseKind, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'stale', namespace: 'default' },
      spec: { holderIdentity: 'gone', leaseDurationSeconds: 1, renewTime: new Date().toISOString() },
    } as Lease);
    const seen = noting();
    const b = candidate('b', 'stale', log, seen.client);
    b.start();
    await eventually(() => assert.ok(seen.reads.length >= 2, 'b tried twice'));
    assert.equal(b.isLeader, false, 'not before the lease expires');
    await eventually(() => assert.ok(b.isLeader));
    // Expiry is judged on b's clock from its first sight of the record, never from the holder's renewTime.
    const waited = seen.updates[0] - seen.reads[0];
    assert.ok(waited >= 1000, `b took the lease over ${waited} ms after its first read`);
    assert.equal((await api.client.get<Lease>(leaseKind, 'stale', 'default')).spec?.holderIdentity, 'b');
    await b.stop();
  });
});

/** A partition: once cut, the holder's calls never answer (no error arrives to react to). */
function partitionable(real: LeaseClient): { client: LeaseClient; cut: () => void } {
  let isCut = false;
  const hanging = new Promise<never>(() => {});
  const client: LeaseClient = {
    get: (...args) => (isCut ? hanging : real.get(...args)),
    create: (...args) => (isCut ? hanging : real.create(...args)),
    update: (...args) => (isCut ? hanging : real.update(...args)),
  };
  return {
    client,
    cut: () => {
      isCut = true;
    },
  };
}

describe('leader election: the renew deadline', () => {
  const api = useApiServer();

  it('a holder whose renewals hang stops leading at the renew deadline', async () => {
    const { client, cut } = partitionable(api.client);
    const log: string[] = [];
    const a = new LeaderElector({
      client,
      namespace: 'default',
      name: 'deadline',
      identity: 'a',
      leaseDurationMs: 3000,
      renewDeadlineMs: 1000,
      retryPeriodMs: 100,
      onStartedLeading: () => log.push('leads'),
      onStoppedLeading: () => log.push('stops'),
    });
    a.start();
    await eventually(() => assert.ok(a.isLeader));
    cut();
    await eventually(() => assert.equal(a.isLeader, false), { attempts: 200 });
    assert.deepEqual(log, ['leads', 'stops']);
  });

  it('without a renew deadline given, a holder stops leading a third of the lease before another may take it', async (t) => {
    const { client, cut } = partitionable(api.client);
    // The elector's clock and timers are the test's; its calls go to the real API server.
    mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    t.after(() => mock.timers.reset());
    let leads = () => {};
    const leading = new Promise<void>((resolve) => {
      leads = resolve;
    });
    const a = new LeaderElector({
      client,
      namespace: 'default',
      name: 'margin',
      identity: 'a',
      leaseDurationMs: 3000,
      retryPeriodMs: 100,
      onStartedLeading: () => leads(),
      onStoppedLeading: () => {},
    });
    a.start();
    await leading;
    cut();
    // Another replica may take the lease over once it has seen it unchanged for 3000 ms.
    mock.timers.tick(2999);
    assert.equal(a.isLeader, false, 'the holder stopped before the lease could expire for others');
  });
});
