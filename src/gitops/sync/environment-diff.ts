// What differs between two Syncs' live objects: two environments of one configuration (staging and
// production), each Sync applying its own overlay, perhaps to its own cluster. Each side is the Sync's
// inventory read where the Sync applied it; objects are matched by group, kind, namespace and name, a
// namespace of the first side taken as another on the second through a namespace map (staging → production).
// Fields compare as drift does (compareObjects: status and server metadata left out), also leaving out what
// differs between environments by construction: the namespace, the sync labels and the source-path annotation.
// Secret values are masked as diffSet masks them.
import type { KindDefinition, KubeObject } from '../../api/kind.ts';
import { allKinds } from '../../api/kinds.ts';
import { SOURCE_PATH_ANNOTATION } from '../../api/kinds/sync/ownership.ts';
import type { Sync } from '../../api/kinds/sync/types.ts';
import type { KubeClient } from '../../client/rest.ts';
import { compareObjects } from '../../api/compare.ts';
import { maskSecretValues } from './diff.ts';
import { describeObject, formatId, parseId, type ObjectIdentity } from './manifest.ts';
import { SYNC_NAME_LABEL, SYNC_NAMESPACE_LABEL } from './owner.ts';
import { readLive } from './plan.ts';

/** One live object of a Sync's inventory. */
export interface LiveObject {
  def: KindDefinition;
  identity: ObjectIdentity;
  object: KubeObject;
}

export type EnvironmentState = 'onlyA' | 'onlyB' | 'different' | 'equal';

export interface EnvironmentFieldChange {
  path: string;
  /** Absent when only B has the field. */
  a?: unknown;
  /** Absent when only A has the field. */
  b?: unknown;
}

export interface EnvironmentObjectDiff {
  kind: string;
  /** '' for the core group. */
  group: string;
  /** The object on each side; absent on the side that lacks it. */
  a?: { namespace?: string; name: string };
  b?: { namespace?: string; name: string };
  state: EnvironmentState;
  /** For `different`, the fields that differ; otherwise empty. */
  changes: EnvironmentFieldChange[];
}

/**
 * The objects of `a` and `b` side by side, A's order first, then the objects only B has: each object of
 * A is matched with the object of B of the same group, kind and name in `namespaces[its namespace]`
 * (its own namespace when the map names none).
 */
export function compareEnvironments(
  a: readonly LiveObject[],
  b: readonly LiveObject[],
  namespaces: Readonly<Record<string, string>>,
): EnvironmentObjectDiff[] {
  const inB = new Map(b.map((o) => [formatId(o.identity), o]));
  const out: EnvironmentObjectDiff[] = [];
  for (const left of a) {
    const { namespace } = left.identity;
    const id = formatId({ ...left.identity, ...(namespace ? { namespace: namespaces[namespace] ?? namespace } : {}) });
    const right = inB.get(id);
    inB.delete(id);
    if (!right) {
      out.push(entry(left, 'a', 'onlyA', []));
      continue;
    }
    const changes = compareObjects(left.def, comparable(left.object), comparable(right.object)).map((c) => {
      const masked = maskSecretValues(left.def, c, 'A', 'B');
      const change: EnvironmentFieldChange = { path: masked.path };
      if ('live' in masked) change.a = masked.live;
      if ('desired' in masked) change.b = masked.desired;
      return change;
    });
    const diff = entry(left, 'a', changes.length ? 'different' : 'equal', changes);
    diff.b = sideOf(right.identity);
    out.push(diff);
  }
  for (const right of inB.values()) out.push(entry(right, 'b', 'onlyB', []));
  return out;
}

/** The live objects of `sync`'s inventory, read through `client` (where the Sync applies them); an
 * object deleted since the last apply is left out. */
export async function liveObjectsOf(client: KubeClient, sync: Sync): Promise<LiveObject[]> {
  const out: LiveObject[] = [];
  const what = `Sync ${sync.metadata.namespace}/${sync.metadata.name}`;
  for (const { id } of sync.status?.inventory?.entries ?? []) {
    const identity = parseId(id);
    if (!identity) throw new Error(`${what}: "${id}" in status.inventory is not an inventory id`);
    const def = allKinds.find((k) => k.group === identity.group && k.kind === identity.kind);
    if (!def) throw new Error(`${what}: ${describeObject(identity)} is of a kind this Gatehouse does not serve`);
    const object = await readLive(client, def, identity);
    if (object) out.push({ def, identity, object });
  }
  return out;
}

function entry(
  o: LiveObject,
  side: 'a' | 'b',
  state: EnvironmentState,
  changes: EnvironmentFieldChange[],
): EnvironmentObjectDiff {
  return { kind: o.identity.kind, group: o.identity.group, [side]: sideOf(o.identity), state, changes };
}

function sideOf(identity: ObjectIdentity): { namespace?: string; name: string } {
  return identity.namespace ? { namespace: identity.namespace, name: identity.name } : { name: identity.name };
}

/** `obj` without what two environments differ in by construction. */
function comparable(obj: KubeObject): KubeObject {
  const { namespace: _namespace, labels = {}, annotations = {}, ...metadata } = obj.metadata;
  const { [SYNC_NAME_LABEL]: _name, [SYNC_NAMESPACE_LABEL]: _ns, ...ownLabels } = labels;
  const { [SOURCE_PATH_ANNOTATION]: _path, ...ownAnnotations } = annotations;
  return { ...obj, metadata: { ...metadata, labels: ownLabels, annotations: ownAnnotations } };
}
