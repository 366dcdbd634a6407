// Apply a revision: validate all of it first (plan), then write only what drifted, in
// dependency order, then prune. Nothing is written when any object fails validation. Every
// write is a server-side apply as the field manager `gatehouse-sync` (see plan.ts): the
// fields Git sets are Git's, a field Git no longer sets is removed, and fields other
// managers own (a label added by hand, a controller's finalizer) are left alone.
import type { KubeObject } from '../../api/kind.ts';
import type { InventoryEntry } from '../../api/kinds/sync/types.ts';
import { isStatusError } from '../../client/errors.ts';
import type { KubeClient } from '../../client/rest.ts';
import { countActions, type ChangeAction, type ChangeSet, type ChangeSetEntry } from './change-set.ts';
import { compareObjects } from '../../api/compare.ts';
import { ApplyError } from './errors.ts';
import { describeObject, type Manifest, type ObjectIdentity } from './manifest.ts';
import { takeOverFormerFields } from './ownership.ts';
import { formatOwner, isOwnedBy, ownerOf, type SyncOwner } from './owner.ts';
import { applyObject, mapConcurrently, planSet, readLive, type CachedObjects, type PlannedObject } from './plan.ts';
import { applyStage } from './order.ts';
import { planPrune, type PrunePlan } from './prune.ts';

export interface ApplyOptions {
  /** The Sync applying: its labels go on every object, and prune deletes only objects carrying them. */
  owner: SyncOwner;
  /** status.inventory.entries of the last successful apply. */
  previousInventory?: readonly InventoryEntry[];
  /** Whether objects of previousInventory no longer in the manifests are deleted (spec.prune). */
  prune?: boolean;
  /** The target's objects as a watch cache holds them: one it shows already applied is neither read nor sent. */
  cached?: CachedObjects;
}

/** Attempts per write when the object changes (409) or appears or vanishes under it. */
const ATTEMPTS = 3;
/** Writes in flight at once within a stage. */
const WRITE_CONCURRENCY = 8;

/** Indexes into `plan` (which is in apply order), one list per apply stage. */
function stagesOf(plan: readonly PlannedObject[]): number[][] {
  const stages: number[][] = [];
  let current = -1;
  plan.forEach((planned, i) => {
    const stage = applyStage(planned.identity);
    if (stage !== current) stages.push([]);
    current = stage;
    stages[stages.length - 1].push(i);
  });
  return stages;
}

/**
 * Applies `manifests` (from build) for `options.owner`. Throws a ValidationError, having
 * written nothing, when the server refuses any object in a dry run or another Sync owns
 * one; an ApplyError when a write or delete fails afterwards (with what was done before).
 */
export async function applySet(
  client: KubeClient,
  manifests: readonly Manifest[],
  options: ApplyOptions,
): Promise<ChangeSet> {
  const plan = await planSet(client, manifests, options.owner, options.cached);
  const pruning = await prunePlanOf(client, plan, options);
  // Within a stage nothing refers to anything else, so its writes go out together; stages
  // follow one another, so what an object refers to exists before it is written.
  const written: ChangeSetEntry[] = new Array(plan.length);
  const done = () => written.filter(Boolean);
  for (const stage of stagesOf(plan)) {
    await mapConcurrently(stage, WRITE_CONCURRENCY, async (i) => {
      const planned = plan[i];
      try {
        // An overridden object is recorded without its resourceVersion: it is looked at again on every
        // reconcile, so Git's version returns as soon as the override annotation goes.
        written[i] =
          planned.action === 'unchanged'
            ? entryOf(planned, planned.object.apiVersion, 'unchanged', planned.overridden ? undefined : planned.live)
            : await write(client, planned, options.owner);
      } catch (err) {
        throw new ApplyError(
          'ApplyFailed',
          `${planned.manifest.file}: ${describeObject(planned.identity)}: ${planned.action} failed: ${(err as Error).message}`,
          done(),
          err,
        );
      }
    });
  }
  const entries = done();
  for (const target of pruning.targets) {
    try {
      await client.delete(target.def, target.identity.name, target.identity.namespace);
      entries.push(entryOf(target, target.v, 'deleted', undefined));
    } catch (err) {
      if (isStatusError(err, 'NotFound')) continue;
      throw new ApplyError(
        'PruneFailed',
        `${describeObject(target.identity)}: delete failed: ${(err as Error).message}`,
        entries,
        err,
      );
    }
  }
  return {
    entries,
    counts: countActions(entries),
    inventory: [...plan.map((p) => ({ id: p.id, v: p.object.apiVersion })), ...pruning.retained].sort((a, b) =>
      a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
    ),
    skipped: pruning.skipped,
    overridden: plan.flatMap((p) =>
      p.overridden === undefined ? [] : [{ id: p.id, ...p.identity, reason: p.overridden }],
    ),
  };
}

/** What pruning would delete, or nothing when pruning is off. Shared with diffSet. */
export function prunePlanOf(
  client: KubeClient,
  plan: readonly PlannedObject[],
  options: ApplyOptions,
): Promise<PrunePlan> {
  if (!options.prune || !options.previousInventory?.length)
    return Promise.resolve({ targets: [], skipped: [], retained: [] });
  return planPrune(client, options.previousInventory, new Set(plan.map((p) => p.id)), options.owner);
}

/** Applies a drifted object; when it changed since it was read (the resourceVersion precondition), reads it
 * again and retries. An object written with no field changed had its fields taken over by the Sync. */
async function write(client: KubeClient, planned: PlannedObject, owner: SyncOwner): Promise<ChangeSetEntry> {
  const { def, object } = planned;
  let live = planned.live;
  for (let attempt = 1; ; attempt++) {
    try {
      if (live) live = await takeOver(client, planned, live);
      const written = await applyObject(client, def, object, live, false);
      if (!live) return entryOf(planned, object.apiVersion, 'created', written);
      const fields = compareObjects(def, live, written).map((c) => c.path);
      const action = written.metadata.resourceVersion === live.metadata.resourceVersion ? 'unchanged' : 'configured';
      return entryOf(
        planned,
        object.apiVersion,
        action,
        written,
        action === 'configured' && fields.length ? fields : undefined,
      );
    } catch (err) {
      if (!isStatusError(err, 'Conflict', 'NotFound') || attempt >= ATTEMPTS) throw err;
      live = await readLive(client, def, planned.identity);
      const other = live && ownerOf(live);
      if (other && !isOwnedBy(live as KubeObject, owner))
        throw new Error(`${formatOwner(other)} applied it meanwhile; it is not taken over`);
    }
  }
}

/** `live` with what the Sync wrote before it applied with server-side apply moved into its own managedFields
 * entry (ownership.ts), at live's resourceVersion; `live` itself when there is nothing to move. */
async function takeOver(client: KubeClient, planned: PlannedObject, live: KubeObject): Promise<KubeObject> {
  const managedFields = takeOverFormerFields(live);
  if (!managedFields) return live;
  const { name, namespace } = planned.identity;
  const metadata = { resourceVersion: live.metadata.resourceVersion, managedFields };
  return client.patch(planned.def, name, { metadata }, 'merge', namespace);
}

/** `stored` is the object as the server holds it after this apply (absent when deleted). */
function entryOf(
  target: { id: string; identity: ObjectIdentity },
  v: string,
  action: ChangeAction,
  stored: KubeObject | undefined,
  fields?: string[],
): ChangeSetEntry {
  const { id, identity } = target;
  const entry: ChangeSetEntry = { id, v, kind: identity.kind, name: identity.name, action };
  if (stored?.metadata.resourceVersion) entry.resourceVersion = stored.metadata.resourceVersion;
  if (stored?.metadata.generation !== undefined) entry.generation = stored.metadata.generation;
  if (identity.namespace) entry.namespace = identity.namespace;
  if (fields) entry.fields = fields;
  return entry;
}
