// Environments: what must hold before a Sync applies its source's revision.
//
// spec.dependsOn (Flux's field and rule): every Sync named is Ready and has observed its latest generation, at
// whatever revision. spec.promotion.from: the named Sync (the earlier environment) has applied the same commit and
// been Ready at it, without a break, for healthyFor: its status.healthy, which every Sync keeps (healthyOf). A
// revision that failed there is never Ready there, so it never promotes; the next commit that runs healthy there
// does. A Sync that waits applies nothing (its last revision keeps serving) and says why in Ready=False.
//
// The controller watches Syncs for changes of what this reads (readinessChanged), so a dependency turning Ready
// is acted on at once; healthyFor running out is a requeue at that moment; DEPENDENCY_REQUEUE_MS is the backstop.
import { parseDuration } from '../../api/duration.ts';
import { findCondition, type Condition } from '../../api/status.ts';
import type { Sync, SyncReference, SyncStatus } from '../../api/kinds/sync/index.ts';
import type { ObjectChange } from '../../controller/runtime/index.ts';

/** Condition reasons of a Sync that waits (part of the Sync reason catalogue). */
export const GateReason = {
  DependencyNotReady: 'DependencyNotReady',
  PromotionPending: 'PromotionPending',
} as const;

/** How soon a waiting Sync looks again without a change of what it waits for (Flux's --requeue-dependency). */
export const DEPENDENCY_REQUEUE_MS = 30_000;

export interface Gate {
  reason: (typeof GateReason)[keyof typeof GateReason];
  message: string;
  requeueAfterMs: number;
}

/** Reads a Sync; undefined when there is none. */
export type SyncReader = (ref: { namespace: string; name: string }) => Promise<Sync | undefined>;

/** Why `sync` may not apply `revision` now, or undefined when it may. */
export async function gateOf(sync: Sync, revision: string, read: SyncReader, now: number): Promise<Gate | undefined> {
  const namespace = sync.metadata.namespace ?? 'default';
  const refOf = (ref: SyncReference) => ({ namespace: ref.namespace ?? namespace, name: ref.name });
  const waiting: string[] = [];
  for (const ref of (sync.spec.dependsOn ?? []).map(refOf)) {
    const dependency = await read(ref);
    const why = dependency ? notReady(dependency) : 'not found';
    if (why) waiting.push(`Sync ${ref.namespace}/${ref.name} (${why})`);
  }
  if (waiting.length) {
    const message = `dependencies not ready: ${waiting.join(', ')}`;
    return { reason: GateReason.DependencyNotReady, message, requeueAfterMs: DEPENDENCY_REQUEUE_MS };
  }
  // A revision already applied stays, whatever the earlier environment does since.
  const from = sync.spec.promotion?.from;
  if (!from || sync.status?.lastAppliedRevision === revision) return undefined;
  return promotionGate(revision, { ...refOf(from), healthyFor: from.healthyFor }, read, now);
}

async function promotionGate(
  revision: string,
  from: { namespace: string; name: string; healthyFor: string },
  read: SyncReader,
  now: number,
): Promise<Gate | undefined> {
  const name = `Sync ${from.namespace}/${from.name}`;
  const pending = (why: string, requeueAfterMs = DEPENDENCY_REQUEUE_MS): Gate => ({
    reason: GateReason.PromotionPending,
    message: `revision ${revision} waits for promotion from ${name}: ${why}`,
    requeueAfterMs,
  });
  const upstream = await read(from);
  if (!upstream) return pending('not found');
  const status = upstream.status;
  const healthy = status?.healthy;
  if (healthy && sameCommit(healthy.revision, revision) && ready(upstream)) {
    const need = parseDuration(from.healthyFor);
    const elapsed = now - Date.parse(healthy.since);
    if (elapsed >= need) return undefined;
    const left = need - elapsed;
    return pending(`Ready at it for ${seconds(elapsed)} of ${from.healthyFor}, ${seconds(left)} to go`, left);
  }
  const attempted = status?.lastAttemptedRevision;
  const condition = findCondition(status, 'Ready');
  if (attempted && sameCommit(attempted, revision) && condition?.status === 'False')
    return pending(`it failed there (${condition.reason}): ${condition.message}`);
  const at = status?.lastAppliedRevision;
  return pending(`it has not run it yet${at ? ` (it is at ${at})` : ''}`);
}

/** Why a dependency is not Ready (Flux: Ready=True for its latest generation), or '' when it is. */
function notReady(dependency: Sync): string {
  if (ready(dependency)) return '';
  const condition = findCondition(dependency.status, 'Ready');
  if (!condition) return 'not reconciled yet';
  if (condition.status === 'True') return 'its latest generation is not reconciled yet';
  return `Ready=${condition.status}: ${condition.reason}`;
}

function ready(sync: Sync): boolean {
  const condition = findCondition(sync.status, 'Ready');
  return condition?.status === 'True' && sync.status?.observedGeneration === sync.metadata.generation;
}

/** A revision reads `<ref>@sha1:<hex>`: two Syncs run the same commit whichever branch or tag brought it. */
function sameCommit(a: string, b: string): boolean {
  const commit = (revision: string) => revision.slice(revision.lastIndexOf('@') + 1);
  return commit(a) === commit(b);
}

function seconds(ms: number): string {
  return `${Math.max(0, Math.round(ms / 100) / 10)}s`;
}

/** Sets status.healthy as `status` now stands (healthyOf) and returns `status`: called on every status write. */
export function recordHealth(status: SyncStatus, now: Date): SyncStatus {
  status.healthy = healthyOf(status, status.healthy, now);
  return status;
}

/**
 * status.healthy as `status` now stands: the applied revision and since when the Sync has been Ready at it,
 * `previous` carried on while it stays Ready at the same revision. A Sync that waits keeps it (what it applied
 * still runs); any other Ready=False or Unknown ends it.
 */
function healthyOf(status: SyncStatus, previous: SyncStatus['healthy'], now: Date): SyncStatus['healthy'] {
  const condition = findCondition(status, 'Ready');
  const revision = status.lastAppliedRevision;
  if (!condition || !revision) return undefined;
  if (condition.status === 'True')
    return previous?.revision === revision ? previous : { revision, since: now.toISOString() };
  return waits(condition) ? previous : undefined;
}

function waits(condition: Condition): boolean {
  return Object.values<string | undefined>(GateReason).includes(condition.reason);
}

/** Whether a Sync changed in what a Sync that depends or promotes from it reads: Ready, its generation, healthy. */
export function readinessChanged(change: ObjectChange<Sync>): boolean {
  if (change.type !== 'MODIFIED' || !change.old) return true;
  const was = change.old;
  const is = change.object;
  const condition = (s: Sync) => findCondition(s.status, 'Ready')?.status;
  return (
    condition(was) !== condition(is) ||
    was.metadata.generation !== is.metadata.generation ||
    was.status?.observedGeneration !== is.status?.observedGeneration ||
    was.status?.healthy?.since !== is.status?.healthy?.since ||
    was.status?.lastAttemptedRevision !== is.status?.lastAttemptedRevision
  );
}
