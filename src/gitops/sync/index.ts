// The Sync engine, as the Sync reconciler uses it:
//   const manifests = await build(artifactDir, spec.path, { namespace, targetNamespace, substitute });
//   const changes = await applySet(client, manifests, { owner, previousInventory, prune });
//   const diffs = await diffSet(client, manifests, { owner, previousInventory, prune });
// build and applySet throw BuildError / ValidationError (the revision is wrong: nothing was
// written) or ApplyError (a write failed midway: retry); errors.ts is the catalogue.
export { build, type BuildOptions } from './build.ts';
export { ParsedTexts } from './parsed-texts.ts';
export { applySet, type ApplyOptions } from './apply.ts';
export { diffSet, type DiffAction, type ObjectDiff } from './diff.ts';
export type { ChangeAction, ChangeSet, ChangeSetEntry, SkippedObject } from './change-set.ts';
export type { FieldChange } from '../../api/compare.ts';
export {
  ApplyError,
  BuildError,
  SyncError,
  ValidationError,
  formatFailure,
  type BuildErrorCode,
  type SyncErrorCode,
  type ValidationFailure,
} from './errors.ts';
export { describeObject, objectId, parseId, type Manifest, type ObjectIdentity } from './manifest.ts';
export { SYNC_NAME_LABEL, SYNC_NAMESPACE_LABEL, type SyncOwner } from './owner.ts';
export { SYNC_FIELD_MANAGER } from './ownership.ts';
