// Apply a revision: validate all of it first (plan), then write only what drifted, in
// dependency order, then prune. Nothing is written when any object fails validation. An
// update replaces the object with the manifest (plus the owner labels and live
// finalizers), so fields added by hand are removed: Git is the source of truth.
import type { KubeObject } from '../../api/kind.ts';
import type { InventoryEntry } from '../../api/kinds/sync/types.ts';
import { isStatusError } from '../../client/errors.ts';
import type { KubeClient } from '../../client/rest.ts';
import { countActions, type ChangeAction, type ChangeSet, type ChangeSetEntry } from './change-set.ts';
import { compareObjects } from './compare.ts';
import { ApplyError } from './errors.ts';
import { describeObject, type Manifest, type ObjectIdentity } from './manifest.ts';
import { formatOwner, isOwnedBy, ownerOf, type SyncOwner } from './owner.ts';
import { mapConcurrently, planSet, readLive, type PlannedObject } from './plan.ts';
import { applyStage } from './order.ts';
import { planPrune, type PrunePlan } from './prune.ts';

export interface ApplyOptions {
  /** The Sync applying: its labels go on every object, and prune deletes only objects carrying them. */
  owner: SyncOwner;
  /** status.inventory.entries of the last successful apply. */
  previousInventory?: readonly InventoryEntry[];
  /** Whether objects of previousInventory no longer in the manifests are deleted (spec.prune). */
  prune?: boolean;
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
  const plan = await planSet(client, manifests, options.owner);
  const pruning = await prunePlanOf(client, plan, options);
  // Within a stage nothing refers to anything else, so its writes go out together; stages
  // follow one another, so what an object refers to exists before it is written.
  const written: ChangeSetEntry[] = new Array(plan.length);
  const done = () => written.filter(Boolean);
  for (const stage of stagesOf(plan)) {
    await mapConcurrently(stage, WRITE_CONCURRENCY, async (i) => {
      const planned = plan[i];
      try {
        written[i] =
          planned.action === 'unchanged'
            ? entryOf(planned, planned.object.apiVersion, 'unchanged', planned.live)
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

/** Creates or updates a drifted object; on a race, reads it again and retries. */
async function write(client: KubeClient, planned: PlannedObject, owner: SyncOwner): Promise<ChangeSetEntry> {
  const { def, object } = planned;
  let live = planned.live;
  for (let attempt = 1; ; attempt++) {
    try {
      if (!live) {
        return entryOf(
          planned,
          object.apiVersion,
          'created',
          await client.create(def, object, { fieldValidation: 'Strict' }),
        );
      }
      const written = await client.update(
        def,
        { ...object, metadata: { ...object.metadata, resourceVersion: live.metadata.resourceVersion } },
        { fieldValidation: 'Strict' },
      );
      const fields = compareObjects(def, live, written).map((c) => c.path);
      return fields.length
        ? entryOf(planned, object.apiVersion, 'configured', written, fields)
        : entryOf(planned, object.apiVersion, 'unchanged', written);
    } catch (err) {
      if (!isStatusError(err, 'Conflict', 'AlreadyExists', 'NotFound') || attempt >= ATTEMPTS) throw err;
      live = await readLive(client, def, planned.identity);
      const other = live && ownerOf(live);
      if (other && !isOwnedBy(live as KubeObject, owner))
        throw new Error(`${formatOwner(other)} applied it meanwhile; it is not taken over`);
    }
  }
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
