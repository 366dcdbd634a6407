// One process per directory: a lock file holding the owner's pid, made by link(2) from a file
// already holding it, so it never exists empty and two starters cannot both make it. A lock whose pid no longer runs (the owner was SIGKILLed or
// its machine rebooted) is stale and taken over; it is first renamed aside, so of two
// starters taking over one stale lock, only the one that moved the stale file goes on.
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const LOCK_FILE = 'gatehouse.lock';
const TAKE_ATTEMPTS = 5;

/** Another running process holds the directory. */
export class DirectoryLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly holder: number,
  ) {
    super(
      `${dir} is in use by process ${holder} (lock file ${join(dir, LOCK_FILE)}); stop that process first, ` +
        `or delete the lock file if process ${holder} is not Gatehouse`,
    );
    this.name = 'DirectoryLockedError';
  }
}

export interface DirectoryLock {
  /** Removes the lock file if it still names this process. */
  release(): Promise<void>;
}

/** Takes `dir` (which must exist) for this process; fails with DirectoryLockedError naming
 * the holder's pid while another live process, or this one, holds it. */
export async function lockDirectory(dir: string): Promise<DirectoryLock> {
  const file = join(dir, LOCK_FILE);
  const mine = `${file}.${process.pid}`;
  await writeFile(mine, `${process.pid}\n`, { mode: 0o644 });
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await link(mine, file);
        return { release: () => releaseIfOurs(file) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= TAKE_ATTEMPTS) throw err;
      }
      const holder = await readPid(file);
      if (holder !== undefined && running(holder)) throw new DirectoryLockedError(dir, holder);
      await setAside(file, holder);
    }
  } finally {
    await unlink(mine);
  }
}

/** Moves a stale lock out of the way. If what was moved is no longer the stale lock (another
 * starter replaced it meanwhile), it is put back for its owner. */
async function setAside(file: string, stale: number | undefined): Promise<void> {
  const aside = `${file}.${process.pid}.stale`;
  try {
    await rename(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if ((await readPid(aside)) !== stale) await link(aside, file).catch(() => undefined);
  await unlink(aside);
}

async function releaseIfOurs(file: string): Promise<void> {
  if ((await readPid(file)) === process.pid) await unlink(file).catch(() => undefined);
}

/** The pid a lock file names; undefined when it is gone, empty or garbled (a writer that
 * died between create and write). */
async function readPid(file: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(file, 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
