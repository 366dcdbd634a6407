// Key rules shared by Secret and ConfigMap (Kubernetes IsConfigMapKey).
import type { FieldError } from '../kind.ts';
import { invalid } from '../schema/object-meta.ts';

const CONFIG_MAP_KEY = /^[-._a-zA-Z0-9]+$/;

export function dataKeyErrors(field: string, keys: Iterable<string>): FieldError[] {
  const errors: FieldError[] = [];
  for (const key of keys) {
    if (key.length > 253) errors.push(invalid(field, key, 'must be no more than 253 characters'));
    if (!CONFIG_MAP_KEY.test(key))
      errors.push(
        invalid(
          field,
          key,
          "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
        ),
      );
  }
  return errors;
}

/** Update errors for objects marked immutable: `fields` may not change once it is set. */
export function immutableErrors(
  obj: Record<string, unknown>,
  old: Record<string, unknown>,
  fields: string[],
): FieldError[] {
  if (old.immutable !== true) return [];
  const errors: FieldError[] = [];
  if (obj.immutable !== true)
    errors.push({
      type: 'FieldValueForbidden',
      field: 'immutable',
      message: 'Forbidden: field is immutable when `immutable` is set',
    });
  for (const f of fields) {
    if (JSON.stringify(obj[f] ?? null) !== JSON.stringify(old[f] ?? null))
      errors.push({
        type: 'FieldValueForbidden',
        field: f,
        message: 'Forbidden: field is immutable when `immutable` is set',
      });
  }
  return errors;
}
