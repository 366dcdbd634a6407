// Validate everything first: every object is read live and sent to the server as a dry
// run of the server-side apply that would write it (`dryRun=All&fieldValidation=Strict`,
// field manager `gatehouse-sync`, forced as Flux's kustomize-controller forces; at the live
// resourceVersion when present), so the server's own validation, defaults, update rules and
// merge judge the whole revision before anything is written. The dry-run answer against the
// live object is what drift means: a field the Sync owns that someone changed, or one it
// applied before and no longer does. Fields other managers own are merged, not drift.
// An object a watch cache shows as the Sync left it, with exactly what the Sync would apply
// again (ownership.ts alreadyApplied), is judged without either request: a revision that
// changes one object of 10,000 reads and dry-runs that one.
import type { KindDefinition, KubeObject } from '../../api/kind.ts';
import { kindFor } from '../../api/kinds.ts';
import { ApiStatusError, isStatusError } from '../../client/errors.ts';
import type { KubeClient } from '../../client/rest.ts';
import { compareObjects, type FieldChange } from '../../api/compare.ts';
import { ValidationError, type ValidationFailure } from './errors.ts';
import { identityOf, objectId, type Manifest, type ObjectIdentity } from './manifest.ts';
import { sortForApply } from './order.ts';
import { alreadyApplied, appliedBySync, SYNC_FIELD_MANAGER } from './ownership.ts';
import { formatOwner, isOwnedBy, overrideReasonOf, ownedObject, ownerOf, type SyncOwner } from './owner.ts';

export interface PlannedObject {
  manifest: Manifest;
  def: KindDefinition;
  id: string;
  identity: ObjectIdentity;
  /** What is written: the manifest's object labelled with its owner and annotated with its file. */
  object: KubeObject;
  /** The object as it was read, absent when it does not exist. */
  live?: KubeObject;
  action: 'create' | 'update' | 'unchanged';
  /** For an update, the fields the server would change; for a create, the object's fields. An update
   * with none takes ownership of an object the Sync never applied (written before it applied with
   * server-side apply, or by hand with Git's values; see ownership.ts). */
  changes: FieldChange[];
  /** The override-reason annotation of a live object a user overrode by hand: it is left alone ('unchanged'). */
  overridden?: string;
}

/** The server-side apply of `object` as the Sync, at `live`'s resourceVersion when there is one (a
 * precondition: an object changed since it was read is read and judged again). Forced, as Flux forces:
 * a field Git sets is Git's, whoever changed it last. */
export function applyObject(
  client: KubeClient,
  def: KindDefinition,
  object: KubeObject,
  live: KubeObject | undefined,
  dryRun: boolean,
): Promise<KubeObject> {
  const resourceVersion = live?.metadata.resourceVersion;
  const config = resourceVersion ? { ...object, metadata: { ...object.metadata, resourceVersion } } : object;
  return client.apply(def, config, {
    fieldManager: SYNC_FIELD_MANAGER,
    force: true,
    dryRun,
    fieldValidation: 'Strict',
  });
}

/** Reads and dry-runs this many objects at once. */
const CONCURRENCY = 8;
/** Attempts per object when it changes between the read and the dry run. */
const ATTEMPTS = 3;

type Outcome = { planned: PlannedObject } | { failures: ValidationFailure[] };

/** Objects by inventory id as a watch cache of the target cluster holds them (undefined: not held). */
export type CachedObjects = (id: string) => KubeObject | undefined;

/**
 * The plan of applying `manifests` for `owner`, in apply order. Throws a ValidationError
 * listing every object the server refused, or that another Sync owns, when there is any;
 * rethrows errors that mean "try again later" (transport failures, 429, 5xx). An object
 * `cached` shows as already applied is planned unchanged from it, without a request.
 */
export async function planSet(
  client: KubeClient,
  manifests: readonly Manifest[],
  owner: SyncOwner,
  cached?: CachedObjects,
): Promise<PlannedObject[]> {
  const createdNamespaces = new Set(
    manifests
      .filter((m) => m.object.apiVersion === 'v1' && m.object.kind === 'Namespace')
      .map((m) => m.object.metadata.name),
  );
  const outcomes = await mapConcurrently(manifests, CONCURRENCY, (manifest) =>
    planObject(client, manifest, owner, createdNamespaces, cached),
  );
  const failures = outcomes.flatMap((o) => ('failures' in o ? o.failures : []));
  if (failures.length) throw new ValidationError(failures, manifests.length);
  const planned = outcomes.flatMap((o) => ('planned' in o ? [o.planned] : []));
  return sortForApply(planned, (p) => p.identity);
}

async function planObject(
  client: KubeClient,
  manifest: Manifest,
  owner: SyncOwner,
  createdNamespaces: ReadonlySet<string | undefined>,
  cached: CachedObjects | undefined,
): Promise<Outcome> {
  const identity = identityOf(manifest.object);
  const failed = (message: string): Outcome => ({ failures: [{ file: manifest.file, object: identity, message }] });
  const def = kindFor(manifest.object.apiVersion, manifest.object.kind);
  if (!def) return failed(`the server does not serve ${manifest.object.apiVersion} ${manifest.object.kind}`);
  const object = withStringDataAsData(ownedObject(manifest, owner));
  const id = objectId(manifest.object);
  const base = (live: KubeObject | undefined): Omit<PlannedObject, 'action' | 'changes'> => ({
    manifest,
    def,
    id,
    identity,
    object,
    ...(live ? { live } : {}),
  });
  const known = cached?.(id);
  if (known && isOwnedBy(known, owner) && overrideReasonOf(known) === undefined && alreadyApplied(def, object, known))
    return { planned: { ...base(known), action: 'unchanged', changes: [] } };
  for (let attempt = 1; ; attempt++) {
    try {
      const live = await readLive(client, def, identity);
      const other = live && ownerOf(live);
      if (other && !isOwnedBy(live, owner)) {
        return failed(
          `already applied by ${formatOwner(other)}; it is not taken over (remove its sync labels there first to hand it over)`,
        );
      }
      const overridden = live && overrideReasonOf(live);
      if (overridden !== undefined) return { planned: { ...base(live), action: 'unchanged', changes: [], overridden } };
      if (!live) {
        await dryRunCreate(client, def, object, createdNamespaces);
        return { planned: { ...base(live), action: 'create', changes: compareObjects(def, undefined, object) } };
      }
      const changes = compareObjects(def, live, await applyObject(client, def, object, live, true));
      const action = changes.length || !appliedBySync(live) ? 'update' : 'unchanged';
      return { planned: { ...base(live), action, changes } };
    } catch (err) {
      // The object changed (or appeared) between the read and the dry run: read it again.
      if (isStatusError(err, 'Conflict', 'AlreadyExists') && attempt < ATTEMPTS) continue;
      if (!(err instanceof ApiStatusError) || isTransient(err)) throw err;
      return { failures: failuresOf(err, manifest.file, identity) };
    }
  }
}

/** A dry-run apply creating the object. An object in a namespace this set creates passes when only the missing
 * namespace is wrong: the server checks the namespace after validating the object. (A
 * kube-apiserver checks the namespace first, so there such objects are validated only
 * when written.) */
async function dryRunCreate(
  client: KubeClient,
  def: KindDefinition,
  object: KubeObject,
  createdNamespaces: ReadonlySet<string | undefined>,
): Promise<void> {
  try {
    await applyObject(client, def, object, undefined, true);
  } catch (err) {
    const details = err instanceof ApiStatusError ? err.status.details : undefined;
    const missingNamespace =
      isStatusError(err, 'NotFound') && details?.kind === 'namespaces' && details.name === object.metadata.namespace;
    if (!(missingNamespace && createdNamespaces.has(object.metadata.namespace))) throw err;
  }
}

/** The live object, or undefined when there is none. */
export async function readLive(
  client: KubeClient,
  def: KindDefinition,
  identity: ObjectIdentity,
): Promise<KubeObject | undefined> {
  try {
    return await client.get(def, identity.name, identity.namespace);
  } catch (err) {
    if (isStatusError(err, 'NotFound')) return undefined;
    throw err;
  }
}

/** A Secret's stringData moved into data (base64, stringData winning), as Flux's kustomize-controller
 * applies Secrets: the server moves stringData into data on every write, so an applied stringData key would be
 * owned as a field no object holds, a key removed from Git would stay in data, and every apply would move the
 * manager's time. */
function withStringDataAsData(object: KubeObject): KubeObject {
  const stringData = object.stringData as Record<string, string> | undefined;
  if (object.apiVersion !== 'v1' || object.kind !== 'Secret' || !stringData) return object;
  const { stringData: _s, ...rest } = object;
  const encoded = Object.entries(stringData).map(([key, value]) => [
    key,
    Buffer.from(String(value)).toString('base64'),
  ]);
  return { ...rest, data: { ...(object.data as object | undefined), ...Object.fromEntries(encoded) } } as KubeObject;
}

/** Errors that say nothing about the object: the server is busy or broken; retry later. */
export function isTransient(err: ApiStatusError): boolean {
  return err.code === 429 || err.code >= 500;
}

/** One failure per field the Status names (its causes), else one with its message. */
function failuresOf(err: ApiStatusError, file: string, object: ObjectIdentity): ValidationFailure[] {
  const causes = (err.status.details?.causes ?? []) as Array<{ field?: string; message?: string }>;
  const named = causes.filter((c) => c.message);
  const { reason } = err;
  if (!named.length) return [{ file, object, message: err.message, reason }];
  return named.map((c) => ({ file, object, reason, message: c.message!, ...(c.field ? { field: c.field } : {}) }));
}

/** `fn` over `items` with at most `limit` in flight; results in item order; rejects with the
 * first failure (calls already started still finish). */
export async function mapConcurrently<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
