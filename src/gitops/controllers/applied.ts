// What each Sync applied last, kept in memory: the built manifests and the resourceVersion
// of every object as the apply left it. A reconcile of the same revision and build settings
// then needs no build and no request per object: only objects whose resourceVersion moved
// since (someone else wrote them) or that vanished are applied again. This is what keeps a
// no-op reconcile of 10,000 objects within a second or two. A restarted controller has no
// record and does one full apply first.
import type { KubeObject } from '../../api/kind.ts';
import { objectId, type ChangeSet, type Manifest } from '../sync/index.ts';
import { ownedObject, type SyncOwner } from '../sync/owner.ts';

export interface Applied {
  revision: string;
  /** The Sync spec fields that decide what is built and how it is applied (buildKey). */
  build: string;
  manifests: Manifest[];
  /** By inventory id: what the apply left, to tell later writes by others. */
  versions: Map<string, Stamp>;
}

/** A stored object's generation when its kind has one (status writes do not move it), else
 * its resourceVersion. */
interface Stamp {
  resourceVersion: string;
  generation?: number;
}

export class AppliedRecords {
  private readonly records = new Map<string, Applied>();

  /** The record of `key` when it was made for this revision and build. */
  match(key: string, revision: string, build: string): Applied | undefined {
    const record = this.records.get(key);
    return record && record.revision === revision && record.build === build ? record : undefined;
  }

  record(key: string, revision: string, build: string, manifests: Manifest[], changes: ChangeSet): void {
    const versions = new Map<string, Stamp>();
    for (const entry of changes.entries) if (entry.resourceVersion) versions.set(entry.id, stampOf(entry));
    this.records.set(key, { revision, build, manifests, versions });
  }

  /** Folds the outcome of re-applying some objects of `record` into it. */
  update(record: Applied, changes: ChangeSet): void {
    for (const entry of changes.entries) if (entry.resourceVersion) record.versions.set(entry.id, stampOf(entry));
  }

  forget(key: string): void {
    this.records.delete(key);
  }
}

function stampOf(entry: { resourceVersion?: string; generation?: number }): Stamp {
  return entry.generation === undefined
    ? { resourceVersion: entry.resourceVersion! }
    : { resourceVersion: entry.resourceVersion!, generation: entry.generation };
}

/**
 * The manifests of `record` whose object someone else changed or deleted: the live object
 * (from a watch cache) is absent, its generation moved past the recorded one (a spec
 * edit; status writes do not count), or — for kinds without a generation — its
 * resourceVersion did, or a label or annotation it applied is gone or changed (metadata
 * edits move no generation; ones others added are theirs, as the apply leaves them). A cache behind the recorded stamp is lagging behind this
 * controller's own write, not drift.
 */
export function driftedManifests(
  record: Applied,
  live: (id: string) => KubeObject | undefined,
  owner: SyncOwner,
): Manifest[] {
  return record.manifests.filter((manifest) => {
    const id = objectId(manifest.object);
    const seen = live(id)?.metadata;
    const applied = record.versions.get(id);
    if (seen?.resourceVersion === undefined || applied === undefined) return true;
    const wanted = ownedObject(manifest, owner).metadata;
    if (!holds(seen.labels, wanted.labels) || !holds(seen.annotations, wanted.annotations)) return true;
    if (applied.generation !== undefined && seen.generation !== undefined) return seen.generation > applied.generation;
    return newer(seen.resourceVersion, applied.resourceVersion);
  });
}

/** Whether `live` has every entry of `applied`, with its value. */
function holds(live: Record<string, string> | undefined, applied: Record<string, string> | undefined): boolean {
  return Object.entries(applied ?? {}).every(([key, value]) => live?.[key] === value);
}

function newer(seen: string, applied: string): boolean {
  if (/^\d+$/.test(seen) && /^\d+$/.test(applied)) return BigInt(seen) > BigInt(applied);
  return seen !== applied;
}
