import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freshPgliteDir } from '../../test/support/pglite.ts';
import { DirectoryLockedError, LOCK_FILE, lockDirectory } from './directory-lock.ts';
import { openStorage } from './open.ts';

/** A real process that has exited, so its pid names no running process (barring reuse). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}

describe('directory lock', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-lock-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('holds the directory for this process until released, naming the holder to anyone else', async () => {
    const lock = await lockDirectory(dir);
    assert.equal((await readFile(join(dir, LOCK_FILE), 'utf8')).trim(), String(process.pid));
    await assert.rejects(lockDirectory(dir), (err: unknown) => {
      assert.ok(err instanceof DirectoryLockedError);
      assert.equal(err.holder, process.pid);
      assert.match(
        err.message,
        new RegExp(`^${dir} is in use by process ${process.pid} \\(lock file ${join(dir, LOCK_FILE)}\\)`),
      );
      return true;
    });
    await lock.release();
    assert.deepEqual(await readdir(dir), []);
    await (await lockDirectory(dir)).release();
  });

  it('refuses a directory a live process holds', async () => {
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    try {
      await writeFile(join(dir, LOCK_FILE), `${other.pid}\n`);
      await assert.rejects(
        lockDirectory(dir),
        (err: unknown) => err instanceof DirectoryLockedError && err.holder === other.pid,
      );
      assert.equal(
        (await readFile(join(dir, LOCK_FILE), 'utf8')).trim(),
        String(other.pid),
        'the holder keeps its lock',
      );
    } finally {
      other.kill();
      await rm(join(dir, LOCK_FILE), { force: true });
    }
  });

  it('takes over the lock of a process that is gone, or an empty one', async () => {
    for (const stale of [`${await deadPid()}\n`, '']) {
      await writeFile(join(dir, LOCK_FILE), stale);
      const lock = await lockDirectory(dir);
      assert.equal((await readFile(join(dir, LOCK_FILE), 'utf8')).trim(), String(process.pid));
      await lock.release();
      assert.deepEqual(await readdir(dir), [], 'nothing left behind');
    }
  });

  it('keeps a second PGlite store off a directory until the first is closed', async () => {
    const spec = `pglite:${await freshPgliteDir(join(dir, 'pglite'))}`;
    const first = await openStorage(spec, { compactEvery: 0 });
    try {
      await assert.rejects(openStorage(spec, { compactEvery: 0 }), DirectoryLockedError);
    } finally {
      await first.close();
    }
    await (await openStorage(spec, { compactEvery: 0 })).close();
  });
});
