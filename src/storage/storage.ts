// The storage contract the API server's registry needs, and nothing more (kine's lesson):
// keys, opaque JSON text, one monotonic revision, an append-only log that feeds watch,
// and compaction. Storage knows no kinds. The only structure it sees is what the caller
// hands it to filter on in the database: the object's namespace, name and labels, and paths
// into the stored JSON that a field selector names.

/** Identity of one stored object. `resource` is an opaque prefix chosen by the caller
 * (e.g. `gatehouse.dev/apidefinitions`); `namespace` is '' for cluster-scoped objects. */
export interface ObjectKey {
  resource: string;
  namespace: string;
  name: string;
}

/** What storage indexes beside the value so selection happens in the database. */
export interface ObjectAttrs {
  labels: Record<string, string>;
}

/**
 * Produces the JSON text to store, given the revision the write will get. The caller
 * embeds that revision (as metadata.resourceVersion) so reads return the text untouched.
 * Called exactly once per successful write attempt, inside the write, so it must be pure
 * and fast. It may throw to abort the write; the error is rethrown to the caller.
 */
export type Encode = (revision: number) => string;

/**
 * A write of another key committed with an object's write, in the same transaction, at the next revision: a
 * record derived from the write (an ApiDefinition's history) that can neither miss a write nor outlive one
 * that failed. `encode` gets the revision of the object's write and the key's current value (undefined when
 * absent) and returns its new value, or undefined to delete it (nothing is written when it is absent). Called
 * inside the write as Encode is; a throw fails the object's write too. The key has no labels.
 */
export interface LinkedWrite {
  key: ObjectKey;
  encode(revision: number, current: string | undefined): string | undefined;
}

export interface StoredObject {
  key: ObjectKey;
  /** JSON text as produced by Encode. */
  value: string;
  /** Revision of the write that produced `value` (its resourceVersion). */
  revision: number;
  /** Revision of the write that created the object. */
  createRevision: number;
}

export type LabelOperator = 'in' | 'notin' | 'exists' | '!';

/** One requirement of a Kubernetes label selector. `=`/`==` are `in` with one value,
 * `!=` is `notin` with one value, `key` is `exists`, `!key` is `!`. */
export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

/** One requirement of a field selector. `name` and `namespace` compare the key. `json` compares
 * a value read from the stored JSON text: the first of `paths` (each a list of object keys)
 * that holds a non-empty string, number or boolean, as text; '' when none does. Paths name
 * scalar fields (CRD `selectableFields` semantics); which ones is the caller's business. */
export type FieldRequirement = { operator: '=' | '!='; value: string } & (
  | { field: 'name' | 'namespace' }
  | { field: 'json'; paths: string[][] }
);

export interface ListOptions {
  resource: string;
  /** Restricts to one namespace; undefined lists across all namespaces. */
  namespace?: string;
  labels?: LabelRequirement[];
  fields?: FieldRequirement[];
  /** Maximum number of items; 0 or undefined means all. */
  limit?: number;
  /** Resume after this (namespace, name), reading the snapshot at `revision`. */
  after?: { namespace: string; name: string };
  /** Snapshot revision to read at (from a continue token). Older than the compaction
   * window → StorageError 'Expired'. Undefined reads the latest state. */
  revision?: number;
}

export interface ListResult {
  items: StoredObject[];
  /** The snapshot revision the list reflects. */
  revision: number;
  /** Present when more items match after the last one returned. */
  more: boolean;
  /** Count of matching items after the last one returned, when known. */
  remaining?: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent {
  type: WatchEventType;
  key: ObjectKey;
  /** The object after the write; for DELETED the last stored value. */
  value: string;
  /** The object before the write (MODIFIED, DELETED); lets callers filtering by labels
   * turn an update that leaves the selection into a DELETED. */
  prevValue?: string;
  revision: number;
}

export interface WatchOptions {
  resource: string;
  namespace?: string;
  /** Deliver every event with revision > fromRevision, in revision order, without gaps
   * or duplicates, then live events. Older than the compaction window → 'Expired'. */
  fromRevision: number;
}

/** A live watch. Events arrive through the async iterator; `close()` ends it. When the
 * watch cannot continue (store closed, watcher too slow) the iterator throws a StorageError. */
export interface Watch extends AsyncIterable<WatchEvent> {
  close(): void;
}

/** One increment of a windowed counter, the state behind rate limits and quotas shared by
 * several gateway processes. Counters are not objects: no revision, watch or compaction. */
export interface CounterIncrement {
  /** Opaque name chosen by the caller. */
  key: string;
  /** Start of the counter's window, epoch milliseconds; with `key` it names one counter. */
  window: number;
  /** Added to the counter, a non-negative integer; 0 reads it. */
  delta: number;
  /** Epoch milliseconds (storage's clock) from which the counter is forgotten: an increment
   * then starts it again from zero, and storage deletes it at leisure. An increment never
   * brings a live counter's expiry closer. */
  expiresAt: number;
}

export interface Storage {
  /** Fails with 'AlreadyExists'. `linked` is written with it (see LinkedWrite), as in update and delete. */
  create(key: ObjectKey, attrs: ObjectAttrs, encode: Encode, linked?: LinkedWrite): Promise<StoredObject>;
  /** Fails with 'NotFound'. */
  get(key: ObjectKey): Promise<StoredObject>;
  /** Replaces the value. With `expectedRevision`, fails with 'Conflict' when the stored
   * revision differs. Fails with 'NotFound' when the object does not exist. */
  update(
    key: ObjectKey,
    expectedRevision: number | undefined,
    attrs: ObjectAttrs,
    encode: Encode,
    linked?: LinkedWrite,
  ): Promise<StoredObject>;
  /** Removes the object; returns the last stored value with the revision of the delete.
   * Fails with 'NotFound' or, with `expectedRevision`, 'Conflict'. */
  delete(key: ObjectKey, expectedRevision?: number, linked?: LinkedWrite): Promise<StoredObject>;
  list(options: ListOptions): Promise<ListResult>;
  watch(options: WatchOptions): Promise<Watch>;
  /** The revision of the latest write (0 for an empty store). */
  currentRevision(): Promise<number>;
  /** The oldest revision a watch or list may still start from. */
  compactedRevision(): Promise<number>;
  /** Drops log entries at or below `revision`; watches and snapshot lists from before it
   * then fail with 'Expired'. */
  compact(revision: number): Promise<void>;
  /** Applies every increment atomically and returns each counter's total after the batch,
   * in the order given. Increments naming the same counter are summed and report the same
   * total. Persistent drivers keep counters across a restart. */
  addCounters(increments: readonly CounterIncrement[]): Promise<number[]>;
  /** Resolves when a write would be stored now; otherwise fails with 'Unavailable' saying
   * why (a full disk, a database refusing writes). Reads may still be served meanwhile. */
  checkWritable(): Promise<void>;
  close(): Promise<void>;
}

export type StorageErrorCode = 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Expired' | 'Unavailable' | 'Internal';

/** The only error storage throws. Callers branch on `code`, never on the message. */
export class StorageError extends Error {
  readonly code: StorageErrorCode;
  readonly key: ObjectKey | undefined;
  constructor(code: StorageErrorCode, message: string, key?: ObjectKey, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
    this.code = code;
    this.key = key;
  }
}

export function isStorageError(err: unknown, code?: StorageErrorCode): err is StorageError {
  return err instanceof StorageError && (code === undefined || err.code === code);
}
