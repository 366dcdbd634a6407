import type { JSONSchema, KindDefinition } from '../kind.ts';
import { objectMetaSchema } from './object-meta.ts';

const cache = new WeakMap<KindDefinition, JSONSchema>();

/** The kind's schema with apiVersion, kind and metadata added: what the server publishes
 * in OpenAPI and validates against. Computed once per kind. */
export function fullSchema(def: KindDefinition): JSONSchema {
  let schema = cache.get(def);
  if (!schema) {
    const apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
    schema = {
      ...def.schema,
      type: 'object',
      description: def.description,
      properties: {
        apiVersion: { type: 'string', description: `APIVersion of the object: ${apiVersion}.` },
        kind: { type: 'string', description: `Kind of the object: ${def.kind}.` },
        metadata: objectMetaSchema(),
        ...def.schema.properties,
      },
      required: ['apiVersion', 'kind', 'metadata', ...(def.schema.required ?? [])],
    };
    cache.set(def, schema);
  }
  return schema;
}
