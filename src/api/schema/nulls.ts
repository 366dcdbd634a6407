// A `null` where the schema does not say `nullable: true` means the field is absent, as
// kube-apiserver decodes custom resources: it drops such nulls before defaulting (so a
// defaulted field sent as null gets its default) and before validation (so a required one
// is "Required value", not a wrong type). Nulls in lists stay, as there: they are items.
// ObjectMeta is a typed struct there, where a null field decodes to its zero value and is
// not written back: its own fields drop their nulls, the maps and lists inside it are left to
// validation.
import type { JSONSchema, KindDefinition, KubeObject } from '../kind.ts';
import { fullSchema } from './full-schema.ts';
import { isPlainObject } from './walk.ts';

/** Removes from `obj` every null the schema does not declare nullable; call after pruning unknown fields. */
export function pruneNulls(def: KindDefinition, obj: KubeObject): void {
  const schema = fullSchema(def);
  for (const [key, value] of Object.entries(obj)) {
    const property = schema.properties?.[key];
    if (key === 'metadata') dropNullFields(obj.metadata);
    else if (property) prune(property, value, obj, key);
  }
}

function dropNullFields(meta: Record<string, unknown>): void {
  for (const key of Object.keys(meta)) if (meta[key] === null) delete meta[key];
}

function prune(
  schema: JSONSchema,
  value: unknown,
  parent: Record<string, unknown> | unknown[],
  key: string | number,
): void {
  if (value === null) {
    if (!schema.nullable && !Array.isArray(parent)) delete parent[key as string];
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
