// What an apply did, as Flux's ssa.ChangeSet reports it: one entry per object with its
// action, counts per action, and the inventory to record for the next prune.
import type { InventoryEntry } from '../../api/kinds/sync/types.ts';

export type ChangeAction = 'created' | 'configured' | 'unchanged' | 'deleted';

export interface ChangeSetEntry {
  /** Inventory id, `<namespace>_<name>_<group>_<kind>`. */
  id: string;
  /** API version the object was applied (or deleted) with. */
  v: string;
  kind: string;
  /** Absent for cluster-scoped kinds. */
  namespace?: string;
  name: string;
  action: ChangeAction;
  /** For 'configured': the field paths written, e.g. `spec.upstream.targets[0].url`. */
  fields?: string[];
  /** resourceVersion of the object as stored after the apply; absent for 'deleted'. A later
   * change of it means someone else wrote the object. */
  resourceVersion?: string;
  /** metadata.generation as stored after the apply, for kinds that have one. */
  generation?: number;
}

/** An object the apply left alone on purpose, with the reason (for events and status). */
export interface SkippedObject {
  id: string;
  kind: string;
  namespace?: string;
  name: string;
  reason: string;
}

export interface ChangeSet {
  /** Applied objects in apply order, then deleted ones in prune order. */
  entries: ChangeSetEntry[];
  counts: Record<ChangeAction, number>;
  /** The objects of this apply, and any namespace prune kept because others still use it,
   * sorted by id: the Sync's next status.inventory.entries. */
  inventory: InventoryEntry[];
  /** Inventory objects prune did not delete: relabelled, owned by another Sync, a
   * namespace still holding other objects, or of a kind the server does not serve. */
  skipped: SkippedObject[];
  /** Objects not applied because a user overrode them (their reason is the override-reason annotation). */
  overridden: SkippedObject[];
}

export function countActions(entries: readonly ChangeSetEntry[]): Record<ChangeAction, number> {
  const counts: Record<ChangeAction, number> = { created: 0, configured: 0, unchanged: 0, deleted: 0 };
  for (const entry of entries) counts[entry.action]++;
  return counts;
}
