// Kubernetes field paths (`spec.upstream.targets[0].url`, `metadata.labels[app]`) from
// path segments, using the schema to tell declared properties from map keys.
import type { JSONSchema } from '../kind.ts';

/** Renders `segments` walked from `root` as a field path without a leading dot. */
export function fieldPath(root: JSONSchema, segments: string[]): string {
  let schema: JSONSchema | undefined = root;
  let out = '';
  for (const seg of segments) {
    if (schema?.type === 'array' || (schema === undefined && /^\d+$/.test(seg))) {
      out += `[${seg}]`;
      schema = schema?.items;
    } else if (schema?.properties?.[seg]) {
      out += `.${seg}`;
      schema = schema.properties[seg];
    } else if (schema && typeof schema.additionalProperties === 'object') {
      out += `[${seg}]`;
      schema = schema.additionalProperties;
    } else {
      out += `.${seg}`;
      schema = undefined;
    }
  }
  return out.startsWith('.') ? out.slice(1) : out;
}

/** Segments of a JSON pointer (RFC 6901), as ajv reports instance paths. */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}
