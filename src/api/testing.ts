// Test support: run an object through what the registry does before storing it.
import type { FieldError, KindDefinition, KubeObject } from './kind.ts';
import { applyDefaults, RULES_NOT_CHECKED, validateObject, validateObjectMeta } from './schema/index.ts';

export interface Admitted {
  obj: KubeObject;
  errors: FieldError[];
  responseOnly?: Record<string, unknown>;
}

/** Defaults, create preparation and validation of a copy of `input`, in the registry's order. */
export function admitCreate(def: KindDefinition, input: Record<string, unknown>): Admitted {
  const obj = structuredClone(input) as KubeObject;
  applyDefaults(def, obj);
  const preparation = def.strategy.prepareForCreate?.(obj) ?? undefined;
  const errors = [
    ...validateObjectMeta(obj.metadata, def.namespaced, def.kind, def.nameProblems),
    ...validateObject(def, obj),
  ];
  return { obj, errors, responseOnly: preparation?.responseOnly };
}

/** Defaults, update preparation and validation of a copy of `input` against `old`. */
export function admitUpdate(def: KindDefinition, input: Record<string, unknown>, old: KubeObject): Admitted {
  const obj = structuredClone(input) as KubeObject;
  applyDefaults(def, obj);
  def.strategy.prepareForUpdate?.(obj, old);
  const errors = [
    ...validateObjectMeta(obj.metadata, def.namespaced, def.kind, def.nameProblems),
    ...validateObject(def, obj),
    ...(def.strategy.validateUpdate?.(obj, old) ?? []),
  ];
  return { obj, errors };
}

/** `field: message` lines, the way kubectl prints a Status' causes. */
export function describe(errors: FieldError[]): string[] {
  return errors.map((e) => `${e.field}: ${e.message}`);
}

/** The line that ends an answer whose schema errors kept a kind's own checks from running. */
export const NOT_CHECKED = describe([RULES_NOT_CHECKED])[0];
