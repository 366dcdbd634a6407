// Filters of informer changes for Controller.watch (controller-runtime's predicates).
import { isDeepStrictEqual } from 'node:util';
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

/**
 * Like generationChanged, for kinds with a generation; every change of kinds without one
 * (Secrets, ConfigMaps), whose whole content is their spec. Labels and annotations count
 * too: they are part of what was applied (and labels say who owns an object). For watching
 * objects a controller owns, where a status write by someone else is not a change of what
 * was applied.
 */
export function contentChanged<T extends KubeObject>(change: ObjectChange<T>): boolean {
  if (change.type !== 'MODIFIED' || !change.old) return true;
  if (change.object.metadata.generation === undefined) return true;
  const now = change.object.metadata;
  const before = change.old.metadata;
  return (
    generationChanged(change) ||
    !isDeepStrictEqual(now.labels ?? {}, before.labels ?? {}) ||
    !isDeepStrictEqual(now.annotations ?? {}, before.annotations ?? {})
  );
}
