import { randomUUID } from 'node:crypto';
import { StorageError } from '../storage.ts';
import type {
  CounterIncrement,
  Encode,
  LinkedWrite,
  ListOptions,
  ListResult,
  ObjectAttrs,
  ObjectKey,
  Storage,
  StoredObject,
  Watch,
  WatchOptions,
} from '../storage.ts';
import { COUNTER_SWEEP_EVERY_MS } from '../counters.ts';
import { startAutoCompaction } from '../auto-compaction.ts';
import type { StorageLogger } from '../auto-compaction.ts';
import { expired, notFound, storageClosed } from '../storage-errors.ts';
import { addCounters, deleteExpiredCounters } from './counters.ts';
import { translateSqlError } from './errors.ts';
import { GroupCommitWriter } from './group-commit.ts';
import { buildListQuery } from './list-query.ts';
import { toStoredObject } from './rows.ts';
import { NOTIFY_CHANNEL, ensureSchema } from './schema.ts';
import type { SqlClient, SqlQueryable, SqlRow } from './sql-client.ts';
import { WatchFeed } from './watch-feed.ts';

export interface SqlStorageOptions {
  /** Compaction period in milliseconds; 0 or undefined disables automatic compaction. */
  compactEvery?: number;
  logger?: StorageLogger;
}

/** The revision of the latest committed write, and the compacted revision. The latest
 * log row may be a delete that compaction dropped, hence greatest() with `compacted`. */
const REVISIONS = `SELECT greatest(coalesce((SELECT max(revision) FROM gatehouse_log), 0), compacted) AS current, compacted
  FROM gatehouse_meta`;

/** The Storage of PGlite and PostgreSQL: one implementation over a SqlClient. The client
 * is owned: close() closes it. */
export class SqlStorage implements Storage {
  private closed = false;
  private readonly writer: GroupCommitWriter;
  private readonly listening: Promise<void> | undefined;
  private stopCompaction: () => void = () => {};
  private countersSwept = Date.now();

  private constructor(
    private readonly client: SqlClient,
    private readonly feed: WatchFeed,
    options: SqlStorageOptions,
  ) {
    const writerId = randomUUID();
    this.writer = new GroupCommitWriter(client, writerId, (batch) => feed.committed(batch));
    this.listening = client.listen?.(NOTIFY_CHANNEL, {
      notify: (payload) => {
        const [from, revision] = payload.split(':');
        if (from !== writerId) feed.notified(Number(revision));
      },
      lost: (err) => {
        options.logger?.warn({ err }, 'storage change notifications lost; watches end');
        feed.lost(
          new StorageError('Unavailable', 'storage change notifications were interrupted', undefined, { cause: err }),
        );
      },
      restored: () => feed.catchUpLater(),
    });
  }

  static async open(client: SqlClient, options: SqlStorageOptions = {}): Promise<SqlStorage> {
    try {
      await ensureSchema(client);
      const [row] = await client.query(REVISIONS);
      const storage = new SqlStorage(client, new WatchFeed(client, Number(row.current)), options);
      await storage.listening;
      // Writes between reading the revision and LISTEN starting sent no notification we heard.
      storage.feed.catchUpLater();
      if (options.compactEvery)
        storage.stopCompaction = startAutoCompaction(storage, options.compactEvery, options.logger);
      return storage;
    } catch (err) {
      await client.close().catch(() => undefined);
      throw translateSqlError(err, 'opening storage');
    }
  }

  create(key: ObjectKey, attrs: ObjectAttrs, encode: Encode, linked?: LinkedWrite): Promise<StoredObject> {
    return this.write({ kind: 'create', key, labels: attrs.labels, encode, linked });
  }

  get(key: ObjectKey): Promise<StoredObject> {
    return this.read(`reading ${key.resource} ${key.name}`, async () => {
      const [row] = await this.client.query(
        'SELECT namespace, name, value, revision, create_revision FROM gatehouse_objects WHERE resource = $1 AND namespace = $2 AND name = $3',
        [key.resource, key.namespace, key.name],
      );
      if (!row) throw notFound(key);
      return toStoredObject(key.resource, row);
    });
  }

  update(
    key: ObjectKey,
    expectedRevision: number | undefined,
    attrs: ObjectAttrs,
    encode: Encode,
    linked?: LinkedWrite,
  ): Promise<StoredObject> {
    return this.write({ kind: 'update', key, expectedRevision, labels: attrs.labels, encode, linked });
  }

  delete(key: ObjectKey, expectedRevision?: number, linked?: LinkedWrite): Promise<StoredObject> {
    return this.write({ kind: 'delete', key, expectedRevision, linked });
  }

  list(options: ListOptions): Promise<ListResult> {
    return this.read(`listing ${options.resource}`, async () => {
      const snapshot = options.revision;
      const withCount = (options.limit ?? 0) > 0;
      let rows = await this.query(buildListQuery(options, 'objects', withCount));
      let head = rows[0];
      if (snapshot !== undefined && snapshot < Number(head.compacted)) {
        throw expired(options.resource, snapshot, Number(head.compacted));
      }
      // The current table is the snapshot unless the resource was written since.
      if (snapshot !== undefined && Number(head.last_write) > snapshot) {
        rows = await this.query(buildListQuery(options, 'log', false));
        head = rows[0];
        if (snapshot < Number(head.compacted)) throw expired(options.resource, snapshot, Number(head.compacted));
      }
      const found = rows.filter((r) => r.name !== null).map((r) => toStoredObject(options.resource, r));
      const more = options.limit ? found.length > options.limit : false;
      const items = more ? found.slice(0, options.limit) : found;
      const total = head.total === null ? undefined : Number(head.total);
      const remaining = more && total !== undefined ? total - items.length : undefined;
      return {
        items,
        revision: snapshot ?? Number(head.current),
        more,
        ...(remaining === undefined ? {} : { remaining }),
      };
    });
  }

  watch(options: WatchOptions): Promise<Watch> {
    return this.read(`watching ${options.resource}`, () => this.feed.watch(options));
  }

  currentRevision(): Promise<number> {
    return this.read('reading the current revision', async () => {
      const [row] = await this.client.query(REVISIONS);
      return Number(row.current);
    });
  }

  compactedRevision(): Promise<number> {
    return this.read('reading the compacted revision', async () => {
      const [row] = await this.client.query(REVISIONS);
      return Number(row.compacted);
    });
  }

  /** Keeps, for each key, its latest log row at or below the target unless it is a
   * delete (kine's rule), so a snapshot read at or after the target still finds every
   * object that existed then. Writers are not blocked: they only append above it. */
  compact(revision: number): Promise<void> {
    return this.read(`compacting to revision ${revision}`, () =>
      this.client.transaction(async (tx) => {
        await this.client.ensureSpace?.(0);
        // FOR UPDATE: concurrent compactions of several processes take turns.
        const [head] = await tx.query(`${REVISIONS} FOR UPDATE`);
        const target = Math.min(revision, Number(head.current));
        if (target <= Number(head.compacted)) return;
        await tx.query(
          `DELETE FROM gatehouse_log l WHERE l.revision <= $1 AND (l.type = 'DELETED' OR EXISTS (
           SELECT 1 FROM gatehouse_log n WHERE n.resource = l.resource AND n.namespace = l.namespace
              AND n.name = l.name AND n.revision > l.revision AND n.revision <= $1))`,
          [target],
        );
        await tx.query('UPDATE gatehouse_meta SET compacted = $1', [target]);
      }),
    );
  }

  addCounters(increments: readonly CounterIncrement[]): Promise<number[]> {
    return this.read(`adding to ${increments.length} counters`, () => {
      const add = async (q: SqlQueryable) => {
        const now = Date.now();
        if (now - this.countersSwept >= COUNTER_SWEEP_EVERY_MS) {
          this.countersSwept = now;
          await deleteExpiredCounters(q, now);
        }
        return addCounters(q, increments, now);
      };
      const { ensureSpace } = this.client;
      if (!ensureSpace) return add(this.client);
      // The check and the write in one transaction, as ensureSpace requires.
      return this.client.transaction(async (tx) => {
        await ensureSpace(0);
        return add(tx);
      });
    });
  }

  checkWritable(): Promise<void> {
    return this.read('checking that writes commit', async () => {
      await this.client.ensureSpace?.(0);
      await this.writer.checkWritable();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopCompaction();
    await this.writer.idle();
    this.feed.failAll(storageClosed());
    await this.client.close();
  }

  private write(op: Parameters<GroupCommitWriter['submit']>[0]): Promise<StoredObject> {
    if (this.closed) return Promise.reject(storageClosed());
    return this.writer.submit(op);
  }

  private query(q: { text: string; params: unknown[] }): Promise<SqlRow[]> {
    return this.client.query(q.text, q.params);
  }

  /** Runs work outside the revisioned write path (reads, compaction, counters) and
   * translates its SQL errors. */
  private async read<T>(doing: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw storageClosed();
    try {
      return await fn();
    } catch (err) {
      throw translateSqlError(err, doing);
    }
  }
}
