// Who owns which fields, and how a write changes that: structured-merge-diff's merge/
// Updater. An Update takes every field it adds or changes away from the other managers,
// never failing; an Apply does the same only when forced, and otherwise fails with one
// conflict per field another manager owns and the apply would change. A manager is known
// by name, operation and subresource (and, for Update, the API version), as kube's
// BuildManagerIdentifier keys them.
import { isDeepStrictEqual } from 'node:util';
import type { JSONSchema } from '../kind.ts';
import type { FieldPath } from './field-set.ts';
import { FieldSet } from './field-set.ts';
import { compare, duplicateItems, fieldsOf, merge, removeFields, type Comparison } from './typed.ts';

export type Operation = 'Apply' | 'Update';

export interface ManagerIdentity {
  manager: string;
  operation: Operation;
  apiVersion: string;
  subresource?: string;
}

export interface ManagedEntry extends ManagerIdentity {
  /** RFC 3339, seconds: when the manager last changed the object. */
  time?: string;
  fields: FieldSet;
}

/** Entries by identity key. */
export type Managers = Map<string, ManagedEntry>;

export function identityKey(id: ManagerIdentity): string {
  const apiVersion = id.operation === 'Update' ? id.apiVersion : '';
  return JSON.stringify([id.manager, id.operation, apiVersion, id.subresource ?? '']);
}

export interface Conflict {
  manager: ManagerIdentity & { time?: string };
  path: FieldPath;
}

export class ApplyConflictError extends Error {
  readonly conflicts: Conflict[];
  constructor(conflicts: Conflict[]) {
    super(`apply failed with ${conflicts.length} conflict(s)`);
    this.name = 'ApplyConflictError';
    this.conflicts = conflicts;
  }
}

/** The other managers after a write described by `comparison`: they lose the fields it
 * added, changed or removed. Without `force`, losing an added or changed field is a conflict. */
function takeOver(managers: Managers, self: string, comparison: Comparison, force: boolean): Managers {
  const changed = comparison.modified.union(comparison.added);
  const conflicts: Conflict[] = [];
  const next: Managers = new Map();
  const keys = [...managers.keys()].sort();
  for (const key of keys) {
    const entry = managers.get(key) as ManagedEntry;
    if (key === self) {
      next.set(key, entry);
      continue;
    }
    const lost = entry.fields.intersection(changed);
    for (const path of lost.paths()) conflicts.push({ manager: entry, path });
    const fields = entry.fields.difference(lost).difference(comparison.removed);
    if (!fields.isEmpty()) next.set(key, { ...entry, fields });
  }
  if (!force && conflicts.length) throw new ApplyConflictError(conflicts);
  return next;
}

/** Records an Update from `live` to `next` (both as tracked, see the field manager) by `self`.
 * The manager's entry grows by what it added or changed and gets `now` only when it took anything. */
export function recordUpdate(
  schema: JSONSchema,
  live: unknown,
  next: unknown,
  managers: Managers,
  self: ManagerIdentity,
  now: string,
): Managers {
  const comparison = compare(schema, live, next);
  const result = takeOver(managers, '', comparison, true);
  const taken = comparison.modified.union(comparison.added).difference(comparison.removed);
  if (taken.isEmpty()) return result;
  const key = identityKey(self);
  const previous = result.get(key);
  result.set(key, { ...self, time: now, fields: previous ? taken.union(previous.fields) : taken });
  return result;
}

export interface ApplyResult {
  /** The tracked part of the live object with the configuration merged in. */
  object: unknown;
  managers: Managers;
}

/** Applies `config` to `live` (both as tracked) for `self` (structured-merge-diff's Updater.Apply):
 * merges, takes over or conflicts, then removes the fields `self` applied last time and no
 * longer does, unless another manager owns them. The manager then owns exactly what it applied. */
export function applyConfig(
  schema: JSONSchema,
  live: unknown,
  config: unknown,
  managers: Managers,
  self: ManagerIdentity,
  force: boolean,
  now: string,
): ApplyResult {
  const key = identityKey(self);
  const applied = fieldsOf(schema, config);
  let object = merge(schema, live, config);
  const result = takeOver(managers, key, compare(schema, live, object), force);
  const previous = managers.get(key);
  if (previous) {
    const others = [...result].filter(([k]) => k !== key).map(([, entry]) => entry.fields);
    const dropped = FieldSet.of(
      previous.fields
        .difference(applied)
        .paths()
        .filter((path) => !applied.touches(path) && !others.some((fields) => fields.touches(path))),
    );
    object = removeFields(schema, object, dropped);
  }
  // As kube's managedFieldsUpdater: an apply that changes nothing keeps the manager's time.
  const unchanged = previous !== undefined && isDeepStrictEqual(live, object);
  result.set(key, { ...self, time: unchanged ? previous.time : now, fields: applied });
  return { object, managers: result };
}

/** Whether applying `config` to `live` (both as tracked) changes nothing for a manager whose entry holds `owned`:
 * it applies the same fields again, none of them repeated, and merging it changes no value. applyConfig then returns
 * `live` as it was and keeps the entry and its time, so the write stores nothing; a client that knows the live
 * object need not send it. */
export function appliesNothing(schema: JSONSchema, live: unknown, config: unknown, owned: FieldSet): boolean {
  return (
    owned.equals(fieldsOf(schema, config)) &&
    duplicateItems(schema, config).length === 0 &&
    isDeepStrictEqual(merge(schema, live, config), live)
  );
}

/** kube's DefaultMaxUpdateManagers: Update entries kept apart; older ones merge into per-version buckets. */
export const MAX_UPDATE_MANAGERS = 10;
/** The manager the oldest Update entries merge into (kube's oldUpdatesManagerName). */
export const ANCIENT_CHANGES = 'ancient-changes';

/**
 * kube's capManagersManager: with more than `max` Update entries, the oldest (by time, then manager) merge
 * into an `ancient-changes` Update entry of their API version until at most `max` are left. As in kube, the
 * first oldest entry of a version stays as it is until a second one of that version needs merging; the bucket
 * then takes both, with the time of the newer.
 */
export function capUpdateManagers(managers: Managers, max = MAX_UPDATE_MANAGERS): Managers {
  const updaters = [...managers.entries()].filter(([, e]) => e.operation === 'Update');
  if (updaters.length <= max) return managers;
  const seconds = (e: ManagedEntry) => (e.time ? Math.floor(Date.parse(e.time) / 1000) : 0);
  updaters.sort(
    ([, p], [, q]) => seconds(p) - seconds(q) || (p.manager < q.manager ? -1 : p.manager > q.manager ? 1 : 0),
  );
  const result: Managers = new Map(managers);
  const firstOfVersion = new Map<string, string>();
  let length = updaters.length;
  for (const [key, entry] of updaters) {
    if (length <= max) break;
    const first = firstOfVersion.get(entry.apiVersion);
    if (first === undefined) {
      firstOfVersion.set(entry.apiVersion, key);
      continue;
    }
    const bucket: ManagerIdentity = { manager: ANCIENT_CHANGES, operation: 'Update', apiVersion: entry.apiVersion };
    const bucketKey = identityKey(bucket);
    if (!result.has(bucketKey)) {
      const moved = result.get(first) as ManagedEntry;
      result.delete(first);
      result.set(bucketKey, { ...bucket, ...(moved.time ? { time: moved.time } : {}), fields: moved.fields });
    }
    const held = result.get(bucketKey) as ManagedEntry;
    result.set(bucketKey, {
      ...held,
      ...(entry.time ? { time: entry.time } : {}),
      fields: entry.fields.union(held.fields),
    });
    result.delete(key);
    length--;
  }
  return result;
}
