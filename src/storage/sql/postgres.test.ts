import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { eventually } from '../../../test/support/eventually.ts';
import { startPostgres } from '../../../test/support/postgres.ts';
import type { TestPostgres } from '../../../test/support/postgres.ts';
import { runStorageConformance, take } from '../conformance.ts';
import { openStorage } from '../open.ts';
import type { Storage } from '../storage.ts';
import { openPgClient } from './pg-client.ts';
import { isStorageError } from '../storage.ts';

let server: TestPostgres;
before(async () => {
  server = await startPostgres();
});
after(() => server.stop());

runStorageConformance('postgres', async () => openStorage(await server.newDatabase(), { compactEvery: 0 }));

describe('postgres with two processes on one database', () => {
  let url: string;
  let one: Storage;
  let two: Storage;
  before(async () => {
    url = await server.newDatabase();
    [one, two] = await Promise.all([openStorage(url, { compactEvery: 0 }), openStorage(url, { compactEvery: 0 })]);
  });
  after(async () => {
    await Promise.all([one.close(), two.close()]);
  });

  it('wakes a watch on one instance with a write through the other (LISTEN/NOTIFY)', async () => {
    const resource = 'two.gatehouse.dev/notify';
    const watch = await two.watch({ resource, fromRevision: await two.currentRevision() });
    const created = await one.create(
      { resource, namespace: 'ns', name: 'a' },
      { labels: {} },
      (rev) => `{"rv":${rev}}`,
    );
    const [event] = await take(watch, 1);
    watch.close();
    assert.deepEqual(event, { type: 'ADDED', key: created.key, value: created.value, revision: created.revision });
  });

  it('commits concurrent writers of both instances in one revision order, seen alike by both', async () => {
    const resource = 'two.gatehouse.dev/race';
    const from = await one.currentRevision();
    const watches = await Promise.all([
      one.watch({ resource, fromRevision: from }),
      two.watch({ resource, fromRevision: from }),
    ]);
    const writes = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        (i % 2 === 0 ? one : two).create(
          { resource, namespace: 'ns', name: `o${i}` },
          { labels: {} },
          (rev) => `{"rv":${rev}}`,
        ),
      ),
    );
    const expected = writes.map((w) => w.revision).sort((a, b) => a - b);
    assert.equal(new Set(expected).size, 100);
    for (const watch of watches) {
      assert.deepEqual(
        (await take(watch, 100)).map((e) => e.revision),
        expected,
      );
      watch.close();
    }
    const listed = await two.list({ resource });
    assert.equal(listed.items.length, 100);
    assert.equal(listed.revision, await one.currentRevision());
  });

  it('adds up counters incremented through both instances at once', async () => {
    const expiresAt = Date.now() + 60_000;
    // Overlapping batches in opposite orders: the driver's lock order keeps them from deadlocking.
    const batch = (i: number) =>
      (i % 2 === 0 ? ['a', 'b', 'c'] : ['c', 'b', 'a']).map((key) => ({
        key: `two/${key}`,
        window: 0,
        delta: 1,
        expiresAt,
      }));
    await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? one : two).addCounters(batch(i))));
    assert.deepEqual(
      await two.addCounters(['a', 'b', 'c'].map((key) => ({ key: `two/${key}`, window: 0, delta: 0, expiresAt }))),
      [60, 60, 60],
    );
  });

  it('sees one conflict when both instances update the same revision', async () => {
    const key = { resource: 'two.gatehouse.dev/cas', namespace: 'ns', name: 'a' };
    const a = await one.create(key, { labels: {} }, (rev) => `{"rv":${rev}}`);
    const outcomes = await Promise.allSettled([
      one.update(key, a.revision, { labels: {} }, (rev) => `{"rv":${rev},"by":1}`),
      two.update(key, a.revision, { labels: {} }, (rev) => `{"rv":${rev},"by":2}`),
    ]);
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
    const rejected = outcomes.find((o) => o.status === 'rejected');
    assert.ok(rejected && isStorageError(rejected.reason, 'Conflict'));
  });

  it('ends watches with Unavailable when the LISTEN session dies, then listens again', async () => {
    const resource = 'two.gatehouse.dev/relisten';
    const watch = await two.watch({ resource, fromRevision: await two.currentRevision() });
    const ended = assert.rejects(take(watch, 1), (err: unknown) => isStorageError(err, 'Unavailable'));
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const [{ killed }] = (
        await admin.query(
          "SELECT count(pg_terminate_backend(pid))::int AS killed FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        )
      ).rows;
      assert.equal(killed, 2);
    } finally {
      await admin.end();
    }
    await ended;
    // Another instance's write reaches this one again once the session is back: the
    // feed catches up from the log on restore.
    const from = await two.currentRevision();
    const rewatch = await two.watch({ resource, fromRevision: from });
    const created = await one.create(
      { resource, namespace: 'ns', name: 'a' },
      { labels: {} },
      (rev) => `{"rv":${rev}}`,
    );
    assert.deepEqual(
      (await take(rewatch, 1)).map((e) => e.revision),
      [created.revision],
    );
    rewatch.close();
  });

  it('reports an unreachable server as Unavailable', async () => {
    const dead = url.replace(/:\d+\//, ':1/');
    await assert.rejects(openStorage(dead, { compactEvery: 0 }), (err: unknown) => isStorageError(err, 'Unavailable'));
  });
});

describe('a pooled PostgreSQL connection that fails while checked out', () => {
  it('is reported, fails its transaction, and leaves the pool working', async () => {
    const url = await server.newDatabase();
    const reported: Error[] = [];
    const client = await openPgClient(url, { onConnectionError: (err) => reported.push(err) });
    let resume = () => {};
    const paused = new Promise<void>((r) => {
      resume = r;
    });
    try {
      let backend = 0;
      let onStarted = () => {};
      const started = new Promise<void>((r) => {
        onStarted = r;
      });
      const transaction = client.transaction(async (tx) => {
        [{ pid: backend }] = (await tx.query('SELECT pg_backend_pid() AS pid')) as Array<{ pid: number }>;
        onStarted();
        await paused; // between two queries: no query of pg's is active to take the error
        await tx.query('SELECT 1');
      });
      await started;
      await client.query('SELECT pg_terminate_backend($1)', [backend]);
      await eventually(() => assert.match(reported[0]?.message ?? '', /terminating connection/));
      resume();
      await assert.rejects(transaction);
      assert.deepEqual(await client.query('SELECT 1 AS one'), [{ one: 1 }]);
    } finally {
      resume(); // the pool's close waits for the transaction's connection
      await client.close();
    }
  });
});
