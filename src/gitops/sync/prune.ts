// Pruning is an inventory diff: what the last apply recorded and this one no longer has.
// An object is deleted only while it still carries both labels naming this Sync — one
// whose labels were removed or now name another Sync was handed over, and is left alone
// and reported. A Namespace is deleted only when nothing but this Sync's pruned objects is
// left in it, because deleting a namespace deletes everything inside.
import type { KindDefinition, KubeObject } from '../../api/kind.ts';
import { allKinds } from '../../api/kinds.ts';
import type { InventoryEntry } from '../../api/kinds/sync/types.ts';
import type { KubeClient } from '../../client/rest.ts';
import type { SkippedObject } from './change-set.ts';
import { describeObject, formatId, parseId, type ObjectIdentity } from './manifest.ts';
import { sortForPrune } from './order.ts';
import { formatOwner, isOwnedBy, overrideReasonOf, ownerOf, type SyncOwner } from './owner.ts';
import { readLive } from './plan.ts';

export interface PruneTarget {
  id: string;
  /** API version recorded in the inventory. */
  v: string;
  identity: ObjectIdentity;
  def: KindDefinition;
  live: KubeObject;
}

export interface PrunePlan {
  /** In prune order: reverse dependency order. */
  targets: PruneTarget[];
  skipped: SkippedObject[];
  /** Skipped objects this Sync still owns (a namespace others still use): they stay in
   * the inventory, to be pruned once that changes. */
  retained: InventoryEntry[];
}

/** Events are records about other objects that nobody owns and that expire on their own;
 * they do not keep a namespace alive. */
const NAMESPACE_CONTENT_KINDS = allKinds.filter((k) => k.namespaced && !(k.group === '' && k.kind === 'Event'));

/** What pruning `previous` would delete, given the ids the new revision applies. */
export async function planPrune(
  client: KubeClient,
  previous: readonly InventoryEntry[],
  desiredIds: ReadonlySet<string>,
  owner: SyncOwner,
): Promise<PrunePlan> {
  const targets: PruneTarget[] = [];
  const skipped: SkippedObject[] = [];
  const retained: InventoryEntry[] = [];
  for (const entry of previous) {
    if (desiredIds.has(entry.id)) continue;
    const identity = parseId(entry.id);
    const skip = (reason: string) =>
      skipped.push({
        id: entry.id,
        kind: identity?.kind ?? '',
        name: identity?.name ?? '',
        ...(identity?.namespace ? { namespace: identity.namespace } : {}),
        reason,
      });
    if (!identity) {
      skip('not an inventory id ("<namespace>_<name>_<group>_<kind>")');
      continue;
    }
    const def = allKinds.find((k) => k.group === identity.group && k.kind === identity.kind);
    if (!def) {
      skip(`the server does not serve kind ${identity.kind} of group "${identity.group}"`);
      continue;
    }
    const live = await readLive(client, def, identity);
    if (!live) continue;
    if (!isOwnedBy(live, owner)) {
      const other = ownerOf(live);
      skip(
        other ? `now applied by ${formatOwner(other)}` : 'its sync labels were removed, so this Sync no longer owns it',
      );
      continue;
    }
    const overridden = overrideReasonOf(live);
    if (overridden !== undefined) {
      // Left alone as the apply leaves it; kept in the inventory, so an apply after the override ends prunes it.
      skip(`it was changed by hand (${overridden}); it is left alone until its override annotation is removed`);
      retained.push(entry);
      continue;
    }
    if (def.group === '' && def.kind === 'Namespace') {
      const occupant = await foreignContent(client, identity.name, desiredIds, owner);
      if (occupant) {
        skip(`it still holds ${occupant}, which this Sync does not prune`);
        retained.push(entry);
        continue;
      }
    }
    targets.push({ id: entry.id, v: entry.v, identity, def, live });
  }
  return { targets: sortForPrune(targets, (t) => t.identity), skipped, retained };
}

/** The first object in `namespace` that pruning would not delete, named; or undefined. */
async function foreignContent(
  client: KubeClient,
  namespace: string,
  desiredIds: ReadonlySet<string>,
  owner: SyncOwner,
): Promise<string | undefined> {
  for (const def of NAMESPACE_CONTENT_KINDS) {
    const { items } = await client.list(def, { namespace });
    for (const item of items) {
      const identity = { namespace, name: item.metadata.name ?? '', group: def.group, kind: def.kind };
      if (!isOwnedBy(item, owner) || desiredIds.has(formatId(identity))) return describeObject(identity);
    }
  }
  return undefined;
}
