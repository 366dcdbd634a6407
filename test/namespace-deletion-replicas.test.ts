// Namespace deletion with replicas that share storage: only the replica holding the garbage collector's
// Lease empties a terminating namespace (once, not once per replica), page by page; a replica that takes
// the Lease over finishes the deletions left to it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { leaseKind, type Lease } from '../src/api/core/lease/index.ts';
import { GC_LEASE } from '../src/apiserver/gc/garbage-collection.ts';
import type { ResourceStore } from '../src/apiserver/registry/store.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { eventually } from './support/eventually.ts';

const OBJECTS = 1_100;
const WRITE = { dryRun: false, fieldValidation: 'Strict' as const };

describe('namespace deletion among elected replicas', () => {
  let t: TestApiServer;
  const leading: boolean[] = [];

  before(async () => {
    t = await startTestApiServer('memory', {
      garbageCollection: { elect: true, leaseDurationMs: 2000, retryPeriodMs: 100, onLeading: (l) => leading.push(l) },
    });
  });
  after(() => t?.stop());

  const leases = () => t.server.registry.store(leaseKind.group, leaseKind.plural) as ResourceStore;
  const holdLease = (holderIdentity: string, leaseDurationSeconds: number) =>
    eventually(async () => {
      const lease = (await leases().get(GC_LEASE.namespace, GC_LEASE.name)) as Lease;
      const spec = { ...lease.spec, holderIdentity, leaseDurationSeconds, renewTime: new Date().toISOString() };
      await leases().update(GC_LEASE.namespace, GC_LEASE.name, { ...lease, spec }, WRITE);
    });
  const configMaps = () => t.server.registry.store('', 'configmaps') as ResourceStore;
  const left = async (namespace: string) => (await configMaps().list(namespace, {})).items.length;
  const namespaceGone = async (name: string) => {
    const res = await t.request(`/api/v1/namespaces/${name}`);
    assert.equal(res.status, 404, `namespace ${name}: ${res.status}`);
  };

  it('waits for the Lease, then empties the namespace in pages and releases it', async () => {
    // Another replica takes the Lease (as once this one's renewals failed for the lease duration).
    await eventually(() => assert.deepEqual(leading, [true]));
    await holdLease('another-replica', 3600);
    await eventually(() => assert.deepEqual(leading, [true, false]), { attempts: 200 });
    await t.kubectl(['create', 'namespace', 'doomed']);
    for (let i = 0; i < OBJECTS; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, OBJECTS - i) }, (_, j) =>
          configMaps().create(
            'doomed',
            { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i + j}` } },
            WRITE,
          ),
        ),
      );
    }
    await t.kubectl(['delete', 'namespace', 'doomed', '--wait=false']);
    // Deleted while this replica does not lead: left to the leader, so nothing is deleted here.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(await left('doomed'), OBJECTS, 'a replica without the Lease deleted objects');
    assert.deepEqual(leading, [true, false]);

    // The other replica gives the Lease up (as on its clean stop).
    await holdLease('', 1);
    await eventually(() => assert.deepEqual(leading, [true, false, true]), { attempts: 200 });
    await eventually(() => namespaceGone('doomed'), { attempts: 600 });
    assert.equal(await left('doomed'), 0);
  });
});
