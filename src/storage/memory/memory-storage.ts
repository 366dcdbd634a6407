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
import { COUNTER_SWEEP_EVERY_MS, counterId, mergeIncrements } from '../counters.ts';
import { WatcherSet } from '../watch-channel.ts';
import { startAutoCompaction } from '../auto-compaction.ts';
import type { StorageLogger } from '../auto-compaction.ts';
import { RevisionLog, keyId, toEvent } from './revision-log.ts';
import type { LogEntry } from './revision-log.ts';
import { matchesFields } from '../field-selection.ts';
import { compareKeys, matchesLabels } from './selection.ts';
import { alreadyExists, conflict, expired, notFound, storageClosed } from '../storage-errors.ts';

export interface MemoryStorageOptions {
  /** Compaction period in milliseconds; 0 or undefined disables automatic compaction. */
  compactEvery?: number;
  logger?: StorageLogger;
}

interface Current {
  object: StoredObject;
  labels: Record<string, string>;
}

/** A single-process store: the reference semantics of the Storage contract. */
export class MemoryStorage implements Storage {
  private revision = 0;
  private compacted = 0;
  private closed = false;
  /** resource → keyId → current object. */
  private readonly objects = new Map<string, Map<string, Current>>();
  private readonly log = new RevisionLog();
  private readonly watchers = new WatcherSet();
  private readonly stopCompaction: () => void;
  /** counterId → counter. */
  private readonly counters = new Map<string, { value: number; expiresAt: number }>();
  private countersSwept = Date.now();

  constructor(options: MemoryStorageOptions = {}) {
    this.stopCompaction = options.compactEvery
      ? startAutoCompaction(this, options.compactEvery, options.logger)
      : () => {};
  }

  async create(key: ObjectKey, attrs: ObjectAttrs, encode: Encode, linked?: LinkedWrite): Promise<StoredObject> {
    this.ensureOpen();
    if (this.find(key)) throw alreadyExists(key);
    const revision = this.revision + 1;
    const object: StoredObject = { key: copyKey(key), value: encode(revision), revision, createRevision: revision };
    const commitLinked = this.planLinked(linked, revision);
    this.commit({
      type: 'ADDED',
      key: object.key,
      revision,
      createRevision: revision,
      labels: { ...attrs.labels },
      value: object.value,
      prevValue: undefined,
    });
    commitLinked();
    return object;
  }

  async get(key: ObjectKey): Promise<StoredObject> {
    this.ensureOpen();
    return this.existing(key, undefined).object;
  }

  async update(
    key: ObjectKey,
    expectedRevision: number | undefined,
    attrs: ObjectAttrs,
    encode: Encode,
    linked?: LinkedWrite,
  ): Promise<StoredObject> {
    this.ensureOpen();
    const old = this.existing(key, expectedRevision).object;
    const revision = this.revision + 1;
    const object: StoredObject = {
      key: old.key,
      value: encode(revision),
      revision,
      createRevision: old.createRevision,
    };
    const commitLinked = this.planLinked(linked, revision);
    this.commit({
      type: 'MODIFIED',
      key: old.key,
      revision,
      createRevision: old.createRevision,
      labels: { ...attrs.labels },
      value: object.value,
      prevValue: old.value,
    });
    commitLinked();
    return object;
  }

  async delete(key: ObjectKey, expectedRevision?: number, linked?: LinkedWrite): Promise<StoredObject> {
    this.ensureOpen();
    const old = this.existing(key, expectedRevision);
    const revision = this.revision + 1;
    const commitLinked = this.planLinked(linked, revision);
    this.commit({
      type: 'DELETED',
      key: old.object.key,
      revision,
      createRevision: old.object.createRevision,
      labels: old.labels,
      value: old.object.value,
      prevValue: old.object.value,
    });
    commitLinked();
    return { ...old.object, revision };
  }

  async list(options: ListOptions): Promise<ListResult> {
    this.ensureOpen();
    const revision = options.revision ?? this.revision;
    if (revision < this.compacted) throw expired(options.resource, revision, this.compacted);
    const candidates = this.log.writtenSince(options.resource, revision)
      ? this.log.snapshot(options.resource, revision).map(fromEntry)
      : [...(this.objects.get(options.resource)?.values() ?? [])];
    const after = options.after;
    const matching = candidates
      .filter(
        ({ object: { key, value }, labels }) =>
          (options.namespace === undefined || key.namespace === options.namespace) &&
          (after === undefined || compareKeys(key, after) > 0) &&
          matchesFields(options.fields ?? [], key, () => JSON.parse(value)) &&
          matchesLabels(labels, options.labels ?? []),
      )
      .sort((a, b) => compareKeys(a.object.key, b.object.key));
    const limit = options.limit || matching.length;
    const items = matching.slice(0, limit).map((c) => c.object);
    const remaining = matching.length - items.length;
    return { items, revision, more: remaining > 0, ...(remaining > 0 ? { remaining } : {}) };
  }

  async watch(options: WatchOptions): Promise<Watch> {
    this.ensureOpen();
    if (options.fromRevision < this.compacted) throw expired(options.resource, options.fromRevision, this.compacted);
    const channel = this.watchers.open(options);
    for (const entry of this.log.since(options.fromRevision)) {
      if (channel.matches(entry.key.resource, entry.key.namespace)) channel.replay(toEvent(entry));
    }
    return channel;
  }

  async currentRevision(): Promise<number> {
    this.ensureOpen();
    return this.revision;
  }

  async compactedRevision(): Promise<number> {
    this.ensureOpen();
    return this.compacted;
  }

  async compact(revision: number): Promise<void> {
    this.ensureOpen();
    const target = Math.min(revision, this.revision);
    if (target <= this.compacted) return;
    this.log.compact(target);
    this.compacted = target;
  }

  async addCounters(increments: readonly CounterIncrement[]): Promise<number[]> {
    this.ensureOpen();
    const now = Date.now();
    if (now - this.countersSwept >= COUNTER_SWEEP_EVERY_MS) {
      this.countersSwept = now;
      for (const [id, counter] of this.counters) if (counter.expiresAt <= now) this.counters.delete(id);
    }
    const { counters, positions } = mergeIncrements(increments);
    const totals = counters.map((inc) => {
      const id = counterId(inc.key, inc.window);
      const counter = this.counters.get(id);
      if (!counter || counter.expiresAt <= now) {
        this.counters.set(id, { value: inc.delta, expiresAt: inc.expiresAt });
        return inc.delta;
      }
      counter.value += inc.delta;
      counter.expiresAt = Math.max(counter.expiresAt, inc.expiresAt);
      return counter.value;
    });
    return positions.map((i) => totals[i]);
  }

  async checkWritable(): Promise<void> {
    if (this.closed) throw storageClosed();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopCompaction();
    this.watchers.failAll(storageClosed());
  }

  /** Encodes `linked` for the write at `revision` before anything is committed (its throw fails the write);
   * the returned function commits it, at the next revision. */
  private planLinked(linked: LinkedWrite | undefined, revision: number): () => void {
    if (!linked) return () => {};
    const current = this.find(linked.key);
    const value = linked.encode(revision, current?.object.value);
    return () => {
      const next = revision + 1;
      const createRevision = current?.object.createRevision ?? next;
      const key = copyKey(linked.key);
      if (value !== undefined) {
        const type = current ? 'MODIFIED' : 'ADDED';
        this.commit({ type, key, revision: next, createRevision, labels: {}, value, prevValue: current?.object.value });
      } else if (current) {
        const { value: last } = current.object;
        this.commit({ type: 'DELETED', key, revision: next, createRevision, labels: {}, value: last, prevValue: last });
      }
    };
  }

  private commit(entry: LogEntry): void {
    const byKey = this.objects.get(entry.key.resource) ?? new Map<string, Current>();
    this.objects.set(entry.key.resource, byKey);
    if (entry.type === 'DELETED') byKey.delete(keyId(entry.key));
    else byKey.set(keyId(entry.key), fromEntry(entry));
    this.revision = entry.revision;
    this.log.append(entry);
    this.watchers.publish(toEvent(entry));
  }

  private find(key: ObjectKey): Current | undefined {
    return this.objects.get(key.resource)?.get(keyId(key));
  }

  private existing(key: ObjectKey, expectedRevision: number | undefined): Current {
    const current = this.find(key);
    if (!current) throw notFound(key);
    if (expectedRevision !== undefined && current.object.revision !== expectedRevision) {
      throw conflict(key, expectedRevision, current.object.revision);
    }
    return current;
  }

  private ensureOpen(): void {
    if (this.closed) throw storageClosed();
  }
}

function fromEntry(entry: LogEntry): Current {
  return {
    object: { key: entry.key, value: entry.value, revision: entry.revision, createRevision: entry.createRevision },
    labels: entry.labels,
  };
}

function copyKey(key: ObjectKey): ObjectKey {
  return { resource: key.resource, namespace: key.namespace, name: key.name };
}
