// The part of an object whose fields managers own, as kube's field manager tracks it: the
// object without the fields no one manages. Shared by the API server's field manager, which
// records ownership on it, and clients that judge what an apply would change before sending it.
//   - apiVersion, kind, and metadata's name, namespace, uid, resourceVersion, generation,
//     creationTimestamp, selfLink and managedFields (kube's stripMeta manager);
//   - status on writes of the main resource of a kind with a status subresource, and
//     everything but status on writes of the status subresource (kube's reset fields).
import type { KindDefinition, KubeObject } from '../kind.ts';

export const STRIPPED_METADATA = [
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'selfLink',
  'managedFields',
] as const;

/** The view of `obj` whose fields are managed on the main resource of `def`, or on its status subresource. */
export function managedView(def: KindDefinition, obj: KubeObject, subresource?: 'status'): Record<string, unknown> {
  if (subresource === 'status') return obj.status === undefined ? {} : { status: obj.status };
  const { apiVersion: _a, kind: _k, metadata, ...rest } = obj;
  if (def.statusSubresource) delete rest.status;
  const meta: Record<string, unknown> = { ...metadata };
  for (const field of STRIPPED_METADATA) delete meta[field];
  return Object.keys(meta).length ? { metadata: meta, ...rest } : rest;
}
