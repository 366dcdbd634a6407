import type { Encode, LinkedWrite, ObjectKey, StoredObject, WatchEvent } from '../storage.ts';
import { alreadyExists, conflict, notFound } from '../storage-errors.ts';
import { translateSqlError } from './errors.ts';
import { NOTIFY_CHANNEL, WRITE_LOCK } from './schema.ts';
import type { SqlClient, SqlQueryable } from './sql-client.ts';

export type WriteOp = (
  | { kind: 'create'; key: ObjectKey; labels: Record<string, string>; encode: Encode }
  | {
      kind: 'update';
      key: ObjectKey;
      expectedRevision: number | undefined;
      labels: Record<string, string>;
      encode: Encode;
    }
  | { kind: 'delete'; key: ObjectKey; expectedRevision: number | undefined }
) & { linked?: LinkedWrite };

/** Writes of one transaction, in revision order. `base` is the revision committed before
 * it, so whoever delivered exactly up to `base` may deliver `events` without reading. */
export interface CommittedBatch {
  base: number;
  events: WatchEvent[];
}

interface Pending {
  op: WriteOp;
  resolve(object: StoredObject): void;
  reject(err: unknown): void;
}

/** Current state of a key while a batch is planned. */
interface KeyState {
  labels: Record<string, string>;
  value: string;
  revision: number;
  createRevision: number;
}

interface LogRow extends KeyState {
  key: ObjectKey;
  type: WatchEvent['type'];
  prevValue: string | null;
}

const MAX_BATCH = 256;
/** Disk a batch may take per byte of value written: the log row and the objects row, each
 * again in the WAL, and the log's copy of the previous value. */
const BYTES_PER_VALUE_BYTE = 4;
/** Bounds of the write a readiness probe makes: at least a page (a batch that failed before
 * it was planned, e.g. on a lost connection, has no size), at most above an object's limit. */
const MIN_PROBE_BYTES = 8 * 1024;
const MAX_PROBE_BYTES = 4 * 1024 * 1024;
/** Inserts a row holding about $1 bytes that do not compress (md5 hex), so the database must
 * find that much room; the transaction is then rolled back. PostgreSQL extends a table's
 * files at the insert, so a full disk fails it with 53100 as it fails the real write. */
const PROBE_INSERT = `INSERT INTO gatehouse_objects
    (resource, namespace, name, labels, value, revision, create_revision)
  SELECT '', '', 'gatehouse-write-probe', '{}', string_agg(md5(i::text || random()::text), ''), 0, 0
    FROM generate_series(1, ceil($1 / 32.0)::int) i`;
const ROLLBACK = Symbol('rollback');

/**
 * Group commit: writes submitted while a transaction is in flight are queued and run
 * together in the next one. Under the advisory write lock, the batch reads the current
 * state of its keys, then decides every op in JS (NotFound, Conflict, AlreadyExists fail
 * that op alone; an Encode that throws fails that op alone), giving each successful op
 * the next revision. The outcome is written with a fixed number of set-based statements
 * whatever the batch size, so a batch costs about as much as one write. A batch the disk
 * has no room for (SqlClient.ensureSpace) fails whole before anything is written.
 */
export class GroupCommitWriter {
  private queue: Pending[] = [];
  private running: Promise<void> | undefined;
  /** Bytes of values the batch in flight writes, once planned. */
  private planned = 0;
  /** The size of the last batch, when it failed as a whole because storage was unavailable (a
   * full disk, a lost server). Cleared by the next commit or successful probe. */
  private unavailable: { bytes: number } | undefined;

  constructor(
    private readonly client: SqlClient,
    private readonly writerId: string,
    private readonly onCommit: (batch: CommittedBatch) => void,
  ) {}

  submit(op: WriteOp): Promise<StoredObject> {
    return new Promise((resolve, reject) => {
      this.queue.push({ op, resolve, reject });
      this.running ??= this.drain();
    });
  }

  /** Resolves when writes commit: at once unless the last batch failed as unavailable; then
   * once a write as large as that batch succeeds (rolled back, so nothing changes), or fails
   * with why it could not. */
  async checkWritable(): Promise<void> {
    const failed = this.unavailable;
    if (!failed) return;
    const bytes = Math.min(Math.max(failed.bytes, MIN_PROBE_BYTES), MAX_PROBE_BYTES);
    try {
      await this.client.transaction(async (tx) => {
        await this.client.ensureSpace?.(bytes * BYTES_PER_VALUE_BYTE);
        await tx.query(PROBE_INSERT, [bytes]);
        throw ROLLBACK;
      });
    } catch (err) {
      if (err !== ROLLBACK) throw translateSqlError(err, `writing ${bytes} bytes to check that writes commit`);
    }
    if (this.unavailable === failed) this.unavailable = undefined;
  }

  /** Resolves when queued writes are done. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      await this.run(batch);
    }
    this.running = undefined;
  }

  private async run(batch: Pending[]): Promise<void> {
    let outcomes: Array<{ object: StoredObject } | { error: unknown }>;
    let committed: CommittedBatch;
    this.planned = 0;
    try {
      ({ outcomes, committed } = await this.client.transaction((tx) =>
        this.write(
          tx,
          batch.map((p) => p.op),
        ),
      ));
      this.unavailable = undefined;
    } catch (err) {
      const error = translateSqlError(err, `writing ${batch.length} object(s)`);
      if (error.code === 'Unavailable') this.unavailable = { bytes: this.planned };
      for (const p of batch) p.reject(error);
      return;
    }
    if (committed.events.length > 0) this.onCommit(committed);
    batch.forEach((p, i) => {
      const outcome = outcomes[i];
      if ('object' in outcome) p.resolve(outcome.object);
      else p.reject(outcome.error);
    });
  }

  private async write(tx: SqlQueryable, ops: WriteOp[]) {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [WRITE_LOCK]);
    const { base, before } = await readKeys(
      tx,
      ops.flatMap((op) => (op.linked ? [op.key, op.linked.key] : [op.key])),
    );
    const state = new Map(before);
    const log: LogRow[] = [];
    let revision = base;
    const outcomes = ops.map((op) => {
      try {
        const id = keyId(op.key);
        const row = plan(op, state.get(id), revision + 1);
        const linked = op.linked && planLinked(op.linked, state.get(keyId(op.linked.key)), row.revision);
        for (const written of linked ? [row, linked] : [row]) {
          revision = written.revision;
          state.set(keyId(written.key), written.type === 'DELETED' ? undefined : written);
          log.push(written);
        }
        const object: StoredObject = {
          key: row.key,
          value: row.value,
          revision: row.revision,
          createRevision: row.createRevision,
        };
        return { object };
      } catch (error) {
        return { error };
      }
    });
    if (log.length > 0) {
      this.planned = log.reduce((sum, row) => sum + row.value.length + (row.prevValue?.length ?? 0), 0);
      await this.client.ensureSpace?.(this.planned * BYTES_PER_VALUE_BYTE);
      await persist(tx, log, state, before, revision, this.writerId);
    }
    const events = log.map(
      (row): WatchEvent => ({
        type: row.type,
        key: row.key,
        value: row.value,
        revision: row.revision,
        ...(row.type === 'DELETED'
          ? { prevValue: row.value }
          : row.prevValue === null
            ? {}
            : { prevValue: row.prevValue }),
      }),
    );
    return { outcomes, committed: { base, events } };
  }
}

function keyId(key: ObjectKey): string {
  return JSON.stringify([key.resource, key.namespace, key.name]);
}

/** Decides one op against the current state of its key; throws the op's StorageError or
 * its Encode's error. */
function plan(op: WriteOp, current: KeyState | undefined, revision: number): LogRow {
  const key: ObjectKey = { resource: op.key.resource, namespace: op.key.namespace, name: op.key.name };
  if (op.kind === 'create') {
    if (current) throw alreadyExists(key);
    return {
      key,
      type: 'ADDED',
      labels: op.labels,
      value: op.encode(revision),
      revision,
      createRevision: revision,
      prevValue: null,
    };
  }
  if (!current) throw notFound(key);
  if (op.expectedRevision !== undefined && op.expectedRevision !== current.revision) {
    throw conflict(key, op.expectedRevision, current.revision);
  }
  if (op.kind === 'update') {
    return {
      key,
      type: 'MODIFIED',
      labels: op.labels,
      value: op.encode(revision),
      revision,
      createRevision: current.createRevision,
      prevValue: current.value,
    };
  }
  return {
    key,
    type: 'DELETED',
    labels: current.labels,
    value: current.value,
    revision,
    createRevision: current.createRevision,
    prevValue: null,
  };
}

/** The row of `linked`, written after the op at `revision` (see LinkedWrite); undefined when it deletes a key
 * that is absent. Throws its Encode's error. */
function planLinked(linked: LinkedWrite, current: KeyState | undefined, revision: number): LogRow | undefined {
  const key: ObjectKey = { resource: linked.key.resource, namespace: linked.key.namespace, name: linked.key.name };
  const value = linked.encode(revision, current?.value);
  const next = revision + 1;
  const createRevision = current?.createRevision ?? next;
  if (value !== undefined) {
    const prevValue = current?.value ?? null;
    return { key, type: current ? 'MODIFIED' : 'ADDED', labels: {}, value, revision: next, createRevision, prevValue };
  }
  if (!current) return undefined;
  return { key, type: 'DELETED', labels: {}, value: current.value, revision: next, createRevision, prevValue: null };
}

/** After the write lock: the last revision given out, and the current state of `keys`. */
async function readKeys(tx: SqlQueryable, keys: ObjectKey[]) {
  const rows = await tx.query(
    `SELECT s.base, o.resource, o.namespace, o.name, o.labels, o.value, o.revision, o.create_revision
       FROM (SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS base FROM gatehouse_revision) s
       LEFT JOIN LATERAL (
         SELECT o.* FROM gatehouse_objects o
           JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(resource, namespace, name)
             ON o.resource = k.resource AND o.namespace = k.namespace AND o.name = k.name) o ON true`,
    [keys.map((k) => k.resource), keys.map((k) => k.namespace), keys.map((k) => k.name)],
  );
  const before = new Map<string, KeyState | undefined>();
  for (const row of rows) {
    if (row.name === null) continue;
    before.set(keyId({ resource: String(row.resource), namespace: String(row.namespace), name: String(row.name) }), {
      labels: row.labels as Record<string, string>,
      value: String(row.value),
      revision: Number(row.revision),
      createRevision: Number(row.create_revision),
    });
  }
  return { base: Number(rows[0].base), before };
}

/** Appends the log rows, brings gatehouse_objects to the final state of every key the
 * batch wrote, advances the sequence and notifies other processes (delivered on commit),
 * all in one statement (PostgreSQL runs every data-modifying WITH to completion, read or
 * not), so a batch costs the same round trips whatever its size. */
async function persist(
  tx: SqlQueryable,
  log: LogRow[],
  state: Map<string, KeyState | undefined>,
  before: Map<string, KeyState | undefined>,
  revision: number,
  writerId: string,
): Promise<void> {
  const written = new Map(log.map((r) => [keyId(r.key), r.key]));
  const upserts: Array<[ObjectKey, KeyState]> = [];
  const deletes: ObjectKey[] = [];
  for (const [id, key] of written) {
    const final = state.get(id);
    if (final) upserts.push([key, final]);
    else if (before.get(id)) deletes.push(key);
  }
  await tx.query(
    `WITH appended AS (
       INSERT INTO gatehouse_log (revision, resource, namespace, name, type, value, prev_value, labels, create_revision)
       SELECT revision, resource, namespace, name, type, value, prev_value, labels::jsonb, create_revision
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[])
           AS u(revision, resource, namespace, name, type, value, prev_value, labels, create_revision)
     ), upserted AS (
       INSERT INTO gatehouse_objects (resource, namespace, name, labels, value, revision, create_revision)
       SELECT resource, namespace, name, labels::jsonb, value, revision, create_revision
         FROM unnest($10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::bigint[], $16::bigint[])
           AS u(resource, namespace, name, labels, value, revision, create_revision)
       ON CONFLICT (resource, namespace, name) DO UPDATE SET labels = excluded.labels, value = excluded.value,
         revision = excluded.revision, create_revision = excluded.create_revision
     ), deleted AS (
       DELETE FROM gatehouse_objects o USING unnest($17::text[], $18::text[], $19::text[]) AS k(resource, namespace, name)
        WHERE o.resource = k.resource AND o.namespace = k.namespace AND o.name = k.name
     )
     SELECT setval('gatehouse_revision', $20), pg_notify($21, $22)`,
    [
      log.map((r) => r.revision),
      log.map((r) => r.key.resource),
      log.map((r) => r.key.namespace),
      log.map((r) => r.key.name),
      log.map((r) => r.type),
      log.map((r) => r.value),
      log.map((r) => r.prevValue),
      log.map((r) => JSON.stringify(r.labels)),
      log.map((r) => r.createRevision),
      upserts.map(([k]) => k.resource),
      upserts.map(([k]) => k.namespace),
      upserts.map(([k]) => k.name),
      upserts.map(([, s]) => JSON.stringify(s.labels)),
      upserts.map(([, s]) => s.value),
      upserts.map(([, s]) => s.revision),
      upserts.map(([, s]) => s.createRevision),
      deletes.map((k) => k.resource),
      deletes.map((k) => k.namespace),
      deletes.map((k) => k.name),
      revision,
      NOTIFY_CHANNEL,
      `${writerId}:${revision}`,
    ],
  );
}
