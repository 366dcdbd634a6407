// The behaviour every Storage driver must show, run by each driver's tests:
// runStorageConformance('memory', async () => new MemoryStorage()).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isStorageError } from './storage.ts';
import type { ListOptions, ObjectKey, Storage, StorageErrorCode, StoredObject, Watch, WatchEvent } from './storage.ts';

let resources = 0;

/** A resource no other test writes, so tests can share one store. */
function freshResource(): string {
  resources++;
  return `conformance.gatehouse.dev/r${resources}-${process.pid}`;
}

function keyOf(resource: string, name: string, namespace = 'default'): ObjectKey {
  return { resource, namespace, name };
}

/** The value a test stores: the revision embedded as resourceVersion, like the registry does. */
function encoder(name: string, extra: Record<string, unknown> = {}) {
  return (revision: number) => JSON.stringify({ name, resourceVersion: String(revision), ...extra });
}

async function rejectsWith(promise: Promise<unknown>, code: StorageErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isStorageError(err, code), `expected StorageError ${code}, got ${String(err)}`);
    return true;
  });
}

/** Reads `count` events (fewer if the watch ends). */
export async function take(watch: Watch, count: number): Promise<WatchEvent[]> {
  // Not for-await: leaving that loop early would close the watch.
  const iterator = watch[Symbol.asyncIterator]();
  const events: WatchEvent[] = [];
  while (events.length < count) {
    const next = await iterator.next();
    if (next.done) break;
    events.push(next.value);
  }
  return events;
}

async function listAll(storage: Storage, options: ListOptions, pageSize: number, between?: () => Promise<void>) {
  const pages: StoredObject[][] = [];
  let page = await storage.list({ ...options, limit: pageSize });
  const revision = page.revision;
  pages.push(page.items);
  while (page.more) {
    await between?.();
    const last = page.items[page.items.length - 1].key;
    page = await storage.list({
      ...options,
      limit: pageSize,
      revision,
      after: { namespace: last.namespace, name: last.name },
    });
    assert.equal(page.revision, revision);
    pages.push(page.items);
  }
  return { pages, items: pages.flat(), revision };
}

const names = (items: StoredObject[]) => items.map((o) => `${o.key.namespace}/${o.key.name}`);

export function runStorageConformance(name: string, open: () => Promise<Storage>): void {
  describe(`storage conformance: ${name}`, { timeout: 120_000 }, () => {
    let storage: Storage;
    before(async () => {
      storage = await open();
    });
    after(async () => {
      await storage.close();
    });

    it('creates, gets, updates and deletes, embedding the revision the write gets', async () => {
      const r = freshResource();
      const seen: number[] = [];
      const created = await storage.create(keyOf(r, 'a'), { labels: { app: 'x' } }, (rev) => {
        seen.push(rev);
        return encoder('a')(rev);
      });
      assert.deepEqual(seen, [created.revision]);
      assert.equal(JSON.parse(created.value).resourceVersion, String(created.revision));
      assert.equal(created.createRevision, created.revision);
      assert.deepEqual(created.key, keyOf(r, 'a'));
      assert.deepEqual(await storage.get(keyOf(r, 'a')), created);

      const updated = await storage.update(keyOf(r, 'a'), created.revision, { labels: {} }, encoder('a', { v: 2 }));
      assert.ok(updated.revision > created.revision);
      assert.equal(updated.createRevision, created.revision);
      assert.equal(JSON.parse(updated.value).resourceVersion, String(updated.revision));
      assert.deepEqual(await storage.get(keyOf(r, 'a')), updated);

      const unconditional = await storage.update(keyOf(r, 'a'), undefined, { labels: {} }, encoder('a', { v: 3 }));
      assert.ok(unconditional.revision > updated.revision);

      const deleted = await storage.delete(keyOf(r, 'a'), unconditional.revision);
      assert.ok(deleted.revision > unconditional.revision);
      assert.equal(deleted.value, unconditional.value);
      assert.equal(deleted.createRevision, created.revision);
      assert.equal(await storage.currentRevision(), deleted.revision);
      await rejectsWith(storage.get(keyOf(r, 'a')), 'NotFound');

      const again = await storage.create(keyOf(r, 'a'), { labels: {} }, encoder('a'));
      assert.equal(again.createRevision, again.revision);
      assert.ok(again.revision > deleted.revision);
    });

    it('reports AlreadyExists, NotFound and Conflict naming the object', async () => {
      const r = freshResource();
      const a = await storage.create(keyOf(r, 'a'), { labels: {} }, encoder('a'));
      await rejectsWith(storage.create(keyOf(r, 'a'), { labels: {} }, encoder('a')), 'AlreadyExists');
      await rejectsWith(storage.get(keyOf(r, 'missing')), 'NotFound');
      await rejectsWith(storage.update(keyOf(r, 'missing'), undefined, { labels: {} }, encoder('m')), 'NotFound');
      await rejectsWith(storage.delete(keyOf(r, 'missing')), 'NotFound');
      await rejectsWith(storage.update(keyOf(r, 'a'), a.revision + 1000, { labels: {} }, encoder('a')), 'Conflict');
      await rejectsWith(storage.delete(keyOf(r, 'a'), a.revision - 1), 'Conflict');
      await assert.rejects(storage.get(keyOf(r, 'missing', 'ns1')), (err: unknown) => {
        assert.ok(isStorageError(err, 'NotFound'));
        assert.deepEqual(err.key, keyOf(r, 'missing', 'ns1'));
        assert.match(err.message, /ns1\/missing/);
        return true;
      });
      assert.deepEqual(await storage.get(keyOf(r, 'a')), a);
    });

    it('commits a linked write with the object write, at the next revision, or neither', async () => {
      const r = freshResource();
      const log = keyOf(`${r}-log`, 'a');
      const seen: Array<[number, string | undefined]> = [];
      const append = {
        key: log,
        encode: (revision: number, current: string | undefined) => {
          seen.push([revision, current]);
          return JSON.stringify([...(current ? (JSON.parse(current) as number[]) : []), revision]);
        },
      };
      const watch = await storage.watch({ resource: `${r}-log`, fromRevision: await storage.currentRevision() });
      const created = await storage.create(keyOf(r, 'a'), { labels: {} }, encoder('a'), append);
      const first = await storage.get(log);
      assert.equal(first.revision, created.revision + 1);
      assert.equal(first.value, JSON.stringify([created.revision]));
      const updated = await storage.update(keyOf(r, 'a'), created.revision, { labels: {} }, encoder('a'), append);
      assert.equal((await storage.get(log)).value, JSON.stringify([created.revision, updated.revision]));
      assert.equal((await storage.get(log)).createRevision, first.revision);
      assert.deepEqual(seen, [
        [created.revision, undefined],
        [updated.revision, first.value],
      ]);
      // A write that fails writes nothing linked; a linked encode that throws fails the write.
      await rejectsWith(
        storage.update(keyOf(r, 'a'), created.revision, { labels: {} }, encoder('a'), append),
        'Conflict',
      );
      const refused = new Error('refused by the linked encode');
      const throwing = {
        key: log,
        encode: () => {
          throw refused;
        },
      };
      await assert.rejects(storage.update(keyOf(r, 'a'), undefined, { labels: {} }, encoder('a'), throwing), refused);
      assert.equal((await storage.get(keyOf(r, 'a'))).revision, updated.revision);
      assert.equal(seen.length, 2);
      // undefined deletes the linked key, with the object.
      const removed = await storage.delete(keyOf(r, 'a'), updated.revision, { key: log, encode: () => undefined });
      await rejectsWith(storage.get(log), 'NotFound');
      assert.equal(await storage.currentRevision(), removed.revision + 1);
      const events = await take(watch, 3);
      watch.close();
      assert.deepEqual(
        events.map((e) => [e.type, e.revision]),
        [
          ['ADDED', created.revision + 1],
          ['MODIFIED', updated.revision + 1],
          ['DELETED', removed.revision + 1],
        ],
      );
    });

    it('aborts a write whose encode throws and rethrows its error', async () => {
      const r = freshResource();
      const before = await storage.currentRevision();
      const boom = new Error('encode failed');
      await assert.rejects(
        storage.create(keyOf(r, 'a'), { labels: {} }, () => {
          throw boom;
        }),
        (err) => err === boom,
      );
      await rejectsWith(storage.get(keyOf(r, 'a')), 'NotFound');
      const a = await storage.create(keyOf(r, 'a'), { labels: {} }, encoder('a'));
      assert.ok(a.revision > before);
      await assert.rejects(
        storage.update(keyOf(r, 'a'), undefined, { labels: {} }, () => {
          throw boom;
        }),
        (err) => err === boom,
      );
      assert.deepEqual(await storage.get(keyOf(r, 'a')), a);
    });

    it('gives 200 concurrent writers distinct increasing revisions, watched without gaps or duplicates', async () => {
      const r = freshResource();
      const from = await storage.currentRevision();
      const watch = await storage.watch({ resource: r, fromRevision: from });
      const writes = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          storage.create(keyOf(r, `o${i}`, `ns${i % 3}`), { labels: {} }, encoder(`o${i}`)),
        ),
      );
      const revisions = writes.map((w) => w.revision);
      assert.equal(new Set(revisions).size, 200);
      assert.ok(revisions.every((rev) => rev > from));
      const events = await take(watch, 200);
      watch.close();
      const eventRevisions = events.map((e) => e.revision);
      assert.deepEqual(
        eventRevisions,
        [...revisions].sort((a, b) => a - b),
      );
      for (const w of writes) assert.equal(JSON.parse(w.value).resourceVersion, String(w.revision));
      assert.equal(await storage.currentRevision(), Math.max(...revisions));
    });

    it('keeps each write its own outcome when concurrent writes conflict', async () => {
      const r = freshResource();
      const a = await storage.create(keyOf(r, 'a'), { labels: {} }, encoder('a'));
      const outcomes = await Promise.allSettled([
        storage.update(keyOf(r, 'a'), a.revision, { labels: {} }, encoder('a', { by: 1 })),
        storage.update(keyOf(r, 'a'), a.revision, { labels: {} }, encoder('a', { by: 2 })),
        storage.create(keyOf(r, 'a'), { labels: {} }, encoder('a')),
        storage.create(keyOf(r, 'b'), { labels: {} }, encoder('b')),
      ]);
      const codes = outcomes.map((o) =>
        o.status === 'fulfilled' ? 'ok' : isStorageError(o.reason) ? o.reason.code : 'other',
      );
      assert.deepEqual(codes.slice(2), ['AlreadyExists', 'ok']);
      assert.deepEqual([...codes.slice(0, 2)].sort(), ['Conflict', 'ok']);
    });

    it('lists with every label operator and field selector, in byte order', async () => {
      const r = freshResource();
      const objects: Array<[string, string, Record<string, string>]> = [
        ['ns1', 'b', { app: 'web', tier: 'front' }],
        ['ns1', 'B', { app: 'api' }],
        ['ns1', 'a.b', { app: 'db', tier: 'back' }],
        ['ns2', 'a-b', { tier: 'front' }],
        ['ns2', '\u{1F600}', {}],
        ['ns2', '\uFFFD', { app: 'web' }],
        ['ns10', 'z', { app: 'web' }],
      ];
      for (const [ns, n, labels] of objects) await storage.create(keyOf(r, n, ns), { labels }, encoder(n));
      const list = async (o: Omit<ListOptions, 'resource'>) => names((await storage.list({ resource: r, ...o })).items);
      assert.deepEqual(await list({}), [
        'ns1/B',
        'ns1/a.b',
        'ns1/b',
        'ns10/z',
        'ns2/a-b',
        'ns2/\uFFFD',
        'ns2/\u{1F600}',
      ]);
      assert.deepEqual(await list({ namespace: 'ns1' }), ['ns1/B', 'ns1/a.b', 'ns1/b']);
      assert.deepEqual(await list({ labels: [{ key: 'app', operator: 'in', values: ['web'] }] }), [
        'ns1/b',
        'ns10/z',
        'ns2/\uFFFD',
      ]);
      assert.deepEqual(await list({ labels: [{ key: 'app', operator: 'in', values: ['api', 'db'] }] }), [
        'ns1/B',
        'ns1/a.b',
      ]);
      assert.deepEqual(await list({ labels: [{ key: 'app', operator: 'notin', values: ['web', 'db'] }] }), [
        'ns1/B',
        'ns2/a-b',
        'ns2/\u{1F600}',
      ]);
      assert.deepEqual(await list({ labels: [{ key: 'tier', operator: 'exists', values: [] }] }), [
        'ns1/a.b',
        'ns1/b',
        'ns2/a-b',
      ]);
      assert.deepEqual(await list({ labels: [{ key: 'tier', operator: '!', values: [] }] }), [
        'ns1/B',
        'ns10/z',
        'ns2/\uFFFD',
        'ns2/\u{1F600}',
      ]);
      assert.deepEqual(
        await list({
          labels: [
            { key: 'app', operator: 'in', values: ['web'] },
            { key: 'tier', operator: 'exists', values: [] },
          ],
        }),
        ['ns1/b'],
      );
      assert.deepEqual(await list({ fields: [{ field: 'name', operator: '=', value: 'b' }] }), ['ns1/b']);
      assert.deepEqual(
        await list({
          fields: [
            { field: 'namespace', operator: '!=', value: 'ns2' },
            { field: 'name', operator: '!=', value: 'b' },
          ],
        }),
        ['ns1/B', 'ns1/a.b', 'ns10/z'],
      );
      assert.deepEqual(await list({ fields: [{ field: 'namespace', operator: '=', value: 'ns10' }] }), ['ns10/z']);
      assert.deepEqual(await list({ namespace: 'ns2', labels: [{ key: 'app', operator: 'exists', values: [] }] }), [
        'ns2/\uFFFD',
      ]);
      const all = await storage.list({ resource: r });
      assert.equal(all.revision, await storage.currentRevision());
      assert.equal(all.more, false);
      assert.deepEqual((await storage.list({ resource: freshResource() })).items, []);
    });

    it('selects by paths into the stored JSON, in the current state and in a snapshot', async () => {
      const r = freshResource();
      const objects: Array<[string, Record<string, unknown>]> = [
        ['a', { spec: { path: '/x', port: 80, on: true }, source: { component: 'gitops' } }],
        ['b', { spec: { path: '/y', port: 8080, on: false }, source: { component: '' }, reporter: 'gateway' }],
        ['c', { spec: { path: null }, reporter: 'gateway' }],
        ['d', { spec: 'not an object', source: {} }],
      ];
      for (const [n, extra] of objects) await storage.create(keyOf(r, n), { labels: { n } }, encoder(n, extra));
      const json = (operator: '=' | '!=', value: string, ...paths: string[]) => ({
        field: 'json' as const,
        operator,
        value,
        paths: paths.map((path) => path.split('.')),
      });
      const keys = (items: StoredObject[]) => items.map((item) => item.key.name);
      const list = async (o: Omit<ListOptions, 'resource'>) => keys((await storage.list({ resource: r, ...o })).items);
      assert.deepEqual(await list({ fields: [json('=', '/x', 'spec.path')] }), ['a']);
      assert.deepEqual(await list({ fields: [json('!=', '/x', 'spec.path')] }), ['b', 'c', 'd']);
      assert.deepEqual(await list({ fields: [json('=', '', 'spec.path')] }), ['c', 'd'], 'null and absent are ""');
      assert.deepEqual(await list({ fields: [json('=', '8080', 'spec.port')] }), ['b'], 'numbers as text');
      assert.deepEqual(await list({ fields: [json('=', 'false', 'spec.on')] }), ['b'], 'booleans as text');
      assert.deepEqual(
        await list({ fields: [json('=', 'gateway', 'source.component', 'reporter')] }),
        ['b', 'c'],
        'the first non-empty path',
      );
      assert.deepEqual(await list({ fields: [json('=', 'gitops', 'source.component', 'reporter')] }), ['a']);
      assert.deepEqual(
        await list({
          fields: [json('!=', '/x', 'spec.path'), { field: 'name', operator: '!=', value: 'c' }],
          labels: [{ key: 'n', operator: 'notin', values: ['d'] }],
        }),
        ['b'],
      );
      const first = await storage.list({ resource: r, fields: [json('!=', '', 'reporter')], limit: 1 });
      assert.deepEqual(keys(first.items), ['b']);
      assert.equal(first.more, true);

      // A snapshot read compares the value the object had at that revision.
      const before = await storage.currentRevision();
      await storage.update(keyOf(r, 'a'), undefined, { labels: {} }, encoder('a', { spec: { path: '/moved' } }));
      await storage.update(keyOf(r, 'c'), undefined, { labels: {} }, encoder('c', { spec: { path: '/x' } }));
      assert.deepEqual(await list({ fields: [json('=', '/x', 'spec.path')] }), ['c']);
      assert.deepEqual(await list({ revision: before, fields: [json('=', '/x', 'spec.path')] }), ['a']);
      const notY = [json('!=', '/y', 'spec.path')];
      const paged = await listAll(storage, { resource: r, revision: before, fields: notY }, 1);
      assert.deepEqual(keys(paged.items), ['a', 'c', 'd']);
    });

    it('selects by paths into stored JSON that holds NUL characters, reading them as U+FFFD', async () => {
      const r = freshResource();
      await storage.create(keyOf(r, 'nul'), { labels: {} }, encoder('nul', { spec: { path: 'a\0b' }, other: '\0\0' }));
      await storage.create(keyOf(r, 'escaped'), { labels: {} }, encoder('escaped', { spec: { path: '\\u0000' } }));
      await storage.create(keyOf(r, 'plain'), { labels: {} }, encoder('plain', { spec: { path: '/p' } }));
      const list = async (operator: '=' | '!=', value: string) => {
        const fields = [{ field: 'json' as const, operator, value, paths: [['spec', 'path']] }];
        return (await storage.list({ resource: r, fields })).items.map((item) => item.key.name);
      };
      assert.deepEqual(await list('=', '/p'), ['plain']);
      assert.deepEqual(await list('!=', '/p'), ['escaped', 'nul']);
      assert.deepEqual(await list('=', 'a\uFFFDb'), ['nul']);
      assert.deepEqual(await list('=', '\\u0000'), ['escaped']);
    });

    it('pages over a stable snapshot while writes happen between pages', async () => {
      const r = freshResource();
      const originals: StoredObject[] = [];
      for (let i = 0; i < 10; i++) {
        originals.push(
          await storage.create(keyOf(r, `o${i}`), { labels: { keep: i % 2 === 0 ? 'yes' : 'no' } }, encoder(`o${i}`)),
        );
      }
      const first = await storage.list({ resource: r, limit: 3 });
      assert.equal(first.more, true);
      assert.equal(first.remaining, 7);
      let step = 0;
      const mutate = async () => {
        step++;
        await storage.create(keyOf(r, `o5a${step}`), { labels: { keep: 'yes' } }, encoder('new'));
        await storage.update(keyOf(r, `o${3 + step}`), undefined, { labels: { keep: 'no' } }, encoder('changed'));
        await storage.delete(keyOf(r, `o${9 - step}`));
      };
      const paged = await listAll(storage, { resource: r }, 3, mutate);
      assert.deepEqual(paged.items, originals);
      assert.equal(paged.pages.length, 4);

      const snapshot = await storage.currentRevision();
      const evens = (await storage.list({ resource: r, labels: [{ key: 'keep', operator: 'in', values: ['yes'] }] }))
        .items;
      const pagedEvens = await listAll(
        storage,
        { resource: r, labels: [{ key: 'keep', operator: 'in', values: ['yes'] }] },
        2,
        async () => {
          for (const o of evens) await storage.update(o.key, undefined, { labels: { keep: 'no' } }, encoder('flipped'));
        },
      );
      assert.equal(pagedEvens.revision, snapshot);
      assert.deepEqual(pagedEvens.items, evens);
      const now = await storage.list({ resource: r, labels: [{ key: 'keep', operator: 'in', values: ['yes'] }] });
      assert.deepEqual(now.items, []);
    });

    it('fails a list at a compacted revision with Expired and keeps snapshots at the compaction point', async () => {
      const r = freshResource();
      const a = await storage.create(keyOf(r, 'a'), { labels: {} }, encoder('a'));
      const b = await storage.create(keyOf(r, 'b'), { labels: {} }, encoder('b'));
      await storage.update(keyOf(r, 'a'), undefined, { labels: {} }, encoder('a2'));
      await storage.delete(keyOf(r, 'b'));
      const c = await storage.create(keyOf(r, 'c'), { labels: {} }, encoder('c'));
      const atCompaction = await storage.list({ resource: r });
      await storage.compact(c.revision);
      assert.equal(await storage.compactedRevision(), c.revision);
      await rejectsWith(storage.list({ resource: r, revision: b.revision }), 'Expired');
      await rejectsWith(
        storage.list({ resource: r, revision: a.revision, after: { namespace: 'default', name: 'a' }, limit: 1 }),
        'Expired',
      );
      await storage.update(keyOf(r, 'c'), undefined, { labels: {} }, encoder('c2'));
      await storage.create(keyOf(r, 'd'), { labels: {} }, encoder('d'));
      const snap = await storage.list({ resource: r, revision: c.revision });
      assert.deepEqual(snap.items, atCompaction.items);
      await storage.compact(c.revision - 1);
      assert.equal(await storage.compactedRevision(), c.revision);
    });

    it('replays a watch from a revision, then delivers live events with prevValue', async () => {
      const r = freshResource();
      const from = await storage.currentRevision();
      const a = await storage.create(keyOf(r, 'a'), { labels: {} }, encoder('a'));
      const a2 = await storage.update(keyOf(r, 'a'), undefined, { labels: {} }, encoder('a', { v: 2 }));
      await storage.create(keyOf(freshResource(), 'other'), { labels: {} }, encoder('other'));
      const b = await storage.create(keyOf(r, 'b', 'ns2'), { labels: {} }, encoder('b'));
      const watch = await storage.watch({ resource: r, fromRevision: from });
      const replayed = await take(watch, 3);
      assert.deepEqual(
        replayed.map((e) => [e.type, e.key.name, e.revision]),
        [
          ['ADDED', 'a', a.revision],
          ['MODIFIED', 'a', a2.revision],
          ['ADDED', 'b', b.revision],
        ],
      );
      assert.equal(replayed[0].prevValue, undefined);
      assert.equal(replayed[1].prevValue, a.value);
      assert.equal(replayed[1].value, a2.value);
      const deleted = await storage.delete(keyOf(r, 'a'));
      const c = await storage.create(keyOf(r, 'c'), { labels: {} }, encoder('c'));
      const live = await take(watch, 2);
      assert.deepEqual(live[0], {
        type: 'DELETED',
        key: keyOf(r, 'a'),
        value: a2.value,
        prevValue: a2.value,
        revision: deleted.revision,
      });
      assert.deepEqual(live[1], { type: 'ADDED', key: keyOf(r, 'c'), value: c.value, revision: c.revision });

      const fromMiddle = await storage.watch({ resource: r, fromRevision: a2.revision });
      assert.deepEqual(
        (await take(fromMiddle, 3)).map((e) => e.revision),
        [b.revision, deleted.revision, c.revision],
      );
      fromMiddle.close();
      watch.close();
    });

    it('scopes a watch to one namespace', async () => {
      const r = freshResource();
      const from = await storage.currentRevision();
      const watch = await storage.watch({ resource: r, namespace: 'ns1', fromRevision: from });
      const x = await storage.create(keyOf(r, 'x', 'ns1'), { labels: {} }, encoder('x'));
      await storage.create(keyOf(r, 'y', 'ns2'), { labels: {} }, encoder('y'));
      await storage.create(keyOf(freshResource(), 'w', 'ns1'), { labels: {} }, encoder('w'));
      const z = await storage.create(keyOf(r, 'z', 'ns1'), { labels: {} }, encoder('z'));
      assert.deepEqual(
        (await take(watch, 2)).map((e) => [e.key.name, e.revision]),
        [
          ['x', x.revision],
          ['z', z.revision],
        ],
      );
      watch.close();
      const replay = await storage.watch({ resource: r, namespace: 'ns2', fromRevision: from });
      assert.deepEqual(
        (await take(replay, 1)).map((e) => e.key.name),
        ['y'],
      );
      replay.close();
    });

    it('fails a watch from before the compaction with Expired', async () => {
      const r = freshResource();
      const a = await storage.create(keyOf(r, 'a'), { labels: {} }, encoder('a'));
      const b = await storage.update(keyOf(r, 'a'), undefined, { labels: {} }, encoder('a2'));
      await storage.compact(b.revision);
      await rejectsWith(storage.watch({ resource: r, fromRevision: a.revision }), 'Expired');
      const watch = await storage.watch({ resource: r, fromRevision: b.revision });
      const c = await storage.update(keyOf(r, 'a'), undefined, { labels: {} }, encoder('a3'));
      assert.deepEqual(
        (await take(watch, 1)).map((e) => e.revision),
        [c.revision],
      );
      watch.close();
    });

    it('ends the iteration when a watch is closed', async () => {
      const watch = await storage.watch({ resource: freshResource(), fromRevision: await storage.currentRevision() });
      const done = take(watch, 1);
      watch.close();
      assert.deepEqual(await done, []);
    });

    it('ends watches with a StorageError when the store closes', async () => {
      const own = await open();
      const watch = await own.watch({ resource: freshResource(), fromRevision: await own.currentRevision() });
      const ended = assert.rejects(take(watch, 1), (err: unknown) => isStorageError(err, 'Unavailable'));
      await own.checkWritable();
      await own.close();
      await ended;
      await rejectsWith(own.checkWritable(), 'Unavailable');
      await rejectsWith(own.get(keyOf('x', 'y')), 'Unavailable');
      await rejectsWith(
        own.addCounters([{ key: 'closed', window: 0, delta: 1, expiresAt: Date.now() + 60_000 }]),
        'Unavailable',
      );
    });

    it('adds to counters per key and window, returning totals in the order given', async () => {
      const key = freshResource();
      const later = Date.now() + 60_000;
      assert.deepEqual(await storage.addCounters([]), []);
      assert.deepEqual(
        await storage.addCounters([
          { key, window: 1000, delta: 3, expiresAt: later },
          { key: `${key}/\u{1F600}`, window: 1000, delta: 0, expiresAt: later },
          { key, window: 2000, delta: 1, expiresAt: later },
        ]),
        [3, 0, 1],
      );
      assert.deepEqual(
        await storage.addCounters([
          { key, window: 2000, delta: 0, expiresAt: later },
          { key, window: 1000, delta: 2, expiresAt: later },
          { key, window: 2000, delta: 4, expiresAt: later },
        ]),
        [5, 5, 5],
        'increments of one counter are summed and report the same total',
      );
      const big = 2 ** 40;
      assert.deepEqual(
        await storage.addCounters([
          { key, window: 3000, delta: big, expiresAt: later },
          { key, window: 3000, delta: big, expiresAt: later },
        ]),
        [2 * big, 2 * big],
      );
      const revision = await storage.currentRevision();
      await storage.addCounters([{ key, window: 1000, delta: 1, expiresAt: later }]);
      assert.equal(await storage.currentRevision(), revision, 'counters are not revisioned objects');
    });

    it('adds concurrent increments atomically', async () => {
      const key = freshResource();
      const expiresAt = Date.now() + 60_000;
      const totals = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          storage.addCounters([
            { key, window: 0, delta: 1, expiresAt },
            { key: `${key}-${i % 2}`, window: 0, delta: 2, expiresAt },
          ]),
        ),
      );
      assert.deepEqual(
        totals.map((t) => t[0]).sort((a, b) => a - b),
        Array.from({ length: 100 }, (_, i) => i + 1),
      );
      assert.deepEqual(
        await storage.addCounters([
          { key: `${key}-0`, window: 0, delta: 0, expiresAt },
          { key: `${key}-1`, window: 0, delta: 0, expiresAt },
        ]),
        [100, 100],
      );
    });

    it('forgets a counter from its expiry, and never brings a live expiry closer', async () => {
      const key = freshResource();
      const past = Date.now() - 1;
      assert.deepEqual(await storage.addCounters([{ key, window: 0, delta: 5, expiresAt: past }]), [5]);
      assert.deepEqual(
        await storage.addCounters([{ key, window: 0, delta: 2, expiresAt: past }]),
        [2],
        'an expired counter starts again from zero',
      );
      const later = Date.now() + 60_000;
      assert.deepEqual(await storage.addCounters([{ key, window: 0, delta: 1, expiresAt: later }]), [1]);
      assert.deepEqual(
        await storage.addCounters([{ key, window: 0, delta: 1, expiresAt: past }]),
        [2],
        'the later expiry is kept',
      );
      assert.deepEqual(await storage.addCounters([{ key, window: 0, delta: 0, expiresAt: past }]), [2]);
    });
  });
}
