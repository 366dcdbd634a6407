// Status conditions with metav1.Condition semantics and the kstatus convention Flux
// follows, so `kubectl wait --for=condition=Ready` and kstatus-aware tools read Gatehouse
// objects like any other:
// - working on it:        Reconciling=True                          (Ready kept, or Unknown)
// - failed, will retry:   Ready=False, Reconciling=True (ProgressingWithRetry)
// - failed, gave up:      Ready=False, Stalled=True,  no Reconciling
// - done:                 Ready=True,  no Reconciling, no Stalled
// status.observedGeneration moves when a generation's reconcile concluded (ready or
// stalled); a retryable failure leaves it behind, which kstatus reads as "in progress".
import type { ObjectMeta } from '../../api/kind.ts';
import type { CommonStatus, Condition, ConditionStatus } from '../../api/status.ts';
import { timestamp } from './time.ts';

export const ConditionType = {
  Ready: 'Ready',
  Reconciling: 'Reconciling',
  Stalled: 'Stalled',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

/** Reasons the helpers set themselves; reconcilers bring their own for the rest. */
export const ConditionReason = {
  Progressing: 'Progressing',
  ProgressingWithRetry: 'ProgressingWithRetry',
} as const;
export type ConditionReason = (typeof ConditionReason)[keyof typeof ConditionReason];

export interface ConditionInput {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

/** An object whose status the helpers below edit in place. */
export interface Conditioned {
  metadata: ObjectMeta;
  status?: CommonStatus;
}

/**
 * `conditions` with `input` set: replaced in place when its type exists, appended
 * otherwise. lastTransitionTime moves only when the status changes, so setting the same
 * condition again yields an equal list (and no status write).
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  input: ConditionInput,
  observedGeneration: number | undefined,
  now: Date = new Date(),
): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === input.type);
  const previous = index >= 0 ? list[index] : undefined;
  const next: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    message: input.message,
    lastTransitionTime:
      previous?.status === input.status && previous.lastTransitionTime ? previous.lastTransitionTime : timestamp(now),
  };
  if (observedGeneration !== undefined) next.observedGeneration = observedGeneration;
  if (index >= 0) list[index] = next;
  else list.push(next);
  return list;
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

/** Reconciling=True and no Stalled; Ready is left as it was, or Unknown when absent. */
export function markReconciling(obj: Conditioned, reason: string, message: string, now?: Date): void {
  const generation = obj.metadata.generation;
  const status = (obj.status ??= {});
  let conditions = setCondition(
    removeCondition(status.conditions, ConditionType.Stalled),
    { type: ConditionType.Reconciling, status: 'True', reason, message },
    generation,
    now,
  );
  if (!conditions.some((c) => c.type === ConditionType.Ready)) {
    conditions = setCondition(
      conditions,
      { type: ConditionType.Ready, status: 'Unknown', reason, message },
      generation,
      now,
    );
  }
  status.conditions = conditions;
}

/** Ready=True, no Reconciling or Stalled; this generation is observed. */
export function markReady(obj: Conditioned, reason: string, message: string, now?: Date): void {
  conclude(
    obj,
    [ConditionType.Reconciling, ConditionType.Stalled],
    { type: ConditionType.Ready, status: 'True', reason, message },
    now,
  );
}

/** Ready=False with Reconciling=True: the failure will be retried. observedGeneration is
 * left behind since this generation's reconcile has not concluded. */
export function markFailed(obj: Conditioned, reason: string, message: string, now?: Date): void {
  const generation = obj.metadata.generation;
  const status = (obj.status ??= {});
  const conditions = setCondition(
    removeCondition(status.conditions, ConditionType.Stalled),
    { type: ConditionType.Ready, status: 'False', reason, message },
    generation,
    now,
  );
  status.conditions = setCondition(
    conditions,
    { type: ConditionType.Reconciling, status: 'True', reason: ConditionReason.ProgressingWithRetry, message },
    generation,
    now,
  );
}

/** Ready=False and Stalled=True, no Reconciling: nothing changes until the object does. */
export function markStalled(obj: Conditioned, reason: string, message: string, now?: Date): void {
  conclude(obj, [ConditionType.Reconciling], { type: ConditionType.Ready, status: 'False', reason, message }, now);
  const status = obj.status!;
  status.conditions = setCondition(
    status.conditions,
    { type: ConditionType.Stalled, status: 'True', reason, message },
    obj.metadata.generation,
    now,
  );
}

function conclude(obj: Conditioned, remove: ConditionType[], ready: ConditionInput, now: Date | undefined): void {
  const generation = obj.metadata.generation;
  const status = (obj.status ??= {});
  const kept = (status.conditions ?? []).filter((c) => !(remove as string[]).includes(c.type));
  status.conditions = setCondition(kept, ready, generation, now);
  if (generation !== undefined) status.observedGeneration = generation;
}
