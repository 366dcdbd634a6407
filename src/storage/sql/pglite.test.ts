import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freshPgliteDir } from '../../../test/support/pglite.ts';
import { runStorageConformance } from '../conformance.ts';
import { openStorage } from '../open.ts';

const root = await mkdtemp(join(tmpdir(), 'gatehouse-pglite-'));
after(() => rm(root, { recursive: true, force: true }));
let dirs = 0;

runStorageConformance('pglite in memory', () => openStorage('pglite:memory', { compactEvery: 0 }));
// A first start on an empty directory (initdb) is the persistence test's below; these start from a fresh copy.
const onDisk = async () => `pglite:${await freshPgliteDir(join(root, `db${++dirs}`))}`;
runStorageConformance('pglite on disk', async () => openStorage(await onDisk(), { compactEvery: 0 }));

describe('pglite on disk', () => {
  it('keeps objects, the log and the revision across close and reopen', async () => {
    const spec = `pglite:${join(root, 'persist')}`;
    const resource = 'persist.gatehouse.dev/things';
    const key = { resource, namespace: 'ns', name: 'a' };
    const first = await openStorage(spec, { compactEvery: 0 });
    const a = await first.create(key, { labels: { app: 'x' } }, (rev) => `{"rv":${rev}}`);
    const a2 = await first.update(key, a.revision, { labels: { app: 'y' } }, (rev) => `{"rv":${rev}}`);
    await first.create({ ...key, name: 'b' }, { labels: {} }, (rev) => `{"rv":${rev}}`);
    await first.compact(a.revision);
    await first.close();

    const second = await openStorage(spec, { compactEvery: 0 });
    try {
      assert.deepEqual(await second.get(key), a2);
      assert.equal(await second.compactedRevision(), a.revision);
      const current = await second.currentRevision();
      assert.equal(current, a2.revision + 1);
      const labelled = await second.list({ resource, labels: [{ key: 'app', operator: 'in', values: ['y'] }] });
      assert.deepEqual(labelled.items, [a2]);
      const watch = await second.watch({ resource, fromRevision: a.revision });
      const c = await second.create({ ...key, name: 'c' }, { labels: {} }, (rev) => `{"rv":${rev}}`);
      assert.equal(c.revision, current + 1);
      const seen: number[] = [];
      for await (const event of watch) {
        seen.push(event.revision);
        if (event.revision === c.revision) break;
      }
      assert.deepEqual(seen, [a2.revision, a2.revision + 1, c.revision]);
    } finally {
      await second.close();
    }
  });

  it('keeps counters across close and reopen', async () => {
    const spec = await onDisk();
    const counter = { key: 'quota:default/acme/gold', window: 0, expiresAt: Date.now() + 60_000 };
    const first = await openStorage(spec, { compactEvery: 0 });
    assert.deepEqual(await first.addCounters([{ ...counter, delta: 7 }]), [7]);
    await first.close();
    const second = await openStorage(spec, { compactEvery: 0 });
    try {
      assert.deepEqual(await second.addCounters([{ ...counter, delta: 1 }]), [8]);
    } finally {
      await second.close();
    }
  });

  it('rejects an unknown storage spec by name', async () => {
    await assert.rejects(openStorage('mysql://x'), /unknown storage "mysql:\/\/x"/);
  });
});
