import type { ObjectKey, WatchEvent, WatchEventType } from '../storage.ts';

/** One write as the log keeps it: the event plus what a snapshot read needs. */
export interface LogEntry {
  type: WatchEventType;
  key: ObjectKey;
  revision: number;
  createRevision: number;
  labels: Record<string, string>;
  /** For DELETED, the last stored value. */
  value: string;
  prevValue: string | undefined;
}

export function keyId(key: Pick<ObjectKey, 'namespace' | 'name'>): string {
  return `${key.namespace}\u0000${key.name}`;
}

export function toEvent(entry: LogEntry): WatchEvent {
  return {
    type: entry.type,
    key: entry.key,
    value: entry.value,
    revision: entry.revision,
    ...(entry.prevValue === undefined ? {} : { prevValue: entry.prevValue }),
  };
}

/** The append-only revision log, ascending by revision. */
export class RevisionLog {
  private entries: LogEntry[] = [];
  /** Revision of the last write of each resource; decides whether a snapshot read can
   * use the current objects. */
  private readonly lastWrite = new Map<string, number>();

  append(entry: LogEntry): void {
    this.entries.push(entry);
    this.lastWrite.set(entry.key.resource, entry.revision);
  }

  writtenSince(resource: string, revision: number): boolean {
    return (this.lastWrite.get(resource) ?? 0) > revision;
  }

  /** Entries with revision > `after`, in order. */
  *since(after: number): Iterable<LogEntry> {
    for (let i = this.firstAfter(after); i < this.entries.length; i++) yield this.entries[i];
  }

  /** The latest entry per key of `resource` at or below `revision`, deletes excluded:
   * the objects that existed at that revision. */
  snapshot(resource: string, revision: number): LogEntry[] {
    const latest = new Map<string, LogEntry>();
    for (let i = 0; i < this.entries.length && this.entries[i].revision <= revision; i++) {
      const entry = this.entries[i];
      if (entry.key.resource === resource) latest.set(keyId(entry.key), entry);
    }
    return [...latest.values()].filter((e) => e.type !== 'DELETED');
  }

  /** Drops the entries at or below `revision` that a snapshot at or after it cannot need:
   * those superseded by a later entry of the same key at or below it, and deletes. */
  compact(revision: number): void {
    const end = this.firstAfter(revision);
    const latest = new Map<string, LogEntry>();
    for (let i = 0; i < end; i++) {
      const entry = this.entries[i];
      latest.set(`${entry.key.resource}\u0000${keyId(entry.key)}`, entry);
    }
    const kept = [...latest.values()].filter((e) => e.type !== 'DELETED').sort((a, b) => a.revision - b.revision);
    this.entries = kept.concat(this.entries.slice(end));
  }

  private firstAfter(revision: number): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid].revision <= revision) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
