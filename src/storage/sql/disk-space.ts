// Free space under an embedded database's directory. PGlite must never meet a full disk: on
// ENOSPC its WAL flush retries inside WebAssembly without end, holding the event loop (no
// request, health probe or timer runs again). So a write, and an open (crash recovery
// writes), is refused while the disk would keep less than a reserve free beside it.
import { statfs } from 'node:fs/promises';
import { StorageError } from '../storage.ts';

/** Room kept free: four 16 MiB WAL segments, so a checkpoint and a segment
 * switch still fit beside whatever else shares the disk. */
export const RESERVE_BYTES = 64 * 1024 * 1024;

/** Fails with 'Unavailable', naming the directory and both amounts, when fewer than
 * `bytes + reserve` bytes are free for this process under `dir`. */
export async function ensureSpace(dir: string, bytes: number, reserve: number): Promise<void> {
  const { bavail, bsize } = await statfs(dir);
  const free = bavail * bsize;
  if (free >= bytes + reserve) return;
  throw new StorageError(
    'Unavailable',
    `the disk under ${dir} is full: ${mib(free)} free, ${mib(bytes + reserve)} needed (${mib(reserve)} kept in reserve)`,
  );
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
