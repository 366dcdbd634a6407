// The generic store: create, get, update, patch, delete, list and watch for any kind,
// driven by its KindDefinition (schema, defaults, strategy). Conflicts, finalizers,
// generation, dry-run and field validation live here once, for every kind.
import { randomUUID, randomInt } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { FieldError, KindDefinition, KubeObject } from '../../api/kind.ts';
import {
  applyDefaults,
  decodeObjectMeta,
  findUnknownFields,
  pruneNulls,
  pruneUnknownFields,
  validateObject,
  validateObjectMeta,
} from '../../api/schema/index.ts';
import { matchesFields } from '../../storage/field-selection.ts';
import type { LinkedWrite, ListResult, ObjectKey, Storage, StoredObject, WatchEvent } from '../../storage/storage.ts';
import { isStorageError } from '../../storage/storage.ts';
import type { UserInfo } from '../auth/auth.ts';
import { ApiError, errors, fromStorageError, type ResourceRef } from '../errors.ts';
import { assertWithinBounds } from '../object-bounds.ts';
import { matchesLabels, matchesNumeric, parseFieldSelector, parseLabelSelector } from '../selectors.ts';
import { FieldManager, validateManagerOptions, type ManagerOptions } from '../apply/field-manager.ts';
import { decodeContinue, encodeContinue } from './continue-token.ts';
import { applyPatch, type PatchType } from './patch.ts';
import { deletionFinalizers, validatePropagation } from './propagation.ts';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions extends ManagerOptions {
  dryRun: boolean;
  fieldValidation: FieldValidation;
  /** Validating admission: sees a valid object about to be stored (and, on update, the stored one; on delete,
   * only the stored one) and throws an ApiError to refuse it — RBAC's escalation check, the GitOps lock. Dry
   * runs are admitted too. */
  admit?(obj: KubeObject | undefined, old: KubeObject | undefined): Promise<void>;
  /** Who asks for the write (the request's user), for what is recorded of it (StoreHooks.linkedWrite). */
  user?: UserInfo;
  /** Authorizes the `create` verb for a write authorized as another verb that turns out to create the object
   * (a server-side apply of an absent object): kube-apiserver's create-on-update authorization, so that
   * `patch` alone never creates. Throws the 403 to answer. */
  authorizeCreate?(): Promise<void>;
}

export interface WriteResult {
  object: KubeObject;
  warnings: string[];
  /** A server-side apply created the object (answered 201, as a create). */
  created?: boolean;
}

export interface DeleteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
  /** Orphan, Background (the default) or Foreground: see propagation.ts. */
  propagationPolicy?: string;
  /** The deprecated form of propagationPolicy Orphan (true) and Background (false). */
  orphanDependents?: boolean;
  gracePeriodSeconds?: number;
}

export interface DeleteResult {
  object: KubeObject;
  /** True when finalizers keep the object (deletionTimestamp set) — answered 202. */
  pending: boolean;
}

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface ListPage {
  /** Stored JSON texts, ready to splice into a response. */
  items: string[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface WatchQuery {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
  sendInitialEvents?: boolean;
}

export type ObjectEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface ObjectEvent {
  type: ObjectEventType;
  /** For BOOKMARK, an object carrying only apiVersion, kind and metadata.resourceVersion. */
  object: KubeObject;
  /** Marks the BOOKMARK that ends the initial events of a sendInitialEvents watch. */
  initialEventsEnd?: boolean;
}

/** Checks the store asks of the registry: the namespace of the object `name` of `ref` being created exists
 * and is not terminating. */
export interface NamespaceGuard {
  assertWritable(namespace: string, ref: ResourceRef, name: string): Promise<void>;
}

export interface StoreHooks {
  /** Called after an object is written or removed, e.g. to finish a terminating namespace. */
  afterWrite?(def: KindDefinition, namespace: string): void;
  /** A record of the write of `obj` over `old` (obj absent: the object is removed; old absent: it is created)
   * that storage commits with it (an ApiDefinition's history), or undefined. Asked right before the write. */
  linkedWrite?(
    def: KindDefinition,
    obj: KubeObject | undefined,
    old: KubeObject | undefined,
    options: WriteOptions,
  ): Promise<LinkedWrite | undefined>;
}

const GENERATE_NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';
const MAX_PATCH_RETRIES = 5;

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Everything that counts as "spec" for metadata.generation: all but metadata and status. */
function specPart(obj: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}

/** What a write may change and still change nothing: the resourceVersion, and the times of the managedFields
 * entries (kube's IgnoreManagedFieldsTimestampsTransformer). An apply whose merged object differs from the
 * stored one only until defaulting (an atomic list with a defaulted field) gets a new time, and written for that
 * alone it would change the resourceVersion whenever it came in another second than the last. */
function withoutVolatile(obj: KubeObject): KubeObject {
  const { resourceVersion: _rv, managedFields, ...meta } = obj.metadata;
  const untimed = managedFields?.map((entry) => {
    const { time: _time, ...rest } = entry as Record<string, unknown>;
    return rest;
  });
  return { ...obj, metadata: { ...meta, managedFields: untimed } };
}

export class ResourceStore {
  readonly def: KindDefinition;
  readonly ref: ResourceRef;
  readonly apiVersion: string;
  /** Storage prefix of this kind; opaque to storage. */
  readonly resource: string;
  private readonly storage: Storage;
  private readonly namespaces: NamespaceGuard;
  private readonly hooks: StoreHooks;
  /** Records metadata.managedFields on every write and serves server-side apply. */
  private readonly fields: FieldManager;
  private readonly decodedEvents = new WeakMap<WatchEvent, { obj: KubeObject; prev: KubeObject | undefined }>();

  constructor(def: KindDefinition, storage: Storage, namespaces: NamespaceGuard, hooks: StoreHooks = {}) {
    this.def = def;
    this.storage = storage;
    this.namespaces = namespaces;
    this.hooks = hooks;
    this.fields = new FieldManager(def);
    this.ref = { group: def.group, resource: def.plural, kind: def.kind };
    this.apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
    // A kind stored as another (events.k8s.io Events as core ones) shares that kind's storage.
    const stored = def.storedAs?.kind ?? def;
    this.resource = `${stored.group || 'core'}/${stored.plural}`;
  }

  private key(namespace: string, name: string): ObjectKey {
    return { resource: this.resource, namespace: this.def.namespaced ? namespace : '', name };
  }

  private parse(stored: StoredObject): KubeObject {
    return this.decodeText(stored.value);
  }

  /** A stored JSON text as an object of this kind. */
  private decodeText(text: string): KubeObject {
    const obj = JSON.parse(text) as KubeObject;
    return this.def.storedAs ? this.def.storedAs.fromStored(obj) : obj;
  }

  /** An object of this kind as storage holds it. */
  private stored(obj: KubeObject): KubeObject {
    return this.def.storedAs ? this.def.storedAs.toStored(obj) : obj;
  }

  private encoder(obj: KubeObject) {
    const stored = this.stored(obj);
    return (revision: number) =>
      JSON.stringify({ ...stored, metadata: { ...stored.metadata, resourceVersion: String(revision) } });
  }

  private attrs(obj: KubeObject) {
    return { labels: obj.metadata.labels ?? {} };
  }

  private async load(namespace: string, name: string): Promise<StoredObject> {
    try {
      return await this.storage.get(this.key(namespace, name));
    } catch (err) {
      throw fromStorageError(err, this.ref, name);
    }
  }

  private async exists(namespace: string, name: string): Promise<boolean> {
    try {
      await this.load(namespace, name);
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.reason === 'NotFound') return false;
      throw err;
    }
  }

  async get(namespace: string, name: string): Promise<KubeObject> {
    return this.parse(await this.load(namespace, name));
  }

  /** Checks apiVersion/kind and the URL's namespace against a request body. */
  private decodeBody(body: unknown, namespace: string, what: string): KubeObject {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw errors.badRequest(`the body of ${what} must be a JSON or YAML object`);
    }
    // Every write passes here with the object it asks to store, a patch's result included.
    assertWithinBounds(body, what);
    const obj = body as KubeObject;
    // kube-apiserver's decoder takes a built-in type's missing apiVersion and kind from the URL;
    // the one for custom resources requires kind, and refuses a body without with this message.
    if (this.def.builtIn) {
      obj.apiVersion ||= this.apiVersion;
      obj.kind ||= this.def.kind;
    }
    if (!obj.kind) {
      const { kind, version } = this.def;
      const missing = `Object 'Kind' is missing in '${JSON.stringify(body)}'`;
      throw errors.badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: ${missing}`);
    }
    if (!obj.apiVersion) throw errors.badRequest(`Object 'apiVersion' is missing in the body of ${what}`);
    if (obj.apiVersion !== this.apiVersion) {
      throw errors.badRequest(
        `the API version in the data (${obj.apiVersion}) does not match the expected API version (${this.apiVersion}) for ${what}`,
      );
    }
    if (obj.kind !== this.def.kind) {
      throw errors.badRequest(
        `the kind in the data (${obj.kind}) does not match the expected kind (${this.def.kind}) for ${what}`,
      );
    }
    if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
    if (typeof obj.metadata !== 'object' || Array.isArray(obj.metadata))
      throw errors.badRequest(`metadata of ${what} must be an object`);
    if (this.def.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== namespace) {
        throw errors.badRequest(
          `the namespace of the provided object (${obj.metadata.namespace}) does not match the namespace sent on the request (${namespace}) for ${what}`,
        );
      }
      obj.metadata.namespace = namespace;
    } else {
      delete obj.metadata.namespace;
    }
    return obj;
  }

  /** Applies fieldValidation: Strict refuses unknown fields, Warn reports them; all are pruned. */
  private unknownFields(obj: KubeObject, fieldValidation: FieldValidation, what: string): string[] {
    if (fieldValidation === 'Strict') {
      const unknown = findUnknownFields(this.def, obj);
      if (unknown.length) {
        throw errors.badRequest(
          `strict decoding error: ${unknown.map((f) => `unknown field "${f.replace(/^\./, '')}"`).join(', ')} in ${what}`,
          unknown.map((f) => ({
            reason: 'FieldValueInvalid',
            message: `unknown field "${f.replace(/^\./, '')}"`,
            field: f.replace(/^\./, ''),
          })),
        );
      }
    }
    const pruned = pruneUnknownFields(this.def, obj);
    return fieldValidation === 'Warn' ? pruned.map((f) => `unknown field "${f.replace(/^\./, '')}"`) : [];
  }

  private validate(obj: KubeObject, old?: KubeObject): void {
    const errs: FieldError[] = [
      // A create-only kind has no name; its strategy says what metadata it takes.
      ...(this.def.createOnly
        ? []
        : validateObjectMeta(obj.metadata, this.def.namespaced, this.def.kind, this.def.nameProblems)),
      ...validateObject(this.def, obj),
      ...(old && this.def.strategy.validateUpdate ? this.def.strategy.validateUpdate(obj, old) : []),
    ];
    if (errs.length)
      throw errors.invalid(this.ref, this.def.kind, obj.metadata.name ?? obj.metadata.generateName ?? '', errs);
  }

  /** `configmaps/default/settings`, `namespaces/shop`: the object a DeleteOptions error is about. */
  private qualifiedName(namespace: string, name: string): string {
    const resource = this.def.group ? `${this.def.plural}.${this.def.group}` : this.def.plural;
    return this.def.namespaced ? `${resource}/${namespace}/${name}` : `${resource}/${name}`;
  }

  private describe(name: string | undefined): string {
    return `${this.def.kind} "${name ?? ''}"`;
  }

  /** `applied`: a server-side apply creating the object, whose managedFields are already recorded. */
  async create(namespace: string, body: unknown, options: WriteOptions, applied = false): Promise<WriteResult> {
    validateManagerOptions(options, 'CreateOptions', false);
    const obj = this.decodeBody(body, namespace, `${this.def.kind} "${(body as KubeObject)?.metadata?.name ?? ''}"`);
    const meta = obj.metadata;
    const what = this.describe(meta.name);
    const warnings = this.unknownFields(obj, options.fieldValidation, what);
    // An apply's configuration keeps its nulls (see api/schema/nulls.ts); a created object's are dropped.
    if (applied) decodeObjectMeta(meta);
    else pruneNulls(this.def, obj);
    if (!meta.name && meta.generateName && typeof meta.generateName === 'string') {
      let suffix = '';
      for (let i = 0; i < 5; i++) suffix += GENERATE_NAME_CHARS[randomInt(GENERATE_NAME_CHARS.length)];
      meta.name = `${meta.generateName}${suffix}`;
    }
    // managedFields a client sends are kept, as kube-apiserver keeps them (see apply/field-manager.ts).
    const serverSet = [
      'uid',
      'resourceVersion',
      'creationTimestamp',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
      'selfLink',
    ] as const;
    for (const f of serverSet) delete meta[f];
    // A create-only kind is answered, never stored: it has no identity, and its status is the server's answer.
    if (!this.def.createOnly) {
      meta.uid = randomUUID();
      meta.creationTimestamp = now();
    }
    if (this.def.generation) meta.generation = 1;
    if (this.def.statusSubresource || this.def.createOnly) delete obj.status;
    applyDefaults(this.def, obj);
    const preparation = this.def.strategy.prepareForCreate?.(obj) ?? undefined;
    this.validate(obj);
    await options.admit?.(obj, undefined);
    if (this.def.createOnly) return { object: obj, warnings: [...warnings, ...(preparation?.warnings ?? [])] };
    if (!applied) this.fields.update(undefined, obj, options);
    if (this.def.namespaced) await this.namespaces.assertWritable(namespace, this.ref, meta.name as string);
    let stored: KubeObject = obj;
    if (options.dryRun) {
      // A dry run answers as the real create would, AlreadyExists included.
      if (await this.exists(namespace, meta.name as string)) throw errors.alreadyExists(this.ref, meta.name as string);
    } else {
      try {
        const key = this.key(namespace, meta.name as string);
        const linked = await this.hooks.linkedWrite?.(this.def, obj, undefined, options);
        stored = this.parse(await this.storage.create(key, this.attrs(obj), this.encoder(obj), linked));
      } catch (err) {
        throw fromStorageError(err, this.ref, meta.name as string);
      }
      this.hooks.afterWrite?.(this.def, namespace);
    }
    const object = preparation?.responseOnly ? mergeResponseOnly(stored, preparation.responseOnly) : stored;
    return { object, warnings: [...warnings, ...(preparation?.warnings ?? [])] };
  }

  /** PUT of the main resource or of the status subresource. */
  async update(
    namespace: string,
    name: string,
    body: unknown,
    options: WriteOptions,
    subresource?: 'status',
  ): Promise<WriteResult> {
    const what = this.describe(name);
    const obj = this.decodeBody(body, namespace, what);
    if (obj.metadata.name && obj.metadata.name !== name) {
      throw errors.badRequest(
        `the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    obj.metadata.name = name;
    const rv = obj.metadata.resourceVersion;
    if (!rv) {
      throw errors.invalid(this.ref, this.def.kind, name, [
        {
          type: 'FieldValueInvalid',
          field: 'metadata.resourceVersion',
          message: 'Invalid value: 0x0: must be specified for an update',
        },
      ]);
    }
    validateManagerOptions(options, 'UpdateOptions', false);
    const warnings = this.unknownFields(obj, options.fieldValidation, what);
    pruneNulls(this.def, obj);
    const current = await this.load(namespace, name);
    if (String(current.revision) !== rv) throw errors.staleResourceVersion(this.ref, name);
    const object = await this.write(current, obj, options, subresource);
    return { object, warnings };
  }

  async patch(
    namespace: string,
    name: string,
    type: PatchType,
    patch: unknown,
    options: WriteOptions,
    subresource?: 'status',
  ): Promise<WriteResult> {
    validateManagerOptions(options, 'PatchOptions', type === 'apply');
    if (type === 'apply') return this.apply(namespace, name, patch, options, subresource);
    const what = this.describe(name);
    for (let attempt = 0; ; attempt++) {
      const current = await this.load(namespace, name);
      const patched = applyPatch(type, this.parse(current), patch, name) as KubeObject;
      const obj = this.decodeBody(patched, namespace, what);
      if (obj.metadata.name !== name) throw errors.badRequest(`a patch must not change metadata.name of ${what}`);
      // A resourceVersion in the patch is a precondition; without one the patch applies to
      // whatever is current, retried on a concurrent write as kube-apiserver does.
      if (obj.metadata.resourceVersion !== undefined && obj.metadata.resourceVersion !== String(current.revision)) {
        throw errors.staleResourceVersion(this.ref, name);
      }
      const warnings = this.unknownFields(obj, options.fieldValidation, what);
      pruneNulls(this.def, obj);
      try {
        return { object: await this.write(current, obj, options, subresource), warnings };
      } catch (err) {
        if (
          err instanceof ApiError &&
          err.reason === 'Conflict' &&
          attempt < MAX_PATCH_RETRIES &&
          !patchNamesVersion(patch)
        )
          continue;
        throw err;
      }
    }
  }

  /** Server-side apply (PATCH as application/apply-patch+yaml): merges the configuration into the object,
   * or creates it from the configuration when it does not exist (the main resource only). */
  private async apply(
    namespace: string,
    name: string,
    patch: unknown,
    options: WriteOptions,
    subresource?: 'status',
  ): Promise<WriteResult> {
    const what = this.describe(name);
    const config = this.decodeBody(patch, namespace, what);
    if (config.metadata.name !== name) {
      const named = config.metadata.name ?? '';
      throw errors.badRequest(`the name of the object (${named}) does not match the name on the URL (${name})`);
    }
    const warnings = this.unknownFields(config, options.fieldValidation, what);
    for (let attempt = 0; ; attempt++) {
      let current: StoredObject;
      try {
        current = await this.load(namespace, name);
      } catch (err) {
        if (subresource || !(err instanceof ApiError && err.reason === 'NotFound')) throw err;
        await options.authorizeCreate?.();
        const created = await this.create(namespace, this.fields.apply(undefined, config, options), options, true);
        return { object: created.object, warnings: [...warnings, ...created.warnings], created: true };
      }
      // A resourceVersion in the configuration is a precondition, as in any patch.
      const rv = config.metadata.resourceVersion;
      if (rv !== undefined && rv !== String(current.revision)) throw errors.staleResourceVersion(this.ref, name);
      const obj = this.fields.apply(this.parse(current), config, options, subresource);
      decodeObjectMeta(obj.metadata);
      try {
        return { object: await this.write(current, obj, options, subresource, true), warnings };
      } catch (err) {
        const retry = err instanceof ApiError && err.reason === 'Conflict' && attempt < MAX_PATCH_RETRIES;
        if (retry && rv === undefined) continue;
        throw err;
      }
    }
  }

  /** Turns a decoded, pruned update of `current` into the stored object; `applied` when a server-side
   * apply recorded its managedFields already, else the write is recorded as an Update. */
  private async write(
    current: StoredObject,
    input: KubeObject,
    options: WriteOptions,
    subresource?: 'status',
    applied = false,
  ): Promise<KubeObject> {
    const old = this.parse(current);
    const name = old.metadata.name as string;
    const namespace = old.metadata.namespace ?? '';
    let obj: KubeObject;
    if (subresource === 'status') {
      // managedFields come along for an apply, which has recorded them; an Update records them below.
      const managedFields = input.metadata.managedFields;
      obj = { ...old, metadata: { ...old.metadata, managedFields }, status: input.status };
    } else {
      obj = input;
      if (this.def.statusSubresource) {
        if (old.status === undefined) delete obj.status;
        else obj.status = old.status;
      }
      for (const f of [
        'uid',
        'creationTimestamp',
        'deletionTimestamp',
        'deletionGracePeriodSeconds',
        'generation',
      ] as const) {
        if (old.metadata[f] === undefined) delete obj.metadata[f];
        else obj.metadata[f] = old.metadata[f] as never;
      }
      if (old.metadata.deletionTimestamp) {
        const added = (obj.metadata.finalizers ?? []).filter((f) => !(old.metadata.finalizers ?? []).includes(f));
        if (added.length) {
          throw errors.forbidden(
            `${this.describe(name)} is being deleted: no new finalizers can be added (${added.join(', ')})`,
            this.ref,
            name,
          );
        }
      }
    }
    obj.metadata.resourceVersion = String(current.revision);
    applyDefaults(this.def, obj);
    this.def.strategy.prepareForUpdate?.(obj, old);
    this.validate(obj, old);
    if (subresource !== 'status') await options.admit?.(obj, old);
    if (this.def.generation && !isDeepStrictEqual(specPart(obj), specPart(old))) {
      obj.metadata.generation = (old.metadata.generation ?? 0) + 1;
    }
    if (!applied) this.fields.update(old, obj, options, subresource);
    // An update that changes nothing is not written: no new resourceVersion, no event.
    if (isDeepStrictEqual(withoutVolatile(obj), withoutVolatile(old))) return old;
    if (options.dryRun) return obj;
    const key = this.key(namespace, name);
    try {
      if (obj.metadata.deletionTimestamp && !(obj.metadata.finalizers ?? []).length) {
        const linked = await this.hooks.linkedWrite?.(this.def, undefined, old, options);
        const removed = await this.storage.delete(key, current.revision, linked);
        this.hooks.afterWrite?.(this.def, namespace);
        return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(removed.revision) } };
      }
      const linked = await this.hooks.linkedWrite?.(this.def, obj, old, options);
      const stored = this.parse(
        await this.storage.update(key, current.revision, this.attrs(obj), this.encoder(obj), linked),
      );
      this.hooks.afterWrite?.(this.def, namespace);
      return stored;
    } catch (err) {
      throw fromStorageError(err, this.ref, name);
    }
  }

  async delete(
    namespace: string,
    name: string,
    deleteOptions: DeleteOptions,
    options: WriteOptions,
  ): Promise<DeleteResult> {
    validatePropagation(deleteOptions, this.qualifiedName(namespace, name));
    // As kube-apiserver's store: without a resourceVersion precondition, a delete that raced another write (the
    // gateway's status, a Sync's apply, made while the delete was being admitted) is tried again on the object.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.deleteAt(namespace, name, deleteOptions, options);
      } catch (err) {
        const retry = err instanceof ApiError && err.reason === 'Conflict' && attempt < MAX_PATCH_RETRIES;
        if (!retry || deleteOptions.preconditions?.resourceVersion) throw err;
      }
    }
  }

  /** One attempt of delete, on the object as read now. */
  private async deleteAt(
    namespace: string,
    name: string,
    deleteOptions: DeleteOptions,
    options: WriteOptions,
  ): Promise<DeleteResult> {
    const current = await this.load(namespace, name);
    const obj = this.parse(current);
    const pre = deleteOptions.preconditions;
    if (pre?.uid && pre.uid !== obj.metadata.uid) {
      throw errors.conflict(
        this.ref,
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`,
      );
    }
    if (pre?.resourceVersion && pre.resourceVersion !== String(current.revision)) {
      throw errors.conflict(
        this.ref,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.revision}`,
      );
    }
    await options.admit?.(undefined, obj);
    const key = this.key(namespace, name);
    const finalizers = deletionFinalizers(obj.metadata.finalizers ?? [], deleteOptions);
    if (finalizers.length) {
      // Deleting an object being deleted changes at most its garbage collection finalizer, as kube-apiserver.
      if (obj.metadata.deletionTimestamp && sameMembers(finalizers, obj.metadata.finalizers ?? [])) {
        return { object: obj, pending: true };
      }
      const deletionTimestamp = obj.metadata.deletionTimestamp ?? now();
      const metadata = { ...obj.metadata, finalizers, deletionTimestamp, deletionGracePeriodSeconds: 0 };
      const marked: KubeObject = { ...obj, metadata };
      if (options.dryRun) return { object: marked, pending: true };
      try {
        const linked = await this.hooks.linkedWrite?.(this.def, marked, obj, options);
        const stored = await this.storage.update(
          key,
          current.revision,
          this.attrs(marked),
          this.encoder(marked),
          linked,
        );
        this.hooks.afterWrite?.(this.def, namespace);
        return { object: this.parse(stored), pending: true };
      } catch (err) {
        throw fromStorageError(err, this.ref, name);
      }
    }
    if (options.dryRun) return { object: obj, pending: false };
    try {
      const linked = await this.hooks.linkedWrite?.(this.def, undefined, obj, options);
      const removed = await this.storage.delete(key, current.revision, linked);
      this.hooks.afterWrite?.(this.def, namespace);
      return {
        object: { ...obj, metadata: { ...obj.metadata, resourceVersion: String(removed.revision) } },
        pending: false,
      };
    } catch (err) {
      throw fromStorageError(err, this.ref, name);
    }
  }

  async list(namespace: string | undefined, query: ListQuery): Promise<ListPage> {
    const labels = parseLabelSelector(query.labelSelector);
    const fields = parseFieldSelector(query.fieldSelector, this.def);
    const limit = query.limit && query.limit > 0 ? query.limit : undefined;
    let revision: number | undefined;
    let after: { namespace: string; name: string } | undefined;
    if (query.continue) {
      const position = decodeContinue(query.continue, this.resource);
      revision = position.revision;
      after = { namespace: position.namespace, name: position.name };
    } else if (query.resourceVersion && query.resourceVersion !== '0') {
      const rv = parseResourceVersion(query.resourceVersion);
      const current = await this.storage.currentRevision();
      if (rv > current)
        throw new ApiError('Timeout', `Too large resource version: ${rv}, current: ${current}`, {
          causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
          retryAfterSeconds: 1,
        });
      if (query.resourceVersionMatch === 'Exact') revision = rv;
    }
    let result: ListResult;
    try {
      result = await this.storage.list({
        resource: this.resource,
        namespace: this.def.namespaced ? namespace : undefined,
        labels: labels.requirements,
        fields,
        limit,
        after,
        revision,
      });
    } catch (err) {
      if (isStorageError(err, 'Expired')) {
        throw errors.expired(
          query.continue
            ? 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.'
            : `too old resource version: ${revision}`,
        );
      }
      throw fromStorageError(err, this.ref, '');
    }
    const items = labels.numeric.length
      ? result.items.filter((item) =>
          matchesNumeric(labels.numeric, (JSON.parse(item.value) as KubeObject).metadata.labels),
        )
      : result.items;
    const texts = items.map((i) => (this.def.storedAs ? JSON.stringify(this.decodeText(i.value)) : i.value));
    const page: ListPage = { items: texts, resourceVersion: String(result.revision) };
    const last = result.items[result.items.length - 1];
    if (result.more && last) {
      page.continue = encodeContinue({
        resource: this.resource,
        revision: result.revision,
        namespace: last.key.namespace,
        name: last.key.name,
      });
      if (result.remaining !== undefined) page.remainingItemCount = result.remaining;
    }
    return page;
  }

  /** Opens a watch with Kubernetes semantics: without a resourceVersion (or "0") it starts
   * with ADDED events for the current state; with one it resumes after it. Objects
   * entering or leaving a label selection appear as ADDED / DELETED. Selector and
   * resourceVersion errors are thrown here, before any event. */
  async watch(
    namespace: string | undefined,
    query: WatchQuery,
    signal: AbortSignal,
  ): Promise<AsyncGenerator<ObjectEvent>> {
    const labels = parseLabelSelector(query.labelSelector);
    const fields = parseFieldSelector(query.fieldSelector, this.def);
    const matches = (obj: KubeObject | undefined): boolean =>
      obj !== undefined &&
      matchesLabels(labels, obj.metadata.labels) &&
      matchesFields(
        fields,
        { namespace: obj.metadata.namespace ?? '', name: obj.metadata.name ?? '' },
        // Field requirements name paths of the stored object.
        () => this.stored(obj),
      );
    const ns = this.def.namespaced ? namespace : undefined;
    const initial: ObjectEvent[] = [];
    let from: number;
    const noVersion = !query.resourceVersion || query.resourceVersion === '0';
    if (query.sendInitialEvents === true || (noVersion && query.sendInitialEvents === undefined)) {
      const page = await this.storage.list({
        resource: this.resource,
        namespace: ns,
        labels: labels.requirements,
        fields,
      });
      for (const item of page.items) {
        const obj = this.decodeText(item.value);
        if (matchesNumeric(labels.numeric, obj.metadata.labels)) initial.push({ type: 'ADDED', object: obj });
      }
      from = page.revision;
      if (query.sendInitialEvents) {
        initial.push({
          type: 'BOOKMARK',
          object: { apiVersion: this.apiVersion, kind: this.def.kind, metadata: { resourceVersion: String(from) } },
          initialEventsEnd: true,
        });
      }
    } else if (noVersion) {
      from = await this.storage.currentRevision();
    } else {
      from = parseResourceVersion(query.resourceVersion as string);
    }
    const watch = await this.openWatch(ns, from);
    const stop = () => watch.close();
    signal.addEventListener('abort', stop, { once: true });
    const mapEvent = (event: WatchEvent) => this.mapEvent(event, matches);
    return (async function* () {
      try {
        yield* initial;
        for await (const event of watch) {
          const mapped = mapEvent(event);
          if (mapped) yield mapped;
        }
      } finally {
        signal.removeEventListener('abort', stop);
        watch.close();
      }
    })();
  }

  private async openWatch(namespace: string | undefined, from: number) {
    try {
      return await this.storage.watch({ resource: this.resource, namespace, fromRevision: from });
    } catch (err) {
      if (isStorageError(err, 'Expired'))
        throw errors.expired(`too old resource version: ${from} (${await this.storage.compactedRevision()})`);
      throw fromStorageError(err, this.ref, '');
    }
  }

  /** Storage hands the same event to every watch of a resource: it is decoded once, and
   * the decoded objects are shared, read-only, by all of them. */
  private decode(event: WatchEvent): { obj: KubeObject; prev: KubeObject | undefined } {
    let decoded = this.decodedEvents.get(event);
    if (!decoded) {
      const obj = this.decodeText(event.value);
      // A deleted object is reported with the revision of its deletion.
      if (event.type === 'DELETED') obj.metadata.resourceVersion = String(event.revision);
      const prev =
        event.type === 'MODIFIED' && event.prevValue !== undefined ? this.decodeText(event.prevValue) : undefined;
      decoded = { obj, prev };
      this.decodedEvents.set(event, decoded);
    }
    return decoded;
  }

  private mapEvent(event: WatchEvent, matches: (obj: KubeObject | undefined) => boolean): ObjectEvent | undefined {
    const { obj, prev } = this.decode(event);
    if (event.type === 'DELETED') return matches(obj) ? { type: 'DELETED', object: obj } : undefined;
    const now = matches(obj);
    const before = matches(prev);
    if (now && before) return { type: 'MODIFIED', object: obj };
    if (now) return { type: 'ADDED', object: obj };
    if (before) return { type: 'DELETED', object: obj };
    return undefined;
  }
}

function parseResourceVersion(rv: string): number {
  if (!/^\d+$/.test(rv)) throw errors.badRequest(`invalid resourceVersion "${rv}": must be an unsigned integer`);
  return Number(rv);
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((f) => b.includes(f));
}

function patchNamesVersion(patch: unknown): boolean {
  if (Array.isArray(patch))
    return patch.some((op) => typeof op?.path === 'string' && op.path === '/metadata/resourceVersion');
  const meta = (patch as { metadata?: { resourceVersion?: unknown } } | null)?.metadata;
  return meta?.resourceVersion !== undefined;
}

/** Adds fields that are shown once (never stored) to a create response's status. */
function mergeResponseOnly(obj: KubeObject, extra: Record<string, unknown>): KubeObject {
  const status = typeof obj.status === 'object' && obj.status !== null ? obj.status : {};
  return { ...obj, status: { ...status, ...extra } };
}
