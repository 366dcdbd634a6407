// PGlite's disk-space check and the write it guards are one step: on a real small disk
// (test/support/small-disk.ts), a write that takes the room while another waits to write makes the waiting one
// fail with 'Unavailable' instead of writing into the reserve on the strength of a check made before.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RESERVE_BYTES } from '../src/storage/sql/disk-space.ts';
import { openPgliteClient } from '../src/storage/sql/pglite-client.ts';
import type { SqlClient } from '../src/storage/sql/sql-client.ts';
import { SqlStorage } from '../src/storage/sql/sql-storage.ts';
import { StorageError } from '../src/storage/storage.ts';
import { freshPgliteDir } from './support/pglite.ts';
import { makeSmallDisk, type SmallDisk } from './support/small-disk.ts';

/** Room for a fresh PGlite database (about 40 MiB) and the 64 MiB reserve, with some to spare. */
const DISK_MIB = 128;

describe('PGlite disk space', () => {
  let root: string;
  let disk: SmallDisk;
  let storage: SqlStorage | undefined;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'gatehouse-disk-space-'));
    await mkdir(join(root, 'disk'));
    disk = await makeSmallDisk(join(root, 'disk'), DISK_MIB);
  });
  after(async () => {
    await storage?.close();
    await disk?.unmount();
    await rm(root, { recursive: true, force: true });
  });

  it('checks the disk for counters inside the transaction that writes them', async () => {
    const client = await openPgliteClient(await freshPgliteDir(join(disk.outside, 'pglite')));
    // Resolves once the counters below wait to write: their check done, or their transaction asked for.
    let waiting = false;
    let signal!: () => void;
    const queued = new Promise<void>((resolve) => {
      signal = resolve;
    });
    const watched: SqlClient = {
      ...client,
      transaction: (fn) => {
        if (waiting) signal();
        return client.transaction(fn);
      },
      async ensureSpace(bytes) {
        await client.ensureSpace?.(bytes);
        if (waiting) signal();
      },
    };
    storage = await SqlStorage.open(watched);
    const counter = { key: 'quota:default/acme/gold', window: 0, expiresAt: Date.now() + 60_000 };

    // Another write in flight, which takes the disk's room before it commits.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started!: () => void;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    const other = client.transaction(async (tx) => {
      started();
      await held;
      await tx.query('SELECT 1');
    });
    await running;
    waiting = true;
    const counters = storage.addCounters([{ ...counter, delta: 1 }]);
    await queued;
    await disk.fill(RESERVE_BYTES / 2);
    release();
    await other;
    await assert.rejects(counters, (err) => err instanceof StorageError && err.code === 'Unavailable');

    // Refused whole: once space returns, the counter starts from nothing.
    await disk.free();
    assert.deepEqual(await storage.addCounters([{ ...counter, delta: 2 }]), [2]);
  });
});
