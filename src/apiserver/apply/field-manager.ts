// metadata.managedFields for every write, and server-side apply: kube-apiserver's field
// manager (k8s.io/apiserver/pkg/endpoints/handlers/fieldmanager), over the kind-agnostic
// core in api/apply. The generic store calls it once per write; as in kube, what a manager
// owns is tracked on a view of the object without the fields no one manages (managed-view.ts).
// The manager of a write is its `fieldManager` parameter, else the User-Agent up to its
// first `/` (kube's prefixFromUserAgent), so `kubectl/v1.32.0 (linux/amd64)` is `kubectl`.
import type { JSONSchema, KindDefinition, KubeObject } from '../../api/kind.ts';
import { fieldElement, FieldSet, FieldsV1Error, pathString } from '../../api/apply/field-set.ts';
import {
  ApplyConflictError,
  applyConfig,
  capUpdateManagers,
  recordUpdate,
  type Conflict,
  type ManagedEntry,
  type Managers,
  type ManagerIdentity,
  type Operation,
  identityKey,
} from '../../api/apply/managers.ts';
import { managedView, STRIPPED_METADATA } from '../../api/apply/managed-view.ts';
import { compare, fieldsOf } from '../../api/apply/typed.ts';
import { fullSchema } from '../../api/schema/index.ts';
import { ApiError, errors } from '../errors.ts';

/** What a write says about its manager (query parameters and the request's User-Agent). */
export interface ManagerOptions {
  fieldManager?: string;
  userAgent?: string;
  /** `force`: an apply takes the fields other managers own instead of failing with a conflict. */
  force?: boolean;
}

/** kube's validation.FieldManagerMaxLength. */
const MAX_MANAGER_LENGTH = 128;

/** What client-side `kubectl apply` records as the configuration it last applied. */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

const METADATA = FieldSet.of([[fieldElement('metadata')]]);

/** The manager of an unmanaged object's fields at its first apply (kube's beforeApplyManagerName). */
const BEFORE_FIRST_APPLY = 'before-first-apply';

export type OptionsKind = 'CreateOptions' | 'UpdateOptions' | 'PatchOptions';

/** Checks `fieldManager` and `force` as kube's ValidatePatchOptions (and its create and update
 * counterparts) do: a 422 naming the parameter. An apply needs an explicit manager. */
export function validateManagerOptions(options: ManagerOptions, kind: OptionsKind, apply: boolean): void {
  const problems = [];
  const manager = options.fieldManager;
  if (apply && !manager) {
    const message = 'Required value: is required for apply patch';
    problems.push({ type: 'FieldValueRequired' as const, field: 'fieldManager', message });
  }
  if (!apply && options.force !== undefined && kind === 'PatchOptions') {
    const message = 'Forbidden: may not be specified for non-apply patch';
    problems.push({ type: 'FieldValueForbidden' as const, field: 'force', message });
  }
  if (manager && manager.length > MAX_MANAGER_LENGTH) {
    const message = `Too long: may not be more than ${MAX_MANAGER_LENGTH} bytes`;
    problems.push({ type: 'FieldValueTooLong' as const, field: 'fieldManager', message });
  }
  const unprintable = manager ? [...manager].findIndex((c) => !isPrintable(c)) : -1;
  if (unprintable >= 0) {
    const message = `Invalid value: ${JSON.stringify(manager)}: invalid characters at position ${unprintable}`;
    problems.push({ type: 'FieldValueInvalid' as const, field: 'fieldManager', message });
  }
  if (problems.length) throw errors.invalid({ group: 'meta.k8s.io', resource: kind }, kind, '', problems);
}

function isPrintable(c: string): boolean {
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(c);
}

/** The manager a write is recorded under: `fieldManager`, else the User-Agent's product name. */
export function managerName(options: ManagerOptions): string {
  if (options.fieldManager) return options.fieldManager;
  let name = '';
  for (const c of (options.userAgent ?? '').split('/')[0]) {
    if (!isPrintable(c)) continue;
    if (Buffer.byteLength(name + c) > MAX_MANAGER_LENGTH) break;
    name += c;
  }
  return name;
}

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class FieldManager {
  private readonly schema: JSONSchema;
  private readonly apiVersion: string;
  private readonly def: KindDefinition;

  constructor(def: KindDefinition) {
    this.def = def;
    this.schema = fullSchema(def);
    this.apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
  }

  /** Records an Update (create, update, patch) of `old` (absent for a create) into `obj`'s managedFields.
   * As kube's decodeLiveOrNew: managedFields a client sends replace the stored ones (`[{}]` clears them),
   * except on a subresource; a client that sends none keeps the stored ones. */
  update(old: KubeObject | undefined, obj: KubeObject, options: ManagerOptions, subresource?: 'status'): void {
    const sent = subresource ? undefined : obj.metadata.managedFields;
    const managers = isReset(sent) ? new Map() : (decode(sent) ?? decode(old?.metadata.managedFields) ?? new Map());
    if (old && managers.size === 0) {
      // kube's skipNonAppliedManager: an existing object no one manages (stored before managedFields were
      // recorded, or cleared by a client with `[{}]`) stays unmanaged until its first apply.
      delete obj.metadata.managedFields;
      return;
    }
    const id = this.identity(managerName(options), 'Update', subresource);
    const live = old ? managedView(this.def, old, subresource) : {};
    const result = recordUpdate(this.schema, live, managedView(this.def, obj, subresource), managers, id, now());
    this.store(obj, result);
  }

  /** Server-side apply of `config` (decoded, pruned) to `live` (absent: the apply creates). Returns the
   * object to store, managedFields included; throws a 409 naming each conflicting field. */
  apply(live: KubeObject | undefined, config: KubeObject, options: ManagerOptions, subresource?: 'status'): KubeObject {
    if (config.metadata.managedFields !== undefined) {
      const what = `${this.def.kind} "${config.metadata.name}"`;
      throw errors.badRequest(`metadata.managedFields must be nil in an apply of ${what}`);
    }
    const base = live ?? config;
    let managers: Managers = decode(live?.metadata.managedFields) ?? new Map();
    const id = this.identity(managerName(options), 'Apply', subresource);
    const tracked = live ? managedView(this.def, live, subresource) : {};
    if (live && managers.size === 0) {
      // kube's skipNonAppliedManager: the fields of an object no one manages are owned, before its first
      // apply, by an Update of the manager `before-first-apply`, so that apply conflicts with them.
      const before = this.identity(BEFORE_FIRST_APPLY, 'Update', subresource);
      managers = recordUpdate(this.schema, {}, tracked, managers, before, now());
    }
    const run = (force: boolean) =>
      applyConfig(this.schema, tracked, managedView(this.def, config, subresource), managers, id, force, now());
    let result: ReturnType<typeof run>;
    try {
      result = run(options.force ?? false);
    } catch (err) {
      if (!(err instanceof ApplyConflictError)) throw err;
      // kube's lastAppliedManager: `kubectl apply --server-side` takes over from client-side `kubectl apply`
      // the fields whose live value is still the one the last-applied annotation holds; others stay conflicts.
      const allowed = id.manager === 'kubectl' && live ? this.lastApplied(live, subresource) : undefined;
      const left = allowed ? err.conflicts.filter((c) => !allowed.has(c.path)) : err.conflicts;
      if (left.length) throw conflictError(left);
      result = run(true);
    }
    const obj = this.untracked(base, result.object as Record<string, unknown>, subresource);
    this.store(obj, result.managers);
    return obj;
  }

  /** The fields of `live` that client-side `kubectl apply` last set and that still hold what it set. */
  private lastApplied(live: KubeObject, subresource?: 'status'): FieldSet | undefined {
    const annotation = live.metadata.annotations?.[LAST_APPLIED];
    if (!annotation) return undefined;
    let applied: unknown;
    try {
      applied = JSON.parse(annotation);
    } catch {
      return undefined;
    }
    if (typeof applied !== 'object' || applied === null || Array.isArray(applied)) return undefined;
    const last = managedView(this.def, { metadata: {}, ...applied } as KubeObject, subresource);
    return fieldsOf(this.schema, last).difference(
      compare(this.schema, last, managedView(this.def, live, subresource)).modified,
    );
  }

  private identity(manager: string, operation: Operation, subresource?: string): ManagerIdentity {
    return { manager, operation, apiVersion: this.apiVersion, ...(subresource ? { subresource } : {}) };
  }

  /** `base` with its managed view replaced by `view`: the inverse of managedView(). */
  private untracked(base: KubeObject, view: Record<string, unknown>, subresource?: 'status'): KubeObject {
    if (subresource === 'status') {
      const { status: _s, ...rest } = base;
      return view.status === undefined ? (rest as KubeObject) : ({ ...rest, status: view.status } as KubeObject);
    }
    const kept: Record<string, unknown> = {};
    for (const field of STRIPPED_METADATA) if (base.metadata[field] !== undefined) kept[field] = base.metadata[field];
    const { metadata, ...fields } = view;
    const obj: KubeObject = {
      apiVersion: base.apiVersion,
      kind: base.kind,
      metadata: { ...kept, ...(metadata as Record<string, unknown>) },
      ...fields,
    };
    if (this.def.statusSubresource && base.status !== undefined) obj.status = base.status;
    return obj;
  }

  private store(obj: KubeObject, written: Managers): void {
    const managers = capUpdateManagers(written);
    // metadata itself is never owned, only fields in it (kube's stripMeta manager strips the path).
    for (const [key, entry] of managers) managers.set(key, { ...entry, fields: entry.fields.difference(METADATA) });
    const entries = encode(managers);
    if (entries.length) obj.metadata.managedFields = entries;
    else delete obj.metadata.managedFields;
  }
}

/** A single empty entry: kube's way for a client to clear managedFields. */
function isReset(managedFields: unknown): boolean {
  return (
    Array.isArray(managedFields) &&
    managedFields.length === 1 &&
    typeof managedFields[0] === 'object' &&
    managedFields[0] !== null &&
    Object.keys(managedFields[0]).length === 0
  );
}

/** managedFields as stored, or undefined when absent, empty or unreadable (kube then falls back, never fails). */
function decode(managedFields: unknown): Managers | undefined {
  if (!Array.isArray(managedFields) || managedFields.length === 0) return undefined;
  const managers: Managers = new Map();
  for (const raw of managedFields as Record<string, unknown>[]) {
    if (typeof raw !== 'object' || raw === null) return undefined;
    const { manager, operation, apiVersion, time, fieldsType, fieldsV1, subresource } = raw;
    if (typeof manager !== 'string' || (operation !== 'Apply' && operation !== 'Update')) return undefined;
    if (fieldsType !== 'FieldsV1' || typeof apiVersion !== 'string') return undefined;
    let fields: FieldSet;
    try {
      fields = FieldSet.fromFieldsV1(fieldsV1 ?? {});
    } catch (err) {
      if (err instanceof FieldsV1Error) return undefined;
      throw err;
    }
    const entry: ManagedEntry = { manager, operation, apiVersion, fields };
    if (typeof time === 'string') entry.time = time;
    if (typeof subresource === 'string' && subresource) entry.subresource = subresource;
    managers.set(identityKey(entry), entry);
  }
  return managers;
}

/** kube's encoding: fields in ManagedFieldsEntry order, entries sorted by operation, time, manager,
 * apiVersion and subresource (sortEncodedManagedFields). */
function encode(managers: Managers): Record<string, unknown>[] {
  const entries = [...managers.values()].sort(
    (p, q) =>
      compareStrings(p.operation, q.operation) ||
      compareStrings(p.time ?? '', q.time ?? '') ||
      compareStrings(p.manager, q.manager) ||
      compareStrings(p.apiVersion, q.apiVersion) ||
      compareStrings(p.subresource ?? '', q.subresource ?? ''),
  );
  return entries.map((e) => ({
    manager: e.manager,
    operation: e.operation,
    apiVersion: e.apiVersion,
    ...(e.time ? { time: e.time } : {}),
    fieldsType: 'FieldsV1',
    fieldsV1: e.fields.toFieldsV1(),
    ...(e.subresource ? { subresource: e.subresource } : {}),
  }));
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** kube's NewConflictError: 409 Conflict, one FieldManagerConflict cause per field. */
function conflictError(conflicts: Conflict[]): ApiError {
  const causes = conflicts.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${printManager(c.manager)}`,
    field: pathString(c.path),
  }));
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(conflicts[0].manager)}: ${causes[0].field}`;
  } else {
    const lines: string[] = [];
    for (const manager of [...new Set(conflicts.map((c) => printManager(c.manager)))].sort()) {
      lines.push(`conflicts with ${manager}:`);
      for (const c of conflicts) if (printManager(c.manager) === manager) lines.push(`- ${pathString(c.path)}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError('Conflict', message, { causes });
}

/** kube's printManager: `"name"`, with its subresource, and for an Update its API version. The time is not part of
 * the manager identifier kube prints from (BuildManagerIdentifier drops it). */
function printManager(m: Conflict['manager']): string {
  let text = JSON.stringify(m.manager);
  if (m.subresource) text += ` with subresource ${JSON.stringify(m.subresource)}`;
  if (m.operation === 'Update') text += ` using ${m.apiVersion}`;
  return text;
}
