// Bodies the audit log never records, whatever the policy says: a Secret's data (and the
// last-applied annotation that copies it), a token a TokenRequest returns or a TokenReview
// carries, an ApiKey's plaintext (shown once, in its create response). The policy decides how
// much of a request is recorded; this decides what can never be.
import type { ObjectReference } from './event.ts';

interface SensitiveBodies {
  group: string;
  resource: string;
  /** Undefined matches the resource and all its subresources. */
  subresource?: string;
  /** No body at all: the whole object is the secret. */
  omit?: true;
  /** Fields replaced in request and response bodies. */
  fields?: string[][];
}

export const REDACTED = '[REDACTED]';

const SENSITIVE: SensitiveBodies[] = [
  { group: '', resource: 'secrets', omit: true },
  { group: '', resource: 'serviceaccounts', subresource: 'token', fields: [['status', 'token']] },
  { group: 'authentication.k8s.io', resource: 'tokenreviews', fields: [['spec', 'token']] },
  { group: 'gatehouse.dev', resource: 'apikeys', fields: [['status', 'key']] },
];

function ruleFor(ref: ObjectReference): SensitiveBodies | undefined {
  return SENSITIVE.find(
    (s) =>
      s.group === (ref.apiGroup ?? '') &&
      s.resource === ref.resource &&
      (s.subresource === undefined || s.subresource === ref.subresource),
  );
}

/** Whether no body of requests on `ref` may be recorded. */
export function bodiesOmitted(ref: ObjectReference | undefined): boolean {
  return ref !== undefined && ruleFor(ref)?.omit === true;
}

/** `body` with the sensitive fields of `ref` replaced; the original is left as it is. */
export function redactBody(ref: ObjectReference | undefined, body: unknown): unknown {
  const fields = ref && ruleFor(ref)?.fields;
  if (!fields) return body;
  let copy: unknown = body;
  for (const path of fields) {
    if (!has(copy, path)) continue;
    if (copy === body) copy = structuredClone(body);
    const step = (o: unknown, k: string) => (o as Record<string, unknown>)[k];
    const parent = path.slice(0, -1).reduce(step, copy) as Record<string, unknown>;
    parent[path[path.length - 1]] = REDACTED;
  }
  return copy;
}

function has(value: unknown, path: string[]): boolean {
  let at = value;
  for (const key of path) {
    if (typeof at !== 'object' || at === null || !(key in at)) return false;
    at = (at as Record<string, unknown>)[key];
  }
  return true;
}
