// The one comparison behind drift detection, the fields an apply reports, diffs and an ApiDefinition's history: two
// versions of an object, minus what the server owns, compared field by field. Paths are
// Kubernetes field paths (`spec.upstream.targets[0].url`, `metadata.labels[app]`), map keys
// told from properties by the kind's schema.
import { isDeepStrictEqual } from 'node:util';
import type { KindDefinition, KubeObject } from './kind.ts';
import { fieldPath } from './schema/field-path.ts';
import { fullSchema } from './schema/full-schema.ts';
import { isPlainObject } from './schema/walk.ts';

export interface FieldChange {
  path: string;
  /** Absent when the field is only desired. */
  live?: unknown;
  /** Absent when the field is only live. */
  desired?: unknown;
}

/** Metadata the server sets on every write; status is the controllers' and is left out too. */
const SERVER_METADATA = [
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'selfLink',
];

function comparable(obj: KubeObject | undefined): Record<string, unknown> | undefined {
  if (!obj) return undefined;
  const { status: _status, ...rest } = obj;
  const metadata: Record<string, unknown> = { ...obj.metadata };
  for (const field of SERVER_METADATA) delete metadata[field];
  return { ...rest, metadata };
}

/**
 * The leaf fields in which `desired` differs from `live` (every desired leaf when there is
 * no live object), in a stable order. An empty map or list and an absent one compare equal:
 * neither carries a value.
 */
export function compareObjects(def: KindDefinition, live: KubeObject | undefined, desired: KubeObject): FieldChange[] {
  const schema = fullSchema(def);
  const changes: FieldChange[] = [];
  const walk = (segments: string[], a: unknown, b: unknown): void => {
    if (isDeepStrictEqual(a, b)) return;
    const shapeA = shape(a);
    const shapeB = shape(b);
    // Two maps, two lists, or one of them and nothing: compare their children.
    if (shapeA !== 'leaf' && shapeB !== 'leaf' && (shapeA === shapeB || shapeA === 'absent' || shapeB === 'absent')) {
      for (const key of childKeys(a, b))
        walk(
          [...segments, key],
          (a as Record<string, unknown> | undefined)?.[key],
          (b as Record<string, unknown> | undefined)?.[key],
        );
      return;
    }
    const change: FieldChange = { path: fieldPath(schema, segments) };
    if (a !== undefined) change.live = a;
    if (b !== undefined) change.desired = b;
    changes.push(change);
  };
  walk([], comparable(live), comparable(desired));
  return changes;
}

function shape(value: unknown): 'absent' | 'map' | 'list' | 'leaf' {
  if (value === undefined) return 'absent';
  if (Array.isArray(value)) return 'list';
  return isPlainObject(value) ? 'map' : 'leaf';
}

/** Keys of two objects (sorted) or indexes of two lists, either of which may be absent. */
function childKeys(a: unknown, b: unknown): string[] {
  if (Array.isArray(a) || Array.isArray(b)) {
    const length = Math.max((a as unknown[] | undefined)?.length ?? 0, (b as unknown[] | undefined)?.length ?? 0);
    return Array.from({ length }, (_, i) => String(i));
  }
  return [...new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])].sort();
}
