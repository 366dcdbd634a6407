// Which Sync an object belongs to: two labels, set on every object a Sync applies. Pruning
// and taking over objects both go by them, so an object whose labels were removed by hand
// is let go, and one labelled by another Sync is never touched. An object a user overrode by hand
// (the break-glass annotation, see docs/controllers.md) is left alone until the annotation goes.
import type { KubeObject } from '../../api/kind.ts';
import {
  OVERRIDE_REASON_ANNOTATION,
  SOURCE_PATH_ANNOTATION,
  SYNC_NAME_LABEL,
  SYNC_NAMESPACE_LABEL,
} from '../../api/kinds/sync/ownership.ts';
import type { Manifest } from './manifest.ts';

export { SYNC_NAME_LABEL, SYNC_NAMESPACE_LABEL };

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

/** `manifest`'s object as `owner` applies it: labelled as its, and annotated with the file it was built from,
 * which the GitOps lock names. */
export function ownedObject(manifest: Manifest, owner: SyncOwner): KubeObject {
  const { object } = manifest;
  const labels = { ...object.metadata.labels, [SYNC_NAME_LABEL]: owner.name, [SYNC_NAMESPACE_LABEL]: owner.namespace };
  const annotations = { ...object.metadata.annotations, [SOURCE_PATH_ANNOTATION]: manifest.file };
  return { ...object, metadata: { ...object.metadata, labels, annotations } };
}

/** Why a user overrode the Git-owned `obj` by hand, when they did: the Sync then leaves it alone. */
export function overrideReasonOf(obj: KubeObject): string | undefined {
  return obj.metadata.annotations?.[OVERRIDE_REASON_ANNOTATION];
}

export function formatOwner(owner: SyncOwner): string {
  return `Sync ${owner.namespace}/${owner.name}`;
}
