import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { lockDirectory, type DirectoryLock } from '../directory-lock.ts';
import { RESERVE_BYTES, ensureSpace } from './disk-space.ts';
import type { SqlClient, SqlQueryable, SqlRow } from './sql-client.ts';

/** Opens embedded PostgreSQL (PGlite): on disk under `dataDir`, or in memory when it is
 * undefined. One process only: on disk the directory is locked until close() (another
 * process's lock fails with DirectoryLockedError), and opening and `ensureSpace` fail with
 * 'Unavailable' while less than RESERVE_BYTES would stay free there. PGlite runs statements
 * one at a time. */
export async function openPgliteClient(dataDir?: string): Promise<SqlClient> {
  let lock: DirectoryLock | undefined;
  let db: PGlite;
  if (dataDir === undefined) {
    db = await PGlite.create();
  } else {
    await mkdir(dataDir, { recursive: true });
    lock = await lockDirectory(dataDir);
    try {
      await ensureSpace(dataDir, 0, RESERVE_BYTES);
      db = await PGlite.create(dataDir);
    } catch (err) {
      await lock.release();
      throw err;
    }
  }
  const queryable = (q: Pick<PGlite, 'query'>): SqlQueryable => ({
    async query(text, params) {
      const result = await q.query<SqlRow>(text, params === undefined ? undefined : [...params]);
      return result.rows;
    },
  });
  return {
    ...queryable(db),
    transaction: (fn) => db.transaction((tx) => fn(queryable(tx))),
    async close() {
      await db.close();
      await lock?.release();
    },
    ...(dataDir === undefined ? {} : { ensureSpace: (bytes: number) => ensureSpace(dataDir, bytes, RESERVE_BYTES) }),
  };
}
