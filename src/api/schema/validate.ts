// Schema validation with ajv, reported as Kubernetes field errors with the wording of
// the Kubernetes API server's CRD validation, then the kind's strategy. One ajv
// instance; each kind's validator is compiled once.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import type { FieldError, JSONSchema, KindDefinition, KubeObject } from '../kind.ts';
import { duplicateItems } from '../apply/typed.ts';
import { isDuration } from '../duration.ts';
import { isCidr } from '../net.ts';
import { fieldPath, pointerSegments } from './field-path.ts';
import { fullSchema } from './full-schema.ts';
import { quote, required } from './object-meta.ts';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function createAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictTypes: false });
  for (const keyword of [
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-int-or-string',
    'x-kubernetes-embedded-resource',
    'x-kubernetes-list-type',
    'x-kubernetes-list-map-keys',
    'x-kubernetes-map-type',
  ]) {
    ajv.addKeyword(keyword);
  }
  for (const name of ['date-time', 'date', 'uri', 'email', 'hostname', 'ipv4', 'ipv6', 'uuid'] as const) {
    ajv.addFormat(name, fullFormats[name]);
  }
  // Kubernetes' own formats: Go durations, net.ParseCIDR blocks, base64 bytes.
  ajv.addFormat('duration', isDuration);
  ajv.addFormat('cidr', isCidr);
  ajv.addFormat('byte', (value: string) => BASE64.test(value));
  ajv.addFormat('int32', {
    type: 'number',
    validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31,
  });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  return ajv;
}

let ajv: Ajv | undefined;
const validators = new WeakMap<KindDefinition, ValidateFunction>();

function validatorFor(def: KindDefinition): ValidateFunction {
  let validate = validators.get(def);
  if (!validate) {
    ajv ??= createAjv();
    validate = ajv.compile(fullSchema(def));
    validators.set(def, validate);
  }
  return validate;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function toFieldError(root: JSONSchema, e: ErrorObject): FieldError {
  const segments = pointerSegments(e.instancePath);
  const field = fieldPath(root, segments);
  const value = e.data;
  const p = e.params as Record<string, unknown>;
  const bad = (detail: string): FieldError => ({
    type: 'FieldValueInvalid',
    field,
    message: `Invalid value: ${quote(value)}: ${field} in body ${detail}`,
  });
  switch (e.keyword) {
    case 'required':
      return required(fieldPath(root, [...segments, String(p.missingProperty)]));
    case 'enum':
      return {
        type: 'FieldValueNotSupported',
        field,
        message: `Unsupported value: ${quote(value)}: supported values: ${(p.allowedValues as unknown[]).map(quote).join(', ')}`,
      };
    case 'type': {
      const actual = jsonType(value);
      return {
        type: 'FieldValueTypeInvalid',
        field,
        message: `Invalid value: "${actual}": ${field} in body must be of type ${String(p.type)}: "${actual}"`,
      };
    }
    case 'format':
      return bad(`must be of type ${String(p.format)}: ${quote(value)}`);
    case 'pattern':
      return bad(`should match '${String(p.pattern)}'`);
    case 'minimum':
      return bad(`should be greater than or equal to ${String(p.limit)}`);
    case 'maximum':
      return bad(`should be less than or equal to ${String(p.limit)}`);
    case 'minLength':
      return bad(`should be at least ${String(p.limit)} chars long`);
    case 'maxLength':
      return { type: 'FieldValueTooLong', field, message: `Too long: may not be more than ${String(p.limit)} bytes` };
    case 'minItems':
      return {
        type: 'FieldValueInvalid',
        field,
        message: `Invalid value: ${(value as unknown[]).length}: ${field} in body should have at least ${String(p.limit)} items`,
      };
    case 'maxItems':
      return {
        type: 'FieldValueTooMany',
        field,
        message: `Too many: ${(value as unknown[]).length}: must have at most ${String(p.limit)} items`,
      };
    default:
      return bad(e.message ?? `failed ${e.keyword} validation`);
  }
}

/** Schema errors after which kube-apiserver does not evaluate a CRD's validation rules: the object lacks the shape
 * the rules were written for (a type, a required field, an enum, a size). */
const BLOCKING: ReadonlySet<FieldError['type']> = new Set([
  'FieldValueNotSupported',
  'FieldValueRequired',
  'FieldValueTooLong',
  'FieldValueTooMany',
  'FieldValueTypeInvalid',
]);

/**
 * The kind's schema, then, when the schema passed, the items its set and associative lists
 * repeat, then the strategy's validate. As kube-apiserver runs a CRD's validation rules, the
 * strategy also runs after schema errors that are not blocking (a pattern, a format, a bound),
 * so one answer names every bad field; after a blocking one (a wrong type, a missing field) it does not run, and the
 * answer says its checks were not run, as kube's does for the rules. ObjectMeta rules are
 * separate: validateObjectMeta. Call after applyDefaults.
 */
export function validateObject(def: KindDefinition, obj: KubeObject): FieldError[] {
  const validate = validatorFor(def);
  if (!validate(obj)) {
    const root = fullSchema(def);
    const errors = (validate.errors ?? []).map((e) => toFieldError(root, e));
    if (!def.strategy.validate) return errors;
    if (errors.some((e) => BLOCKING.has(e.type))) return [...errors, RULES_NOT_CHECKED];
    return [...errors, ...strategyErrorsDespite(def.strategy.validate, obj)];
  }
  const duplicated = duplicateItems(fullSchema(def), obj);
  if (duplicated.length) {
    return duplicated.map(({ field, repeated }) => ({
      type: 'FieldValueDuplicate',
      field,
      message: `Duplicate value: ${repeated}`,
    }));
  }
  return def.strategy.validate?.(obj) ?? [];
}

/** kube-apiserver's words for a CRD's validation rules it did not evaluate (its nil field path prints as `<nil>`). */
export const RULES_NOT_CHECKED: FieldError = {
  type: 'FieldValueInvalid',
  field: '<nil>',
  message:
    'Invalid value: "null": some validation rules were not checked because the object was invalid; ' +
    'correct the existing errors to complete validation',
};

/** The strategy's errors for an object that failed a non-blocking schema check. A strategy may rely on the check that
 * failed (parse a value the schema's format admits): one that throws has not checked the object, and says so. */
function strategyErrorsDespite(validate: (obj: KubeObject) => FieldError[], obj: KubeObject): FieldError[] {
  try {
    return validate(obj);
  } catch {
    return [RULES_NOT_CHECKED];
  }
}
