// Field requirements evaluated outside the database: by the memory driver, and by callers
// filtering watch events. The SQL drivers compute the same values in list-query.ts.
import type { FieldRequirement, ObjectKey } from './storage.ts';

/** The text a `json` requirement compares: the first path holding a non-empty scalar. NUL reads
 * as U+FFFD, as in the SQL drivers (PostgreSQL text cannot hold NUL; a selector never does). */
function jsonFieldValue(doc: unknown, paths: readonly (readonly string[])[]): string {
  for (const path of paths) {
    let node = doc;
    for (const step of path) {
      const isObject = typeof node === 'object' && node !== null && !Array.isArray(node);
      node = isObject ? (node as Record<string, unknown>)[step] : undefined;
    }
    if (typeof node === 'string' || typeof node === 'number' || typeof node === 'boolean') {
      const text = String(node).replaceAll('\0', '\uFFFD');
      if (text !== '') return text;
    }
  }
  return '';
}

/** Whether an object meets every requirement. `doc` yields the parsed value; it is called at
 * most once, and only when a requirement reads it, so callers holding JSON text parse it only
 * when needed. */
export function matchesFields(
  requirements: readonly FieldRequirement[],
  key: Pick<ObjectKey, 'namespace' | 'name'>,
  doc: () => unknown,
): boolean {
  let parsed: { value: unknown } | undefined;
  return requirements.every((req) => {
    let actual: string;
    if (req.field === 'json') {
      parsed ??= { value: doc() };
      actual = jsonFieldValue(parsed.value, req.paths);
    } else {
      actual = key[req.field];
    }
    return (actual === req.value) === (req.operator === '=');
  });
}
