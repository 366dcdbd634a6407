// Which Sync an object belongs to: two labels, set on every object a Sync applies. Pruning
// and taking over objects both go by them, so an object whose labels were removed by hand
// is let go, and one labelled by another Sync is never touched.
import type { KubeObject } from '../../api/kind.ts';

export const SYNC_NAME_LABEL = 'gatehouse.dev/sync-name';
export const SYNC_NAMESPACE_LABEL = 'gatehouse.dev/sync-namespace';

export interface SyncOwner {
  name: string;
  namespace: string;
}

/** The Sync both labels name, or undefined when either is missing. */
export function ownerOf(obj: KubeObject): SyncOwner | undefined {
  const labels = obj.metadata.labels ?? {};
  const name = labels[SYNC_NAME_LABEL];
  const namespace = labels[SYNC_NAMESPACE_LABEL];
  return name && namespace ? { name, namespace } : undefined;
}

export function isOwnedBy(obj: KubeObject, owner: SyncOwner): boolean {
  const current = ownerOf(obj);
  return current !== undefined && current.name === owner.name && current.namespace === owner.namespace;
}

/** A copy of `obj` labelled as applied by `owner`. */
export function withOwner(obj: KubeObject, owner: SyncOwner): KubeObject {
  const labels = { ...obj.metadata.labels, [SYNC_NAME_LABEL]: owner.name, [SYNC_NAMESPACE_LABEL]: owner.namespace };
  return { ...obj, metadata: { ...obj.metadata, labels } };
}

export function formatOwner(owner: SyncOwner): string {
  return `Sync ${owner.namespace}/${owner.name}`;
}
