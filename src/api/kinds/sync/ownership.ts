// What a Sync writes on the objects it applies, and what the API server's GitOps lock reads from them: the
// owner (two labels), the source file (an annotation, so a refusal can name it without reading the Sync's
// source), and the break-glass annotation a user allowed the `override` verb sets to write anyway.
import { serviceAccountUsername } from '../../core/service-account/names.ts';
import type { Sync } from './types.ts';

export const SYNC_NAME_LABEL = 'gatehouse.dev/sync-name';
export const SYNC_NAMESPACE_LABEL = 'gatehouse.dev/sync-namespace';
/** The file of the Sync's source the object was built from, relative to the artifact's root. */
export const SOURCE_PATH_ANNOTATION = 'gatehouse.dev/source-path';
/** Why a person changed a Git-owned object by hand; while it is set, the Sync leaves the object alone. */
export const OVERRIDE_REASON_ANNOTATION = 'gatehouse.dev/override-reason';
/** The RBAC verb that lets a user write a Git-owned object with OVERRIDE_REASON_ANNOTATION set. */
export const OVERRIDE_VERB = 'override';

/** The user a Sync's writes come from: its ServiceAccount when it names one, else the identity its controller
 * recorded in status.appliedBy (undefined before the controller first reconciled it). */
export function syncWriter(sync: Sync): string | undefined {
  const name = sync.spec.serviceAccountName;
  if (!name) return sync.status?.appliedBy;
  return serviceAccountUsername({ namespace: sync.metadata.namespace ?? 'default', name });
}
