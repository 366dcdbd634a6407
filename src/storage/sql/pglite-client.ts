import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import type { SqlClient, SqlQueryable, SqlRow } from './sql-client.ts';

/** Opens embedded PostgreSQL (PGlite): on disk under `dataDir`, or in memory when it is
 * undefined. One process only; PGlite runs statements one at a time. */
export async function openPgliteClient(dataDir?: string): Promise<SqlClient> {
  if (dataDir !== undefined) await mkdir(dataDir, { recursive: true });
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
  };
}
