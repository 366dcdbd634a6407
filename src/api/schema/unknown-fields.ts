// Fields the schema does not declare, found or removed the way the Kubernetes API server
// prunes CRD objects. Paths have a leading dot, as in kubectl's unknown-field warnings:
// `.spec.foo`, `.spec.upstream.targets[0].bogus`.
import type { JSONSchema, KindDefinition, KubeObject } from '../kind.ts';
import { fullSchema } from './full-schema.ts';
import { isPlainObject } from './walk.ts';

type OnUnknown = (parent: Record<string, unknown>, key: string, path: string) => void;

export function findUnknownFields(def: KindDefinition, obj: KubeObject): string[] {
  const paths: string[] = [];
  visit(fullSchema(def), obj, '', (_parent, _key, path) => paths.push(path));
  return paths;
}

/** Removes undeclared fields from `obj` and returns their paths. */
export function pruneUnknownFields(def: KindDefinition, obj: KubeObject): string[] {
  const paths: string[] = [];
  visit(fullSchema(def), obj, '', (parent, key, path) => {
    delete parent[key];
    paths.push(path);
  });
  return paths;
}

// Values whose JSON type contradicts the schema are left alone: validation reports them.
function visit(schema: JSONSchema, value: unknown, path: string, onUnknown: OnUnknown): void {
  if (Array.isArray(value)) {
    if (schema.type === 'array' && schema.items)
      for (const [i, item] of value.entries()) visit(schema.items, item, `${path}[${i}]`, onUnknown);
    return;
  }
  if (!isPlainObject(value) || schema.type !== 'object') return;
  const properties = schema.properties ?? {};
  const values = schema.additionalProperties;
  const keepUnknown = schema['x-kubernetes-preserve-unknown-fields'] === true || values === true;
  for (const key of Object.keys(value)) {
    if (Object.hasOwn(properties, key)) visit(properties[key], value[key], `${path}.${key}`, onUnknown);
    else if (typeof values === 'object') visit(values, value[key], `${path}[${key}]`, onUnknown);
    else if (!keepUnknown) onUnknown(value, key, `${path}.${key}`);
  }
}
