import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isStorageError } from './storage.ts';
import type { WatchEvent } from './storage.ts';
import { MAX_QUEUED_EVENTS, WatcherSet } from './watch-channel.ts';

const event = (revision: number, namespace = 'ns'): WatchEvent => ({
  type: 'ADDED',
  key: { resource: 'r', namespace, name: `o${revision}` },
  value: '{}',
  revision,
});

describe('WatcherSet', () => {
  it('delivers matching events once, in order, above the start revision', async () => {
    const set = new WatcherSet();
    const watch = set.open({ resource: 'r', namespace: 'ns', fromRevision: 1 });
    set.publish(event(1));
    set.publish(event(2));
    set.publish(event(2));
    set.publish(event(3, 'other'));
    set.publish({ ...event(4), key: { resource: 'other', namespace: 'ns', name: 'x' } });
    set.publish(event(5));
    const iterator = watch[Symbol.asyncIterator]();
    assert.deepEqual((await iterator.next()).value, event(2));
    assert.deepEqual((await iterator.next()).value, event(5));
    watch.close();
    assert.equal((await iterator.next()).done, true);
    const all = set.open({ resource: 'r', fromRevision: 0 });
    set.publish(event(6, 'other'));
    assert.deepEqual((await all[Symbol.asyncIterator]().next()).value, event(6, 'other'));
  });

  it('ends a watcher that falls too far behind with Unavailable', async () => {
    const set = new WatcherSet();
    const watch = set.open({ resource: 'r', fromRevision: 0 });
    for (let rev = 1; rev <= MAX_QUEUED_EVENTS + 1; rev++) set.publish(event(rev));
    await assert.rejects(watch[Symbol.asyncIterator]().next(), (err: unknown) => isStorageError(err, 'Unavailable'));
  });
});
