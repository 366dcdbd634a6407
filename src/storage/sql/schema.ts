import type { SqlClient } from './sql-client.ts';

/** Serialises writers of one database, across processes: held from before a write
 * transaction reads the revision until it commits, so revisions commit in order and a
 * reader of `revision > n` never sees a later revision before an earlier one. */
export const WRITE_LOCK = 0x67617465; // 'gate'

/** Channel whose payload `<writer id>:<revision>` tells other processes to read the log. */
export const NOTIFY_CHANNEL = 'gatehouse_revision';

// Key columns use COLLATE "C" so ORDER BY and keyset comparisons are byte order, the
// same in every database whatever its locale, and match the memory driver.
const SCHEMA = `
CREATE SEQUENCE IF NOT EXISTS gatehouse_revision;
CREATE TABLE IF NOT EXISTS gatehouse_objects (
  resource text COLLATE "C" NOT NULL,
  namespace text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  labels jsonb NOT NULL,
  value text NOT NULL,
  revision bigint NOT NULL,
  create_revision bigint NOT NULL,
  PRIMARY KEY (resource, namespace, name)
);
CREATE TABLE IF NOT EXISTS gatehouse_log (
  revision bigint PRIMARY KEY,
  resource text COLLATE "C" NOT NULL,
  namespace text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  type text NOT NULL CHECK (type IN ('ADDED', 'MODIFIED', 'DELETED')),
  value text NOT NULL,
  prev_value text,
  labels jsonb NOT NULL,
  create_revision bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS gatehouse_log_key ON gatehouse_log (resource, namespace, name, revision);
CREATE INDEX IF NOT EXISTS gatehouse_log_resource ON gatehouse_log (resource, revision);
CREATE TABLE IF NOT EXISTS gatehouse_meta (
  id int PRIMARY KEY CHECK (id = 1),
  compacted bigint NOT NULL
);
INSERT INTO gatehouse_meta (id, compacted) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
CREATE TABLE IF NOT EXISTS gatehouse_counters (
  key text COLLATE "C" NOT NULL,
  window_start bigint NOT NULL,
  value bigint NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (key, window_start)
);
CREATE INDEX IF NOT EXISTS gatehouse_counters_expiry ON gatehouse_counters (expires_at);
`;

/** Creates the schema if missing. Idempotent, and safe when several processes open the
 * same database at once (CREATE ... IF NOT EXISTS alone races on the catalogue). */
export async function ensureSchema(client: SqlClient): Promise<void> {
  await client.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [WRITE_LOCK]);
    for (const statement of SCHEMA.split(';')
      .map((s) => s.trim())
      .filter(Boolean)) {
      await tx.query(statement);
    }
  });
}
