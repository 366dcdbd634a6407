// What clients send in the query string, read as kube-apiserver reads it: ListOptions for
// list and watch alike, DeleteOptions, the write options. One parser for every verb, so a
// value means the same wherever it is sent, and anything the server cannot use is a 400
// naming the parameter before it reaches the store.
import { errors } from '../errors.ts';
import type { FieldValidation, ListQuery, WriteOptions } from '../registry/store.ts';
import type { IncludeObject } from './table.ts';

/** Storage keeps strings in PostgreSQL text, which cannot hold NUL: refused in every
 * parameter (kube-apiserver would pass it on; no real client sends one). */
export function assertNoNul(query: URLSearchParams): void {
  for (const [name, value] of query) {
    if (value.includes('\0') || name.includes('\0')) {
      throw errors.badRequest(`invalid ${JSON.stringify(name)} parameter: must not contain a NUL character`);
    }
  }
}

/** A bool parameter as kube-apiserver converts it (apimachinery runtime
 * Convert_Slice_string_To_bool): absent is undefined; "0" and "false" in any case are
 * false; any other value, the empty string included, is true — so Python's `True`, `1`
 * and a bare `?watch` all turn a watch on. Never an error. */
export function boolParam(query: URLSearchParams, name: string): boolean | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  return !(raw === '0' || raw.toLowerCase() === 'false');
}

/** A non-negative int64 parameter as Go's strconv.ParseInt reads it: out of int64's range
 * is a 400, as in kube-apiserver. Values past 2^53 − 1 (more items, or seconds, than can
 * ever matter) are read as 2^53 − 1, the largest integer a JavaScript number holds exactly. */
export function intParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^[+-]?\d+$/.test(raw)) throw errors.badRequest(`invalid ${name} "${raw}": must be an integer`);
  const value = BigInt(raw);
  if (value > INT64_MAX || value < -INT64_MAX - 1n) {
    throw errors.badRequest(`invalid ${name} "${raw}": out of the range of a 64-bit integer`);
  }
  if (value < 0n) throw errors.badRequest(`invalid ${name} "${raw}": must not be negative`);
  return value > MAX_SAFE ? Number.MAX_SAFE_INTEGER : Number(value);
}

const INT64_MAX = 2n ** 63n - 1n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** resourceVersion: empty, or a revision the storage can hold (an unsigned integer up to
 * 2^53 − 1); anything else is a 400 naming the parameter. */
function resourceVersionParam(query: URLSearchParams, name: string): string | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^\d+$/.test(raw) || BigInt(raw) > MAX_SAFE) {
    const bound = Number.MAX_SAFE_INTEGER;
    throw errors.badRequest(`invalid ${name} "${raw}": must be an unsigned integer of at most ${bound}`);
  }
  return raw;
}

function enumParam<T extends string>(query: URLSearchParams, name: string, values: readonly T[]): T | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (!(values as readonly string[]).includes(raw)) {
    const quoted = values.map((v) => `"${v}"`);
    const choices = `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`;
    throw errors.badRequest(`invalid ${name} value "${raw}": must be one of ${choices}`);
  }
  return raw as T;
}

export interface ListOptions extends ListQuery {
  watch: boolean;
  allowWatchBookmarks: boolean;
  sendInitialEvents?: boolean;
  timeoutSeconds?: number;
}

/** ListOptions of a list or watch; kube-apiserver decodes the same set for both. */
export function listOptionsOf(query: URLSearchParams): ListOptions {
  return {
    watch: boolParam(query, 'watch') ?? false,
    allowWatchBookmarks: boolParam(query, 'allowWatchBookmarks') ?? false,
    sendInitialEvents: boolParam(query, 'sendInitialEvents'),
    labelSelector: query.get('labelSelector') ?? undefined,
    fieldSelector: query.get('fieldSelector') ?? undefined,
    limit: intParam(query, 'limit'),
    continue: query.get('continue') || undefined,
    resourceVersion: resourceVersionParam(query, 'resourceVersion'),
    resourceVersionMatch: enumParam(query, 'resourceVersionMatch', ['Exact', 'NotOlderThan']),
    timeoutSeconds: intParam(query, 'timeoutSeconds'),
  };
}

/** kube's RequestInfo of a list or watch: the name its field selector requires (`metadata.name=NAME`, or `==`) is
 * the request's name, so a rule with resourceNames may allow a list or watch of that one object. */
export function selectedName(query: URLSearchParams): string | undefined {
  for (const term of (query.get('fieldSelector') ?? '').split(',')) {
    const name = /^\s*metadata\.name\s*==?\s*([^=\s]+)\s*$/.exec(term)?.[1];
    if (name) return name;
  }
  return undefined;
}

export function writeOptions(query: URLSearchParams): WriteOptions {
  const dryRun = query.getAll('dryRun');
  for (const value of dryRun) {
    if (value !== 'All') throw errors.badRequest(`invalid dryRun value "${value}": the only supported value is "All"`);
  }
  const fieldValidation = enumParam<FieldValidation>(query, 'fieldValidation', ['Ignore', 'Warn', 'Strict']) ?? 'Warn';
  const options: WriteOptions = { dryRun: dryRun.length > 0, fieldValidation };
  const fieldManager = query.get('fieldManager');
  if (fieldManager) options.fieldManager = fieldManager;
  const force = boolParam(query, 'force');
  if (force !== undefined) options.force = force;
  return options;
}

export function includeObjectOf(query: URLSearchParams): IncludeObject {
  return enumParam<IncludeObject>(query, 'includeObject', ['None', 'Metadata', 'Object']) ?? 'Metadata';
}

/** DeleteOptions as kube-apiserver takes them: from the body when there is one, otherwise
 * from the query (`gracePeriodSeconds`, `propagationPolicy`, `orphanDependents`). */
export function deleteOptionsOf(
  query: URLSearchParams,
  body: Record<string, unknown> | undefined,
): Record<string, unknown> {
  if (body) return body;
  const options: Record<string, unknown> = {};
  const gracePeriodSeconds = intParam(query, 'gracePeriodSeconds');
  if (gracePeriodSeconds !== undefined) options.gracePeriodSeconds = gracePeriodSeconds;
  const propagationPolicy = enumParam(query, 'propagationPolicy', ['Orphan', 'Background', 'Foreground']);
  if (propagationPolicy) options.propagationPolicy = propagationPolicy;
  const orphanDependents = boolParam(query, 'orphanDependents');
  if (orphanDependents !== undefined) options.orphanDependents = orphanDependents;
  return options;
}
