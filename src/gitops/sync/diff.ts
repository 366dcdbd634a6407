// What applying a revision would change, without writing: the same plan (dry runs against
// the live objects) and prune plan that applySet acts on, reported per field. Secret
// values never appear: data and stringData values, and the last-applied annotation that
// `kubectl apply` fills with them, are masked as kubectl diff masks them.
import type { KindDefinition } from '../../api/kind.ts';
import type { KubeClient } from '../../client/rest.ts';
import { prunePlanOf, type ApplyOptions } from './apply.ts';
import type { FieldChange } from '../../api/compare.ts';
import type { Manifest, ObjectIdentity } from './manifest.ts';
import { planSet } from './plan.ts';

export type DiffAction = 'create' | 'update' | 'delete' | 'unchanged';

export interface ObjectDiff {
  id: string;
  kind: string;
  /** Absent for cluster-scoped kinds. */
  namespace?: string;
  name: string;
  action: DiffAction;
  /** For a create, every field of the manifest; for an update, the fields that would
   * change; empty for a delete or no change. */
  changes: FieldChange[];
}

const SECRET_FIELD =
  /^(data|stringData)(\[|$)|^metadata\.annotations\[kubectl\.kubernetes\.io\/last-applied-configuration\]$/;

/**
 * The difference between `manifests` and the live objects, in apply order, then the
 * objects pruning would delete. Throws the ValidationError applySet would throw.
 */
export async function diffSet(
  client: KubeClient,
  manifests: readonly Manifest[],
  options: ApplyOptions,
): Promise<ObjectDiff[]> {
  const plan = await planSet(client, manifests, options.owner);
  const pruning = await prunePlanOf(client, plan, options);
  return [
    ...plan.map((p) =>
      diffOf(
        p.id,
        p.identity,
        p.action,
        p.changes.map((c) => maskSecretValues(p.def, c, 'before', 'after')),
      ),
    ),
    ...pruning.targets.map((t) => diffOf(t.id, t.identity, 'delete', [])),
  ];
}

function diffOf(id: string, identity: ObjectIdentity, action: DiffAction, changes: FieldChange[]): ObjectDiff {
  const diff: ObjectDiff = { id, kind: identity.kind, name: identity.name, action, changes };
  if (identity.namespace) diff.namespace = identity.namespace;
  return diff;
}

/** `change` with a Secret value on either side replaced by `*** (<liveSide>)` or `*** (<desiredSide>)`: that it
 * differs shows, the value does not. */
export function maskSecretValues(
  def: KindDefinition,
  change: FieldChange,
  liveSide: string,
  desiredSide: string,
): FieldChange {
  if (def.group !== '' || def.kind !== 'Secret' || !SECRET_FIELD.test(change.path)) return change;
  const out: FieldChange = { path: change.path };
  if ('live' in change) out.live = `*** (${liveSide})`;
  if ('desired' in change) out.desired = `*** (${desiredSide})`;
  return out;
}
