// Writes an object's status subresource only when it changed. The write is a JSON merge
// patch (RFC 7386) from the status the caller read to the one it computed, guarded by the
// resourceVersion it read: on 409 the object is read again and, unless its status already
// is the wanted one, patched again from there, so the stored status ends up exactly equal
// to `status` (fields the caller dropped are removed, not merged over) — or, with `rebase`, to the
// status rebase computes from the one stored then, so what another writer added meanwhile (a
// history entry) is built upon rather than undone. A 404 means the
// object was deleted meanwhile: there is nothing to report on, and that is not an error.
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../api/kind.ts';
import { isStatusError } from '../../client/errors.ts';
import type { KubeClient, ResourceRef } from '../../client/rest.ts';

/** What writeStatus did: `unchanged` wrote nothing, `gone` found the object deleted. */
export type StatusWriteOutcome = 'written' | 'unchanged' | 'gone';

export interface StatusWrite<T> {
  outcome: StatusWriteOutcome;
  /** The object as stored after the write; absent when `gone`. */
  object?: T;
}

/** Conflicts retried before the last one is thrown (a reconcile retry then takes over). */
const MAX_CONFLICT_RETRIES = 5;

/** Makes `obj`'s stored status equal to `status`; `obj` is the object as the caller read
 * it, the base of the comparison and of the patch. */
export async function writeStatus<T extends KubeObject & { status?: object }>(
  client: KubeClient,
  ref: ResourceRef,
  obj: T,
  status: NonNullable<T['status']>,
  rebase?: (stored: T['status']) => NonNullable<T['status']>,
): Promise<StatusWrite<T>> {
  // Through JSON, as the server will see it: an `undefined` field is an absent one.
  const asStored = (s: object) => JSON.parse(JSON.stringify(s)) as object;
  let wanted = asStored(status);
  const { name, namespace } = obj.metadata;
  let base = obj;
  for (let attempt = 0; ; attempt++) {
    if (attempt > 0 && rebase) wanted = asStored(rebase(base.status));
    if (isDeepStrictEqual(base.status ?? {}, wanted)) return { outcome: 'unchanged', object: base };
    const patch = {
      metadata: { resourceVersion: base.metadata.resourceVersion },
      status: mergePatch(base.status ?? {}, wanted),
    };
    try {
      return { outcome: 'written', object: await client.patchStatus<T>(ref, name!, patch, 'merge', namespace) };
    } catch (err) {
      if (isStatusError(err, 'NotFound')) return { outcome: 'gone' };
      if (!isStatusError(err, 'Conflict') || attempt >= MAX_CONFLICT_RETRIES) throw err;
    }
    try {
      base = await client.get<T>(ref, name!, namespace);
    } catch (err) {
      if (isStatusError(err, 'NotFound')) return { outcome: 'gone' };
      throw err;
    }
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isRecord = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The RFC 7386 merge patch turning `before` into `after`: removed keys become null,
 * objects recurse, everything else (arrays included) is replaced whole. JSON nulls inside
 * `after` cannot be expressed and are not expected in a status. */
export function mergePatch(before: object, after: object): Record<string, Json> {
  const from = before as Record<string, Json>;
  const to = after as Record<string, Json>;
  const patch: Record<string, Json> = {};
  for (const key of Object.keys(from)) if (!Object.hasOwn(to, key)) patch[key] = null;
  for (const [key, value] of Object.entries(to)) {
    if (isDeepStrictEqual(from[key], value)) continue;
    patch[key] = isRecord(from[key]) && isRecord(value) ? mergePatch(from[key], value) : value;
  }
  return patch;
}
