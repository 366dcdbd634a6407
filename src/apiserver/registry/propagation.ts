// Deletion propagation as kube-apiserver's generic store decides it (k8s.io/apiserver
// registry/generic/registry/store.go, deletionFinalizersForGarbageCollection): a delete's
// DeleteOptions and the object's finalizers say whether the garbage collector orphans the
// object's dependents first (`orphan`), deletes them first (`foregroundDeletion`), or, the
// default for every kind, deletes them after the object is gone (background, no finalizer).
import type { FieldError } from '../../api/kind.ts';
import { FOREGROUND_FINALIZER, ORPHAN_FINALIZER } from '../../api/schema/index.ts';
import { errors } from '../errors.ts';

export type PropagationPolicy = 'Orphan' | 'Background' | 'Foreground';
const POLICIES: readonly unknown[] = ['Orphan', 'Background', 'Foreground'] satisfies PropagationPolicy[];

export interface PropagationOptions {
  propagationPolicy?: unknown;
  /** Deprecated since Kubernetes 1.7, still honoured: true is Orphan, false is Background. */
  orphanDependents?: unknown;
}

/** kube's ValidateDeleteOptions: a 422 naming the DeleteOptions of `what` and the field. */
export function validatePropagation(options: PropagationOptions, what: string): void {
  const errs: FieldError[] = [];
  // null is Go's nil pointer: not set.
  const policy = options.propagationPolicy ?? undefined;
  const orphan = options.orphanDependents ?? undefined;
  if (orphan !== undefined && typeof orphan !== 'boolean') {
    const message = `Invalid value: ${JSON.stringify(orphan)}: must be a boolean`;
    errs.push({ type: 'FieldValueTypeInvalid', field: 'orphanDependents', message });
  }
  if (orphan !== undefined && policy !== undefined) {
    const message = `Invalid value: ${JSON.stringify(policy)}: orphanDependents and deletionPropagation cannot be both set`;
    errs.push({ type: 'FieldValueInvalid', field: 'propagationPolicy', message });
  }
  if (policy !== undefined && !POLICIES.includes(policy)) {
    const supported = '"Foreground", "Background", "Orphan", "nil"';
    const message = `Unsupported value: ${JSON.stringify(policy)}: supported values: ${supported}`;
    errs.push({ type: 'FieldValueNotSupported', field: 'propagationPolicy', message });
  }
  if (!errs.length) return;
  throw errors.invalid({ group: 'meta.k8s.io', resource: 'deleteoptions' }, 'DeleteOptions', what, errs);
}

/** The finalizers an object is to carry once deleted with `options` (validated): the options win,
 * then a garbage collection finalizer the object already has, then the default (background). */
export function deletionFinalizers(finalizers: readonly string[], options: PropagationOptions): string[] {
  const policy = policyOf(finalizers, options);
  const others = finalizers.filter((f) => f !== ORPHAN_FINALIZER && f !== FOREGROUND_FINALIZER);
  if (policy === 'Orphan') return [...others, ORPHAN_FINALIZER];
  if (policy === 'Foreground') return [...others, FOREGROUND_FINALIZER];
  return others;
}

function policyOf(finalizers: readonly string[], options: PropagationOptions): PropagationPolicy {
  if (typeof options.orphanDependents === 'boolean') return options.orphanDependents ? 'Orphan' : 'Background';
  if (options.propagationPolicy != null) return options.propagationPolicy as PropagationPolicy;
  for (const f of finalizers) {
    if (f === ORPHAN_FINALIZER) return 'Orphan';
    if (f === FOREGROUND_FINALIZER) return 'Foreground';
  }
  return 'Background';
}
