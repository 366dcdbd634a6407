// What a `null` in a request body means, as kube-apiserver decodes custom resources (checked against a real
// kube-apiserver with a CRD):
// - ObjectMeta is a typed struct there: a null field of it decodes to its zero value and is not written back,
//   nor is an empty map or list (omitempty), and a null label or annotation value decodes to "". So on every
//   write, server-side apply included.
// - A create, an update or a patch's result goes through the CRD codec, which drops every null the schema does
//   not declare nullable: such a field is absent, so it gets its default or is "Required value". A null inside a
//   list stays: it is an item, and validation refuses it as one.
// - A server-side apply configuration keeps its nulls (the manager owns the field); defaulting then takes a
//   non-nullable null for absent (applyDefaults), and any other null is a type error from validation.
import type { JSONSchema, KindDefinition, KubeObject } from '../kind.ts';
import { fullSchema } from './full-schema.ts';
import { isPlainObject } from './walk.ts';

/** Removes from a created, updated or patched object every null the schema does not declare nullable, and
 * decodes ObjectMeta (decodeObjectMeta). Call after pruning unknown fields. */
export function pruneNulls(def: KindDefinition, obj: KubeObject): void {
  decodeObjectMeta(obj.metadata);
  const { metadata, ...fields } = fullSchema(def).properties ?? {};
  prune({ properties: fields }, obj, undefined, '');
}

/** ObjectMeta as its typed decoding leaves it: a null field is absent, and so are empty labels, annotations,
 * finalizers and ownerReferences; a null label or annotation value is "". managedFields keep `[]`, which resets them. */
export function decodeObjectMeta(meta: Record<string, unknown>): void {
  for (const key of Object.keys(meta)) if (meta[key] === null) delete meta[key];
  for (const key of ['labels', 'annotations']) {
    const map = meta[key];
    if (!isPlainObject(map)) continue;
    if (Object.keys(map).length === 0) delete meta[key];
    for (const name of Object.keys(map)) if (map[name] === null) map[name] = '';
  }
  for (const key of ['finalizers', 'ownerReferences'])
    if (Array.isArray(meta[key]) && (meta[key] as unknown[]).length === 0) delete meta[key];
}

/** Walks `value` (the member `key` of `parent`, none at the root) by `schema`, deleting non-nullable nulls. */
function prune(
  schema: JSONSchema,
  value: unknown,
  parent: Record<string, unknown> | unknown[] | undefined,
  key: string | number,
): void {
  if (value === null) {
    if (!schema.nullable && isPlainObject(parent)) delete parent[key as string];
    return;
  }
  if (Array.isArray(value)) {
    if (schema.items) for (const [i, item] of value.entries()) prune(schema.items, item, value, i);
    return;
  }
  if (!isPlainObject(value)) return;
  const properties = schema.properties ?? {};
  const values = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
  for (const [k, v] of Object.entries(value)) {
    const property = Object.hasOwn(properties, k) ? properties[k] : values;
    if (property) prune(property, v, value, k);
  }
}
