// Patch formats. JSON merge patch (RFC 7386) and JSON patch (RFC 6902, through
// fast-json-patch) work on every kind. Strategic merge patch is answered the way
// kube-apiserver answers it: 415 for custom kinds; for the built-in core kinds, whose
// lists carry no merge keys we serve, it is a merge patch that honours the `$patch` and
// `$setElementOrder`/`$retainKeys`/`$deleteFromPrimitiveList` directives kubectl emits.
// Server-side apply (application/apply-patch+yaml) is accepted on every kind and served by
// the field manager (apiserver/apply), not here.
import jsonpatch from 'fast-json-patch';
import { errors } from '../errors.ts';

export const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

export type PatchType = keyof typeof PATCH_TYPES;

export function patchTypeOf(contentType: string | undefined, strategicAllowed: boolean): PatchType {
  const media = (contentType ?? '').split(';')[0].trim().toLowerCase();
  const strategic = strategicAllowed ? [PATCH_TYPES.strategic] : [];
  const accepted = [PATCH_TYPES.json, PATCH_TYPES.merge, ...strategic, PATCH_TYPES.apply];
  for (const [type, value] of Object.entries(PATCH_TYPES)) {
    if (value === media && accepted.includes(value as (typeof accepted)[number])) return type as PatchType;
  }
  throw errors.unsupportedMediaType(media || '(none)', accepted);
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 7386: objects merge recursively, null deletes, everything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function strategicMerge(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  if (patch.$patch === 'replace') {
    const { $patch: _, ...rest } = patch;
    return rest;
  }
  if (patch.$patch === 'delete') return undefined;
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (
      key.startsWith('$setElementOrder/') ||
      key === '$retainKeys' ||
      key.startsWith('$deleteFromPrimitiveList/') ||
      key === '$patch'
    )
      continue;
    if (value === null) {
      delete result[key];
      continue;
    }
    const merged = strategicMerge(result[key], value);
    if (merged === undefined) delete result[key];
    else result[key] = merged;
  }
  return result;
}

/** Applies a patch document to `current` (not mutated). Throws 422-worthy BadRequest on a
 * JSON patch whose operations do not apply. Server-side apply is the field manager's (apiserver/apply). */
export function applyPatch(type: Exclude<PatchType, 'apply'>, current: object, patch: unknown, name: string): unknown {
  switch (type) {
    case 'merge':
      if (!isObject(patch)) throw errors.badRequest(`merge patch for "${name}" must be a JSON object`);
      return mergePatch(current, patch);
    case 'strategic':
      if (!isObject(patch)) throw errors.badRequest(`strategic merge patch for "${name}" must be a JSON object`);
      return strategicMerge(current, patch);
    case 'json': {
      if (!Array.isArray(patch)) throw errors.badRequest(`json patch for "${name}" must be a JSON array of operations`);
      const operations = patch as jsonpatch.Operation[];
      const refuse = (reason: string) => errors.badRequest(`the json patch for "${name}" does not apply: ${reason}`);
      const intoChild = operations.find(
        (o) =>
          o?.op === 'move' &&
          typeof o.from === 'string' &&
          typeof o.path === 'string' &&
          o.path.startsWith(`${o.from}/`),
      );
      if (intoChild) {
        throw refuse(
          `move from "${(intoChild as jsonpatch.MoveOperation).from}" to "${intoChild.path}": ` +
            'a location cannot be moved into one of its children',
        );
      }
      let reason: string;
      try {
        const invalid = jsonpatch.validate(operations, current);
        if (!invalid) return jsonpatch.applyPatch(structuredClone(current), operations, false, false).newDocument;
        reason = `${invalid.name}: ${invalid.message}`;
      } catch (err) {
        // A failed `test` operation, a path that does not exist, or an operation the library's checks let through
        // and its applying cannot carry out.
        reason = (err as Error).message;
      }
      throw refuse(reason.split('\n')[0]);
    }
  }
}
