// The order objects are applied in, so what an object refers to exists before it:
// Namespaces hold everything; Secrets and ConfigMaps are read by the rest; Consumers name
// SecurityPolicies; ApiDefinitions are what policies grant; ApiKeys belong to Consumers.
// Kinds not listed come last. Pruning goes the other way round, so a Namespace is deleted
// after its contents. The sort is stable: within a stage, the source's order is kept.

/** Stages of apply, as `group/kind` (core kinds have an empty group). */
const STAGES: ReadonlyArray<readonly string[]> = [
  ['/Namespace'],
  ['/Secret', '/ConfigMap'],
  ['gatehouse.dev/SecurityPolicy', 'gatehouse.dev/Consumer'],
  ['gatehouse.dev/ApiDefinition'],
  ['gatehouse.dev/ApiKey'],
];

export interface GroupKind {
  group: string;
  kind: string;
}

/** The stage `kind` is applied in: 0 first, the number of stages for unlisted kinds. */
export function applyStage({ group, kind }: GroupKind): number {
  const stage = STAGES.findIndex((kinds) => kinds.includes(`${group}/${kind}`));
  return stage < 0 ? STAGES.length : stage;
}

/** A copy of `items` in apply order. */
export function sortForApply<T>(items: readonly T[], kindOf: (item: T) => GroupKind): T[] {
  return items
    .map((item, i) => ({ item, i, stage: applyStage(kindOf(item)) }))
    .sort((a, b) => a.stage - b.stage || a.i - b.i)
    .map((e) => e.item);
}

/** A copy of `items` in prune order: later stages first, and within a stage, the reverse of
 * the given order. */
export function sortForPrune<T>(items: readonly T[], kindOf: (item: T) => GroupKind): T[] {
  return sortForApply(items, kindOf).reverse();
}
