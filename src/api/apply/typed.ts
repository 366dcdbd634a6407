// Objects read through their schema, as sigs.k8s.io/structured-merge-diff's typed/ package
// does: which fields an object sets, how two objects differ, how an applied configuration
// merges into a live object, and how fields are removed. What decides is the schema's
// list and map types, with the defaults CRDs have:
//   - an object with properties, or a map (additionalProperties), is granular: each key is
//     a field of its own, unless `x-kubernetes-map-type: atomic`;
//   - a list is atomic (one field, replaced whole) unless `x-kubernetes-list-type` is
//     `set` (items are scalars, one field each) or `map` (items are objects, one field each,
//     known by `x-kubernetes-list-map-keys`, and merged field by field);
//   - a value the schema does not describe (x-kubernetes-preserve-unknown-fields) is
//     deduced as structured-merge-diff deduces it: objects granular, lists atomic.
import { isDeepStrictEqual } from 'node:util';
import type { JSONSchema } from '../kind.ts';
import { fieldElement, FieldSet, indexElement, keyElement, valueElement } from './field-set.ts';
import type { PathElement } from './field-set.ts';

type Value = unknown;
type Shape = 'leaf' | 'granular' | 'set' | 'map';

function isObject(v: Value): v is Record<string, Value> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function shapeOf(schema: JSONSchema | undefined, value: Value): Shape {
  if (isObject(value)) return schema?.['x-kubernetes-map-type'] === 'atomic' ? 'leaf' : 'granular';
  if (Array.isArray(value)) {
    const listType = schema?.['x-kubernetes-list-type'];
    return listType === 'set' ? 'set' : listType === 'map' ? 'map' : 'leaf';
  }
  return 'leaf';
}

function fieldSchema(schema: JSONSchema | undefined, name: string): JSONSchema | undefined {
  const property = schema?.properties?.[name];
  if (property) return property;
  return typeof schema?.additionalProperties === 'object' ? schema.additionalProperties : undefined;
}

/** The path element of a list item; `i:` only for an item of an associative list without its keys. */
function itemElement(schema: JSONSchema | undefined, shape: Shape, item: Value, index: number): PathElement {
  if (shape === 'set') return valueElement(item);
  const names = schema?.['x-kubernetes-list-map-keys'] ?? [];
  if (!isObject(item) || names.length === 0) return indexElement(index);
  // A key field left out counts with its default, as structured-merge-diff keys defaulted fields.
  const keys: Record<string, Value> = {};
  for (const name of names) {
    const value = item[name] ?? schema?.items?.properties?.[name]?.default;
    if (value !== undefined) keys[name] = value;
  }
  return keyElement(keys);
}

/** Items of a set or associative list by their path element; a repeated element keeps its first item. */
function indexItems(schema: JSONSchema | undefined, shape: Shape, list: Value[]): Map<PathElement, Value> {
  const items = new Map<PathElement, Value>();
  list.forEach((item, i) => {
    const element = itemElement(schema, shape, item, i);
    if (!items.has(element)) items.set(element, item);
  });
  return items;
}

/** The fields `value` sets (structured-merge-diff's ToFieldSet): leaves, atomic values and list
 * items; an object is present only through its fields, so `{}` sets nothing. */
export function fieldsOf(schema: JSONSchema | undefined, value: Value): FieldSet {
  const set = FieldSet.empty();
  const walk = (s: JSONSchema | undefined, v: Value, path: PathElement[]) => {
    const shape = shapeOf(s, v);
    if (shape === 'leaf') {
      if (path.length) set.insert(path);
    } else if (shape === 'granular') {
      for (const [name, child] of Object.entries(v as Record<string, Value>)) {
        walk(fieldSchema(s, name), child, [...path, fieldElement(name)]);
      }
    } else {
      for (const [element, item] of indexItems(s, shape, v as Value[])) {
        const itemPath = [...path, element];
        walk(s?.items, item, itemPath);
        set.insert(itemPath);
      }
    }
  };
  walk(schema, value, []);
  return set;
}

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/** How `rhs` differs from `lhs` (structured-merge-diff's Compare): leaves set only in rhs are
 * added, only in lhs removed, in both with another value modified; an object or list item
 * present on one side only is itself added or removed too. */
export function compare(schema: JSONSchema | undefined, lhs: Value, rhs: Value): Comparison {
  const result: Comparison = { added: FieldSet.empty(), modified: FieldSet.empty(), removed: FieldSet.empty() };
  const walk = (s: JSONSchema | undefined, l: Value, r: Value, path: PathElement[]) => {
    const [ls, rs] = [shapeOf(s, l), shapeOf(s, r)];
    const shape = r === undefined ? ls : rs;
    if (shape === 'leaf' || (l !== undefined && r !== undefined && ls !== rs)) {
      if (!path.length) return;
      if (l === undefined) result.added.insert(path);
      else if (r === undefined) result.removed.insert(path);
      else if (!isDeepStrictEqual(l, r)) result.modified.insert(path);
      return;
    }
    if (shape === 'granular') {
      const lo = (l ?? {}) as Record<string, Value>;
      const ro = (r ?? {}) as Record<string, Value>;
      for (const name of new Set([...Object.keys(lo), ...Object.keys(ro)])) {
        walk(fieldSchema(s, name), lo[name], ro[name], [...path, fieldElement(name)]);
      }
    } else {
      const li = indexItems(s, shape, (l ?? []) as Value[]);
      const ri = indexItems(s, shape, (r ?? []) as Value[]);
      for (const element of new Set([...li.keys(), ...ri.keys()])) {
        walk(s?.items, li.get(element), ri.get(element), [...path, element]);
      }
    }
    if (!path.length) return;
    if (l === undefined) result.added.insert(path);
    else if (r === undefined) result.removed.insert(path);
  };
  walk(schema, lhs, rhs, []);
  return result;
}

/** `config` merged into `live` (structured-merge-diff's Merge): config's values win; granular
 * objects merge key by key; set and associative lists merge item by item, items of both sides
 * in config's order, live-only items where they were; everything else is replaced. */
export function merge(schema: JSONSchema | undefined, live: Value, config: Value): Value {
  if (config === undefined) return live;
  if (live === undefined) return config;
  // A null merges as an empty object or list would into one that live fills: it changes nothing
  // (structured-merge-diff's doMap and doList; null stays only where both sides are empty).
  if (config === null && isFilled(schema, live)) return live;
  const shape = shapeOf(schema, config);
  if (shape !== shapeOf(schema, live) || shape === 'leaf') return config;
  if (shape === 'granular') {
    const out: Record<string, Value> = { ...(live as Record<string, Value>) };
    for (const [name, value] of Object.entries(config as Record<string, Value>)) {
      out[name] = merge(fieldSchema(schema, name), out[name], value);
    }
    return out;
  }
  const liveItems = indexItems(schema, shape, live as Value[]);
  const configItems = indexItems(schema, shape, config as Value[]);
  const configOrder = [...configItems.keys()];
  const out: Value[] = [];
  let next = 0;
  const takeConfigUpTo = (element: PathElement) => {
    const until = configOrder.indexOf(element, next);
    for (; next <= until; next++) {
      const e = configOrder[next];
      out.push(merge(schema?.items, liveItems.get(e), configItems.get(e)));
    }
  };
  for (const element of liveItems.keys()) {
    if (configItems.has(element)) takeConfigUpTo(element);
    else out.push(liveItems.get(element));
  }
  takeConfigUpTo(configOrder[configOrder.length - 1]);
  return out;
}

/** Whether `value` is a granular object or a set or associative list with members. */
function isFilled(schema: JSONSchema | undefined, value: Value): boolean {
  const shape = shapeOf(schema, value);
  if (shape === 'granular') return Object.keys(value as Record<string, Value>).length > 0;
  return shape !== 'leaf' && (value as Value[]).length > 0;
}

/** `value` without the members of `set` (a member removes its whole value), structured-merge-diff's RemoveItems. */
export function removeFields(schema: JSONSchema | undefined, value: Value, set: FieldSet): Value {
  if (set.isEmpty()) return value;
  const shape = shapeOf(schema, value);
  if (shape === 'granular') {
    const out: Record<string, Value> = {};
    for (const [name, child] of Object.entries(value as Record<string, Value>)) {
      const element = fieldElement(name);
      if (set.has([element])) continue;
      out[name] = removeFields(fieldSchema(schema, name), child, set.child([element]));
    }
    return out;
  }
  if (shape === 'set' || shape === 'map') {
    const out: Value[] = [];
    for (const [element, item] of indexItems(schema, shape, value as Value[])) {
      if (set.has([element])) continue;
      out.push(removeFields(schema?.items, item, set.child([element])));
    }
    return out;
  }
  return value;
}

/** Items of set and associative lists that repeat an earlier item's value or keys, by field path
 * (`spec.upstream.targets[1]`) and the repeated value or keys as JSON: kube refuses them (422), and
 * server-side apply could not tell them apart. */
export function duplicateItems(schema: JSONSchema | undefined, value: Value): { field: string; repeated: string }[] {
  const found: { field: string; repeated: string }[] = [];
  const walk = (s: JSONSchema | undefined, v: Value, field: string) => {
    if (isObject(v)) {
      for (const [name, child] of Object.entries(v)) {
        walk(fieldSchema(s, name), child, field ? `${field}.${name}` : name);
      }
    } else if (Array.isArray(v)) {
      const shape = shapeOf(s, v);
      const seen = new Set<PathElement>();
      v.forEach((item, i) => {
        if (shape === 'set' || shape === 'map') {
          const element = itemElement(s, shape, item, i);
          if (seen.has(element)) found.push({ field: `${field}[${i}]`, repeated: element.slice(2) });
          seen.add(element);
        }
        walk(s?.items, item, `${field}[${i}]`);
      });
    }
  };
  walk(schema, value, '');
  return found;
}
