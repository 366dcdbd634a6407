// ObjectMeta: its schema (for publication, pruning and type checks) and the syntax rules
// of k8s.io/apimachinery's ValidateObjectMeta, with the same messages so kubectl users
// see familiar errors.
import type { FieldError, JSONSchema, ObjectMeta } from '../kind.ts';
import { array, boolean, dateTime, integer, map, object, string } from './build.ts';
import { isPlainObject } from './walk.ts';

/** The garbage collector's finalizers (kube's metav1.FinalizerOrphanDependents, FinalizerDeleteDependents). */
export const ORPHAN_FINALIZER = 'orphan';
export const FOREGROUND_FINALIZER = 'foregroundDeletion';

export function objectMetaSchema(): JSONSchema {
  return object('Standard object metadata (ObjectMeta).', {
    name: string('Unique name within the namespace; DNS-1123 subdomain.'),
    generateName: string('Prefix for a server-generated name, used when name is empty.'),
    namespace: string('Namespace of the object; DNS-1123 label.'),
    selfLink: string('Deprecated; never set by the server.'),
    uid: string('Unique identifier set by the server on create.'),
    resourceVersion: string('Opaque version of the object, set by the server on every write.'),
    generation: integer('Sequence number of spec changes, set by the server.'),
    creationTimestamp: dateTime('When the object was created, set by the server.'),
    deletionTimestamp: dateTime('When deletion was requested, set by the server.'),
    deletionGracePeriodSeconds: integer('Seconds allowed for graceful termination.'),
    labels: map('Key/value pairs used to select objects.'),
    annotations: map('Key/value pairs of non-identifying metadata.'),
    ownerReferences: array(
      'Objects this object depends on.',
      object(
        'Reference to an owner.',
        {
          apiVersion: string('API version of the owner.'),
          kind: string('Kind of the owner.'),
          name: string('Name of the owner.'),
          uid: string('UID of the owner.'),
          controller: boolean('Whether the owner is the managing controller.'),
          blockOwnerDeletion: boolean('Whether the owner cannot be deleted before this object.'),
        },
        { required: ['apiVersion', 'kind', 'name', 'uid'] },
      ),
      { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['uid'] },
    ),
    finalizers: array('Names of finalizers that must run before deletion.', string('Qualified name.'), {
      'x-kubernetes-list-type': 'set',
    }),
    managedFields: array('Field ownership records (server-side apply).', {
      type: 'object',
      'x-kubernetes-preserve-unknown-fields': true,
    }),
  });
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const TOTAL_ANNOTATION_BYTES = 256 * 1024;

const DNS1123_LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const QUALIFIED_NAME_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

export function quote(value: unknown): string {
  return typeof value === 'string'
    ? JSON.stringify(value)
    : typeof value === 'object' && value !== null
      ? JSON.stringify(value)
      : String(value);
}

/** `Invalid value: "x": detail`, the FieldValueInvalid message. */
export function invalid(field: string, value: unknown, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, message: `Invalid value: ${quote(value)}: ${detail}` };
}

export function required(field: string, detail?: string): FieldError {
  return { type: 'FieldValueRequired', field, message: detail ? `Required value: ${detail}` : 'Required value' };
}

export function forbidden(field: string, detail: string): FieldError {
  return { type: 'FieldValueForbidden', field, message: `Forbidden: ${detail}` };
}

/** Problems of `value` as a DNS-1123 label (max 63 characters), as detail strings. */
export function dns1123LabelProblems(value: string): string[] {
  const problems: string[] = [];
  if (value.length > 63) problems.push('must be no more than 63 characters');
  if (!DNS1123_LABEL.test(value)) problems.push(DNS1123_LABEL_MSG);
  return problems;
}

/** Problems of `value` as a DNS-1123 subdomain (max 253 characters), as detail strings. */
export function dns1123SubdomainProblems(value: string): string[] {
  const problems: string[] = [];
  if (value.length > 253) problems.push('must be no more than 253 characters');
  if (!DNS1123_SUBDOMAIN.test(value)) problems.push(DNS1123_SUBDOMAIN_MSG);
  return problems;
}

/** Problems of `value` as a qualified name: `[prefix/]name`, prefix a DNS-1123
 * subdomain, name at most 63 characters (label keys, annotation keys, finalizers). */
export function qualifiedNameProblems(value: string): string[] {
  const parts = value.split('/');
  if (parts.length > 2) {
    return [
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  const name = parts[parts.length - 1];
  const problems: string[] = [];
  if (parts.length === 2) {
    if (parts[0] === '') problems.push('prefix part must be non-empty');
    else problems.push(...dns1123SubdomainProblems(parts[0]).map((p) => `prefix part ${p}`));
  }
  if (name === '') problems.push('name part must be non-empty');
  else {
    if (name.length > 63) problems.push('name part must be no more than 63 characters');
    if (!QUALIFIED_NAME_PART.test(name)) problems.push(QUALIFIED_NAME_MSG);
  }
  return problems;
}

export function labelValueProblems(value: string): string[] {
  const problems: string[] = [];
  if (value.length > 63) problems.push('must be no more than 63 characters');
  if (!LABEL_VALUE.test(value)) problems.push(LABEL_VALUE_MSG);
  return problems;
}

function each(field: string, value: string, problems: string[]): FieldError[] {
  return problems.map((p) => invalid(field, value, p));
}

/**
 * ObjectMeta syntax. Call after the server has filled metadata.namespace from the URL
 * (a namespaced object without one is an error, a cluster-scoped object with one too).
 * Names are DNS-1123 subdomains, except Namespace names which are DNS-1123 labels and the names of kinds
 * that bring their own rule (`kindNameProblems`).
 */
export function validateObjectMeta(
  meta: ObjectMeta,
  namespaced: boolean,
  kind: string,
  kindNameProblems?: (name: string) => string[],
): FieldError[] {
  const errors: FieldError[] = [];
  const nameProblems = kindNameProblems ?? (kind === 'Namespace' ? dns1123LabelProblems : dns1123SubdomainProblems);
  // A field of another type is the schema's to report (FieldValueTypeInvalid); the rules below read strings.
  const { name, generateName, namespace, labels, annotations, finalizers } = meta as Record<string, unknown>;
  if (name === undefined || name === '') {
    if (!generateName) errors.push(required('metadata.name', 'name or generateName is required'));
  } else if (typeof name === 'string') {
    errors.push(...each('metadata.name', name, nameProblems(name)));
  }
  if (typeof generateName === 'string' && generateName) {
    // The server appends a random suffix, so a trailing '-' is fine (Kubernetes masks it).
    const prefix = generateName.endsWith('-') ? `${generateName.slice(0, -1)}a` : generateName;
    errors.push(...each('metadata.generateName', generateName, nameProblems(prefix)));
  }
  if (namespaced) {
    if (!namespace) errors.push(required('metadata.namespace'));
    else if (typeof namespace === 'string') {
      errors.push(...each('metadata.namespace', namespace, dns1123LabelProblems(namespace)));
    }
  } else if (namespace) {
    errors.push(forbidden('metadata.namespace', 'not allowed on this type'));
  }
  for (const [key, value] of Object.entries(isPlainObject(labels) ? labels : {})) {
    errors.push(...each('metadata.labels', key, qualifiedNameProblems(key)));
    if (typeof value === 'string') errors.push(...each('metadata.labels', value, labelValueProblems(value)));
  }
  let annotationBytes = 0;
  for (const [key, value] of Object.entries(isPlainObject(annotations) ? annotations : {})) {
    // Kubernetes checks annotation keys lower-cased: upper-case letters are allowed.
    errors.push(...each('metadata.annotations', key, qualifiedNameProblems(key.toLowerCase())));
    annotationBytes += Buffer.byteLength(key) + (typeof value === 'string' ? Buffer.byteLength(value) : 0);
  }
  if (annotationBytes > TOTAL_ANNOTATION_BYTES) {
    errors.push({
      type: 'FieldValueTooLong',
      field: 'metadata.annotations',
      message: `Too long: must have at most ${TOTAL_ANNOTATION_BYTES} bytes`,
    });
  }
  if (!Array.isArray(finalizers)) return errors;
  finalizers.forEach((finalizer, i) => {
    if (typeof finalizer === 'string') {
      errors.push(...each(`metadata.finalizers[${i}]`, finalizer, qualifiedNameProblems(finalizer)));
    }
  });
  // kube's ValidateFinalizers: the garbage collector cannot both orphan and delete the dependents.
  if (finalizers.includes(ORPHAN_FINALIZER) && finalizers.includes(FOREGROUND_FINALIZER)) {
    const both = `finalizer ${ORPHAN_FINALIZER} and ${FOREGROUND_FINALIZER} cannot be both set`;
    const message = `Invalid value: ${JSON.stringify(finalizers)}: ${both}`;
    errors.push({ type: 'FieldValueInvalid', field: 'metadata.finalizers', message });
  }
  return errors;
}
