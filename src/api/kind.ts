// What one resource kind declares. The API server's generic registry serves any kind
// from this description alone; adding a kind means adding one folder under src/api/kinds
// (or src/api/core) that exports a KindDefinition, and listing it in src/api/kinds.ts.

/** An OpenAPI v3 structural schema (the subset CRDs allow), with `default`s. */
export type JSONSchema = {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, JSONSchema>;
  required?: string[];
  items?: JSONSchema;
  additionalProperties?: JSONSchema | boolean;
  enum?: unknown[];
  default?: unknown;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  nullable?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
};

/** Kubernetes field error types (k8s.io/apimachinery field.ErrorType), used as the
 * `reason` of a Status cause. */
export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueForbidden'
  | 'FieldValueTypeInvalid';

export interface FieldError {
  type: FieldErrorType;
  /** Dotted path with indexes, as Kubernetes prints it: `spec.upstream.targets[0].url`. */
  field: string;
  /** Human text naming the bad value, e.g. `Invalid value: "ftp://x": must be an http(s) URL`. */
  message: string;
}

/** A column of `kubectl get` output (CRD additionalPrinterColumns semantics). `priority`
 * > 0 columns appear only with `-o wide`. The NAME column is implicit and first; AGE is
 * supplied by the server from creationTimestamp when `type` is 'date'. */
export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  description: string;
  priority: number;
  /** Computes the cell from the object. */
  cell(obj: KubeObject): string | number | boolean | null;
}

/** Any Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: unknown[];
  managedFields?: unknown[];
  [field: string]: unknown;
}

/** Result of preparing an object for create: fields to show once in the create response
 * and never store (an ApiKey's plaintext key), and warnings for the client about what was
 * prepared (kube's WarningsOnCreate; sent as `Warning: 299 - "..."` headers, which kubectl
 * prints). */
export interface CreatePreparation {
  responseOnly?: Record<string, unknown>;
  warnings?: string[];
}

/** Per-kind behaviour around the generic store (the apiserver "strategy" pattern). Every
 * hook is optional; schema defaults and schema validation are applied by the registry. */
export interface Strategy {
  /** Sets server-owned fields on a new object before validation. */
  prepareForCreate?(obj: KubeObject): CreatePreparation | undefined;
  /** Carries server-owned fields over from `old` on update. */
  prepareForUpdate?(obj: KubeObject, old: KubeObject): void;
  /** Semantic checks the schema cannot express. */
  validate?(obj: KubeObject): FieldError[];
  /** Checks of an update against the stored object (immutable fields). */
  validateUpdate?(obj: KubeObject, old: KubeObject): FieldError[];
}

/** A field a field selector may name besides metadata.name and metadata.namespace (a CRD's
 * `selectableFields`): a dotted path to a string, integer or boolean field, which is also the
 * selector's label; or a label whose value is the first non-empty of several such paths (as
 * kube-apiserver's Event `source`: source.component, else reportingComponent). An absent field
 * selects as "". */
export type SelectableField = string | { label: string; paths: string[] };

/** A kind served from another kind's storage, converted on the way in and out, as kube-apiserver serves
 * events.k8s.io/v1 Events from the core v1 Events' storage. */
export interface StoredAs {
  /** The kind whose objects are stored; they are this kind's objects, seen in its shape. */
  kind: KindDefinition;
  /** This kind's object in the stored kind's shape (apiVersion and kind included). */
  toStored(obj: KubeObject): KubeObject;
  /** A stored object in this kind's shape. */
  fromStored(obj: KubeObject): KubeObject;
  /** This kind's field selector labels, by the stored kind's label each selects (metadata.name and
   * metadata.namespace are the same in every kind). */
  fieldLabels: Record<string, string>;
}

export interface KindDefinition {
  /** Kubernetes' own types (core v1, coordination.k8s.io), not custom resources: as
   * kube-apiserver does for built-in types, a body may leave apiVersion and kind out and gets
   * them from the URL. */
  builtIn?: boolean;
  /** '' for the core group. */
  group: string;
  version: string;
  kind: string;
  listKind: string;
  /** Resource name in URLs, lower-case plural. */
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  namespaced: boolean;
  /** Whether `status` is a separate subresource (spec edits ignore status and vice versa). */
  statusSubresource: boolean;
  /** Whether metadata.generation tracks changes of everything but metadata and status. */
  generation: boolean;
  /** Created only to be answered, never stored (kube's SubjectAccessReview, TokenReview): the only verb
   * is `create`, and the server fills in the status of the object it returns. */
  createOnly?: boolean;
  /** Schema of the whole object; apiVersion, kind and metadata are added by the registry. */
  schema: JSONSchema;
  printerColumns: PrinterColumn[];
  selectableFields?: SelectableField[];
  /** Problems of a metadata.name when the kind's names are not DNS-1123 subdomains (RBAC kinds take path
   * segment names, as `gatehouse:view`); detail strings as the *Problems functions of schema/object-meta.ts. */
  nameProblems?(name: string): string[];
  strategy: Strategy;
  description: string;
  /** Served from another kind's storage (see StoredAs): the garbage collector follows only the stored kind. */
  storedAs?: StoredAs;
}
