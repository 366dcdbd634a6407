import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { DEFAULT_RESERVE_BYTES, ensureSpace } from './disk-space.ts';
import type { SqlClient, SqlQueryable, SqlRow } from './sql-client.ts';

/** Opens embedded PostgreSQL (PGlite): on disk under `dataDir`, or in memory when it is
 * undefined. One process only; PGlite runs statements one at a time. On disk, opening and
 * `ensureSpace` fail with 'Unavailable' while fewer than `reserveBytes` are free there. */
export async function openPgliteClient(dataDir?: string, reserveBytes = DEFAULT_RESERVE_BYTES): Promise<SqlClient> {
  if (dataDir !== undefined) {
    await mkdir(dataDir, { recursive: true });
    await ensureSpace(dataDir, 0, reserveBytes);
  }
  const db = await PGlite.create(dataDir);
  const queryable = (q: Pick<PGlite, 'query'>): SqlQueryable => ({
    async query(text, params) {
      const result = await q.query<SqlRow>(text, params === undefined ? undefined : [...params]);
      return result.rows;
    },
  });
  return {
    ...queryable(db),
    transaction: (fn) => db.transaction((tx) => fn(queryable(tx))),
    close: () => db.close(),
    ...(dataDir === undefined ? {} : { ensureSpace: (bytes: number) => ensureSpace(dataDir, bytes, reserveBytes) }),
  };
}
