// Whose fields the Sync's writes are. Every write is a server-side apply as one field manager, so what the
// Sync owns is exactly what it applied last, and a field that leaves Git is removed by the next apply
// (kube removes a field its manager no longer applies unless another manager owns it too). Objects a Sync
// wrote before it applied this way carry those fields as Updates of the client's manager (`gatehouse`, from its
// User-Agent; unnamed before the client sent one); as Flux's kustomize-controller does for its own former manager (fluxcd/pkg/ssa cleanup
// of field managers), the Sync moves them into its own entry when it first applies to such an object, so
// they leave with Git too. Once it has applied, that manager's later Updates are someone else's.
import { FieldSet, FieldsV1Error } from '../../api/apply/field-set.ts';
import { managedView } from '../../api/apply/managed-view.ts';
import { appliesNothing } from '../../api/apply/managers.ts';
import type { KindDefinition, KubeObject } from '../../api/kind.ts';
import { fullSchema } from '../../api/schema/index.ts';
import { CLIENT_FIELD_MANAGER } from '../../client/rest.ts';

/** The field manager of every Sync's writes (Flux's is `kustomize-controller`). */
export const SYNC_FIELD_MANAGER = 'gatehouse-sync';

/** The managers of the Sync's writes before it applied with server-side apply. */
const FORMER_MANAGERS = new Set(['', CLIENT_FIELD_MANAGER]);

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

function entriesOf(obj: KubeObject): ManagedFieldsEntry[] {
  return (obj.metadata.managedFields ?? []) as ManagedFieldsEntry[];
}

const isFormer = (e: ManagedFieldsEntry) =>
  FORMER_MANAGERS.has(e.manager ?? '') && e.operation === 'Update' && !e.subresource;
const isSync = (e: ManagedFieldsEntry) => e.manager === SYNC_FIELD_MANAGER && e.operation === 'Apply';

/** Whether the Sync has applied to `live`: it then owns what it applied last. */
export function appliedBySync(live: KubeObject): boolean {
  return entriesOf(live).some(isSync);
}

/**
 * Whether the Sync's server-side apply of `object` (as applyObject sends it) would change nothing in `live`: the
 * Sync's entry, of the same API version, holds exactly the fields `object` sets, and merging `object` changes no
 * value. Its dry run could only answer "unchanged" and its write would store nothing, so neither is sent: what a
 * revision that changes one object of many costs is that object's requests. `live` read from a watch cache may lag;
 * the change that cache has yet to show is drift, which its watch event brings back to the Sync.
 */
export function alreadyApplied(def: KindDefinition, object: KubeObject, live: KubeObject): boolean {
  const own = entriesOf(live).find(isSync);
  if (!own || own.subresource || own.apiVersion !== object.apiVersion || own.fieldsType !== 'FieldsV1') return false;
  let owned: FieldSet;
  try {
    owned = FieldSet.fromFieldsV1(own.fieldsV1 ?? {});
  } catch (err) {
    if (err instanceof FieldsV1Error) return false;
    throw err;
  }
  return appliesNothing(fullSchema(def), managedView(def, live), managedView(def, object), owned);
}

/**
 * `live`'s managedFields with the former manager's fields moved into an Apply entry of the Sync, or
 * undefined when the Sync has applied to it already or there is nothing to move.
 */
export function takeOverFormerFields(live: KubeObject): ManagedFieldsEntry[] | undefined {
  const entries = entriesOf(live);
  const former = entries.filter(isFormer);
  if (!former.length || entries.some(isSync)) return undefined;
  const fieldsV1 = former.reduce<Record<string, unknown>>((fields, e) => unionOf(fields, e.fieldsV1 ?? {}), {});
  const own: ManagedFieldsEntry = {
    manager: SYNC_FIELD_MANAGER,
    operation: 'Apply',
    apiVersion: live.apiVersion,
    fieldsType: 'FieldsV1',
    fieldsV1,
  };
  return [...entries.filter((e) => !isFormer(e)), own];
}

/** The union of two FieldsV1 trees: every field either names. */
function unionOf(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    out[key] = key in out ? unionOf(out[key] as Record<string, unknown>, value as Record<string, unknown>) : value;
  }
  return out;
}
