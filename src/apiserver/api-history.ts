// The history of an ApiDefinition: every generation the API server writes (creation and each spec change), with
// when, who, and the spec fields that changed, served at apidefinitions/{name}/history. It is recorded by the
// registry's store as a linked write (storage.ts LinkedWrite): in the transaction of the write itself, at the
// next revision, so a generation is recorded exactly when it is stored, never when the write fails, and a
// restart loses nothing. One stored document per ApiDefinition, in a collection of its own (HISTORY_RESOURCE),
// holding at most `limit` entries (the oldest go first); it is deleted with the ApiDefinition.
//
// A write by the identity a Sync applies as (the Sync its sync labels name: syncWriter) is attributed to that
// Sync, the revision it is applying (status.lastAttemptedRevision, recorded before it writes anything) and that
// commit's author and subject from the Sync's GitRepository's status.artifact when it holds that revision.
import { compareObjects } from '../api/compare.ts';
import type { KindDefinition, KubeObject } from '../api/kind.ts';
import { apiDefinitionKind } from '../api/kinds/api-definition/index.ts';
import {
  API_HISTORY_KIND,
  type ApiDefinitionHistory,
  type ApiHistoryChange,
  type ApiHistoryEntry,
  type ApiHistorySource,
} from '../api/kinds/api-definition/history.ts';
import { gitRepositoryKind } from '../api/kinds/git-repository/index.ts';
import type { GitRepository } from '../api/kinds/git-repository/types.ts';
import { SYNC_NAME_LABEL, SYNC_NAMESPACE_LABEL, syncKind, syncWriter, type Sync } from '../api/kinds/sync/index.ts';
import { isStorageError, type LinkedWrite, type ObjectKey, type Storage } from '../storage/storage.ts';
import { ApiError, fromStorageError } from './errors.ts';
import type { SubresourceHandler } from './http/handler.ts';
import type { ResourceStore, StoreHooks, WriteOptions } from './registry/store.ts';

/** Storage prefix of the histories; opaque to storage, and no kind's (those are `<group>/<plural>`). */
export const HISTORY_RESOURCE = 'gatehouse.dev/apidefinitions.history';
const API_VERSION = `${apiDefinitionKind.group}/${apiDefinitionKind.version}`;
/** Fields whose values are credentials as often as not: header values the gateway sends upstream or back. */
const SECRET_LIKE = /^spec\.(requestHeaders|responseHeaders)\.set\[/;

export interface ApiHistoryOptions {
  storage: Storage;
  /** Entries kept per ApiDefinition. */
  limit: number;
  /** The registry's store of a kind, to read the Sync and GitRepository behind a Sync's write. */
  store(group: string, plural: string): ResourceStore | undefined;
}

export class ApiHistory implements Required<Pick<StoreHooks, 'linkedWrite'>> {
  constructor(private readonly options: ApiHistoryOptions) {
    if (!(Number.isInteger(options.limit) && options.limit > 0))
      throw new RangeError(`the API history limit must be a positive integer, got ${options.limit}`);
  }

  /** The history's write for a write of an ApiDefinition that creates, removes or changes a generation. */
  async linkedWrite(
    def: KindDefinition,
    obj: KubeObject | undefined,
    old: KubeObject | undefined,
    options: WriteOptions,
  ): Promise<LinkedWrite | undefined> {
    if (def.group !== apiDefinitionKind.group || def.plural !== apiDefinitionKind.plural) return undefined;
    const { namespace = '', name = '' } = (obj ?? old)?.metadata ?? {};
    const key = historyKey(namespace, name);
    if (!obj) return { key, encode: () => undefined };
    const generation = obj.metadata.generation ?? 1;
    if (old && generation === old.metadata.generation) return undefined;
    const user = options.user?.name;
    const sync = user === undefined ? undefined : await this.syncSource(obj, user);
    const entry: Omit<ApiHistoryEntry, 'resourceVersion'> = {
      generation,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      ...(user === undefined ? {} : { user }),
      ...(sync ? { sync } : {}),
      changes: specChanges(def, old, obj),
    };
    const { limit } = this.options;
    const encode = (revision: number, current: string | undefined) => {
      // A created object starts a history: one left by an earlier object of that name is not its.
      const kept = old && current ? (JSON.parse(current) as ApiDefinitionHistory).entries : [];
      const entries = [...kept, { ...entry, resourceVersion: String(revision) }].slice(-limit);
      const metadata = { name, namespace, uid: obj.metadata.uid };
      return JSON.stringify({ apiVersion: API_VERSION, kind: API_HISTORY_KIND, metadata, entries });
    };
    return { key, encode };
  }

  /** Serves GET apidefinitions/{name}/history; the handler has checked that the ApiDefinition exists. */
  subresource(): SubresourceHandler {
    return {
      group: apiDefinitionKind.group,
      plural: apiDefinitionKind.plural,
      kind: apiDefinitionKind.kind,
      name: 'history',
      verbs: ['get'],
      responseKind: { group: apiDefinitionKind.group, version: apiDefinitionKind.version, kind: API_HISTORY_KIND },
      handle: async ({ namespace, name, store }) => ({ body: await this.read(store, namespace, name) }),
    };
  }

  private async read(store: ResourceStore, namespace: string, name: string): Promise<ApiDefinitionHistory> {
    try {
      const stored = await this.options.storage.get(historyKey(namespace, name));
      const history = JSON.parse(stored.value) as ApiDefinitionHistory;
      return { ...history, metadata: { ...history.metadata, resourceVersion: String(stored.revision) } };
    } catch (err) {
      if (!isStorageError(err, 'NotFound')) throw fromStorageError(err, store.ref, name);
      // Written before histories were recorded: nothing is known of its generations.
      const { uid } = (await store.get(namespace, name)).metadata;
      return { apiVersion: API_VERSION, kind: API_HISTORY_KIND, metadata: { name, namespace, uid }, entries: [] };
    }
  }

  /** The Sync that `user` writes `obj` for, when `user` is the identity that Sync applies as. */
  private async syncSource(obj: KubeObject, user: string): Promise<ApiHistorySource | undefined> {
    const labels = obj.metadata.labels ?? {};
    const name = labels[SYNC_NAME_LABEL];
    const namespace = labels[SYNC_NAMESPACE_LABEL];
    if (!name || !namespace) return undefined;
    const sync = (await this.find(syncKind, namespace, name)) as Sync | undefined;
    if (!sync || syncWriter(sync) !== user) return undefined;
    const revision = sync.status?.lastAttemptedRevision;
    const ref = sync.spec.sourceRef;
    const repository =
      revision && (ref.kind ?? gitRepositoryKind.kind) === gitRepositoryKind.kind
        ? ((await this.find(gitRepositoryKind, ref.namespace ?? namespace, ref.name)) as GitRepository | undefined)
        : undefined;
    const source: ApiHistorySource = { namespace, name };
    if (revision) source.revision = revision;
    const artifact = repository?.status?.artifact;
    if (artifact && artifact.revision === revision) {
      if (artifact.author) source.author = artifact.author;
      if (artifact.subject) source.subject = artifact.subject;
    }
    return source;
  }

  private async find(def: KindDefinition, namespace: string, name: string): Promise<KubeObject | undefined> {
    try {
      return await this.options.store(def.group, def.plural)?.get(namespace, name);
    } catch (err) {
      if (err instanceof ApiError && err.reason === 'NotFound') return undefined;
      throw err;
    }
  }
}

function historyKey(namespace: string, name: string): ObjectKey {
  return { resource: HISTORY_RESOURCE, namespace, name };
}

/** The spec fields `obj` changed from `old` (all of them on a create), Secret-like values masked. */
export function specChanges(def: KindDefinition, old: KubeObject | undefined, obj: KubeObject): ApiHistoryChange[] {
  return compareObjects(def, old, obj)
    .filter((c) => c.path.startsWith('spec.'))
    .map((c) => {
      const masked = SECRET_LIKE.test(c.path);
      const change: ApiHistoryChange = { path: c.path };
      if ('live' in c) change.before = masked ? '***' : c.live;
      if ('desired' in c) change.after = masked ? '***' : c.desired;
      return change;
    });
}
