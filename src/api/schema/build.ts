// Small constructors for structural schemas, so each kind's schema.ts reads as a list of
// fields with their descriptions rather than as nested JSON boilerplate.
import type { JSONSchema } from '../kind.ts';

type Extra = Omit<JSONSchema, 'type' | 'description'>;

export function string(description: string, extra: Extra = {}): JSONSchema {
  return { type: 'string', description, ...extra };
}

export function integer(description: string, extra: Extra = {}): JSONSchema {
  return { type: 'integer', description, ...extra };
}

export function number(description: string, extra: Extra = {}): JSONSchema {
  return { type: 'number', description, ...extra };
}

export function boolean(description: string, defaultValue?: boolean): JSONSchema {
  return defaultValue === undefined
    ? { type: 'boolean', description }
    : { type: 'boolean', description, default: defaultValue };
}

export function object(description: string, properties: Record<string, JSONSchema>, extra: Extra = {}): JSONSchema {
  return { type: 'object', description, properties, ...extra };
}

export function array(description: string, items: JSONSchema, extra: Extra = {}): JSONSchema {
  return { type: 'array', description, items, ...extra };
}

/** A list of distinct scalars, each item owned and merged apart by server-side apply (x-kubernetes-list-type: set). */
export function listSet(description: string, items: JSONSchema, extra: Extra = {}): JSONSchema {
  return array(description, items, { ...extra, 'x-kubernetes-list-type': 'set' });
}

/** A map of string keys to values of one schema (additionalProperties). */
export function map(description: string, values: JSONSchema = { type: 'string' }): JSONSchema {
  return { type: 'object', description, additionalProperties: values };
}

/** A Go duration string ("30s", "1m30s"); validated by the "duration" format. */
export function duration(description: string, defaultValue?: string): JSONSchema {
  return string(
    description,
    defaultValue === undefined ? { format: 'duration' } : { format: 'duration', default: defaultValue },
  );
}

export function enumeration(description: string, values: string[], defaultValue?: string): JSONSchema {
  return string(description, defaultValue === undefined ? { enum: values } : { enum: values, default: defaultValue });
}

export function dateTime(description: string): JSONSchema {
  return string(description, { format: 'date-time' });
}

/** Reference to an object by name in the same namespace (Kubernetes LocalObjectReference). */
export function localObjectReference(description: string): JSONSchema {
  return object(description, { name: string('Name of the referent.', { minLength: 1 }) }, { required: ['name'] });
}

export const DNS1123_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
export const DNS1123_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

/** metav1.Condition, the element of every status.conditions list. */
export const conditionSchema: JSONSchema = object(
  'One aspect of the current state of this object (metav1.Condition).',
  {
    type: string('Type of the condition in CamelCase, e.g. Ready.', { minLength: 1 }),
    status: enumeration('Status of the condition.', ['True', 'False', 'Unknown']),
    reason: string('Programmatic identifier of the last transition, in CamelCase.'),
    message: string('Human readable details of the last transition.'),
    lastTransitionTime: dateTime('When the condition last changed status.'),
    observedGeneration: integer('metadata.generation the condition was computed from.', { minimum: 0 }),
  },
  { required: ['type', 'status'] },
);

/** Status block every gatehouse.dev kind carries, plus kind-specific fields. */
export function statusSchema(description: string, properties: Record<string, JSONSchema> = {}): JSONSchema {
  return object(description, {
    observedGeneration: integer('The metadata.generation last processed by the controller.', { minimum: 0 }),
    conditions: array('Current state of the object; the Ready condition summarises it.', conditionSchema, {
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    }),
    ...properties,
  });
}

/** Schema of a gatehouse.dev object: required spec, status subresource. */
export function specAndStatus(description: string, spec: JSONSchema, status: JSONSchema): JSONSchema {
  return object(description, { spec, status }, { required: ['spec'] });
}
