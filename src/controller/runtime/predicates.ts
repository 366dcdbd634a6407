// Filters of informer changes for Controller.watch (controller-runtime's predicates).
import type { KubeObject } from '../../api/kind.ts';
import type { InformerChange } from '../../client/informer.ts';

/** One object's change, as a filter sees it. */
export type ObjectChange<T> = Extract<InformerChange<T>, { object: T }>;

export type ChangeFilter<T> = (change: ObjectChange<T>) => boolean;

/**
 * Passes additions, deletions, and modifications of the spec (metadata.generation) or of
 * the deletion state; drops status-only and metadata-only modifications. On a primary
 * kind it keeps a controller's own status write from enqueueing one more reconcile
 * (Flux's GenerationChangedPredicate); a change it drops is still seen at the next
 * requeueAfter or relist.
 */
export function generationChanged<T extends KubeObject>(change: ObjectChange<T>): boolean {
  if (change.type !== 'MODIFIED' || !change.old) return true;
  const now = change.object.metadata;
  const before = change.old.metadata;
  return now.generation !== before.generation || now.deletionTimestamp !== before.deletionTimestamp;
}
