import type { Watch, WatchEvent, WatchOptions } from '../storage.ts';
import { StorageError } from '../storage.ts';
import { expired } from '../storage-errors.ts';
import { WatcherSet } from '../watch-channel.ts';
import type { CommittedBatch } from './group-commit.ts';
import { translateSqlError } from './errors.ts';
import { LOG_EVENT_COLUMNS, toWatchEvent } from './rows.ts';
import type { SqlQueryable } from './sql-client.ts';

const PAGE = 1000;

/**
 * Feeds the watchers of one process from the log. `delivered` is the revision up to
 * which every committed write has been published; since writes commit in revision order
 * (the advisory write lock), reading `revision > delivered` never skips one. Work runs
 * one task at a time so replays, local batches and catch-up reads never interleave.
 */
export class WatchFeed {
  private readonly watchers = new WatcherSet();
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;

  constructor(
    private readonly db: SqlQueryable,
    private delivered: number,
  ) {}

  /** A batch this process committed. Published at once when nothing is pending and it
   * follows what was delivered; otherwise, the log is read up to it. */
  committed(batch: CommittedBatch): void {
    if (this.queued === 0 && batch.base === this.delivered) {
      this.publish(batch.events);
      return;
    }
    const last = batch.events[batch.events.length - 1].revision;
    void this.enqueue(async () => {
      if (this.delivered >= last) return;
      if (batch.base === this.delivered) this.publish(batch.events);
      else await this.catchUp();
    });
  }

  /** Another process committed up to `revision`. */
  notified(revision: number): void {
    if (revision > this.delivered) this.catchUpLater();
  }

  /** Notifications may have been missed: watchers must re-list. */
  lost(error: StorageError): void {
    void this.enqueue(async () => this.watchers.failAll(error));
  }

  catchUpLater(): void {
    void this.enqueue(() => this.catchUp());
  }

  watch(options: WatchOptions): Promise<Watch> {
    return this.enqueue(async () => {
      const until = this.delivered;
      const rows = options.fromRevision < until ? await this.replayRows(options, until) : [];
      const compacted = await this.compacted();
      // Read after the rows: compaction only moves forward, so if it is not past
      // fromRevision now, it was not while the rows were read.
      if (options.fromRevision < compacted) throw expired(options.resource, options.fromRevision, compacted);
      const channel = this.watchers.open(options);
      for (const row of rows) channel.replay(toWatchEvent(row));
      return channel;
    });
  }

  failAll(error: StorageError): void {
    this.watchers.failAll(error);
  }

  private publish(events: WatchEvent[]): void {
    for (const event of events) this.watchers.publish(event);
    this.delivered = Math.max(this.delivered, events[events.length - 1].revision);
  }

  /** Never rejects: a failed read ends the watches, whose clients re-list. */
  private async catchUp(): Promise<void> {
    try {
      for (;;) {
        const from = this.delivered;
        const rows = await this.db.query(
          `SELECT ${LOG_EVENT_COLUMNS} FROM gatehouse_log WHERE revision > $1 ORDER BY revision LIMIT ${PAGE}`,
          [from],
        );
        const compacted = await this.compacted();
        if (compacted > from) {
          this.watchers.failAll(
            new StorageError('Expired', `watch events after revision ${from} were compacted before delivery`),
          );
          this.delivered = Math.max(this.delivered, compacted);
        }
        if (rows.length > 0) this.publish(rows.map(toWatchEvent));
        if (rows.length < PAGE) return;
      }
    } catch (err) {
      this.watchers.failAll(translateSqlError(err, 'reading the revision log for watchers'));
    }
  }

  private replayRows(options: WatchOptions, until: number) {
    const params: unknown[] = [options.resource, options.fromRevision, until];
    const namespace = options.namespace === undefined ? '' : ` AND namespace = $${params.push(options.namespace)}`;
    return this.db
      .query(
        `SELECT ${LOG_EVENT_COLUMNS} FROM gatehouse_log
        WHERE resource = $1 AND revision > $2 AND revision <= $3${namespace} ORDER BY revision`,
        params,
      )
      .catch((err: unknown) => {
        throw translateSqlError(err, `replaying the watch of ${options.resource}`);
      });
  }

  private async compacted(): Promise<number> {
    const [row] = await this.db.query('SELECT compacted FROM gatehouse_meta');
    return Number(row.compacted);
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    this.queued++;
    const run = this.tail.then(task).finally(() => {
      this.queued--;
    });
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}
