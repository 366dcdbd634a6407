// Structural defaulting as for CRDs: a property's default is set where its parent object
// exists and the property is absent or null (and not nullable), then defaulting continues into the value (so
// defaults inside a defaulted object apply too), into array items and map values.
import type { JSONSchema, KindDefinition, KubeObject } from '../kind.ts';
import { fullSchema } from './full-schema.ts';
import { isPlainObject } from './walk.ts';

export function applyDefaults(def: KindDefinition, obj: KubeObject): void {
  defaultValue(fullSchema(def), obj);
}

function defaultValue(schema: JSONSchema, value: unknown): void {
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) defaultValue(schema.items, item);
    return;
  }
  if (!isPlainObject(value)) return;
  const properties = schema.properties ?? {};
  for (const [key, propSchema] of Object.entries(properties)) {
    const absent = value[key] === undefined || (value[key] === null && !propSchema.nullable);
    if (absent && propSchema.default !== undefined) value[key] = structuredClone(propSchema.default);
    if (value[key] !== undefined) defaultValue(propSchema, value[key]);
  }
  if (typeof schema.additionalProperties === 'object') {
    for (const [key, item] of Object.entries(value))
      if (!(key in properties)) defaultValue(schema.additionalProperties, item);
  }
}
