// The API server's error catalogue. Every failure leaves the server as a metav1.Status
// built here; storage errors are translated at one boundary (fromStorageError). Reasons
// are Kubernetes' StatusReason values, which clients (kubectl, client-go, client-node)
// branch on.
import type { FieldError } from '../api/kind.ts';
import { StorageError } from '../storage/storage.ts';

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'TooManyRequests'
  | 'ServiceUnavailable'
  | 'Timeout'
  | 'InternalError';

export const STATUS_CODES: Record<StatusReason, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
};

/** Names the resource an error is about: `apidefinitions.gatehouse.dev "shop"`. */
export interface ResourceRef {
  group: string;
  resource: string;
  kind?: string;
  name?: string;
}

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: StatusReason | '';
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  readonly reason: StatusReason;
  readonly code: number;
  readonly details: StatusDetails | undefined;
  constructor(reason: StatusReason, message: string, details?: StatusDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiError';
    this.reason = reason;
    this.code = STATUS_CODES[reason];
    this.details = details;
  }

  toStatus(): Status {
    const status: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) status.details = this.details;
    return status;
  }
}

function qualified(ref: ResourceRef): string {
  return ref.group ? `${ref.resource}.${ref.group}` : ref.resource;
}

function detailsOf(ref: ResourceRef, name?: string): StatusDetails {
  const details: StatusDetails = { group: ref.group, kind: ref.resource };
  if (name ?? ref.name) details.name = name ?? ref.name;
  return details;
}

export const errors = {
  notFound(ref: ResourceRef, name: string): ApiError {
    return new ApiError('NotFound', `${qualified(ref)} "${name}" not found`, detailsOf(ref, name));
  },
  alreadyExists(ref: ResourceRef, name: string): ApiError {
    return new ApiError('AlreadyExists', `${qualified(ref)} "${name}" already exists`, detailsOf(ref, name));
  },
  conflict(ref: ResourceRef, name: string, why: string): ApiError {
    return new ApiError(
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(ref)} "${name}": ${why}`,
      detailsOf(ref, name),
    );
  },
  staleResourceVersion(ref: ResourceRef, name: string): ApiError {
    return errors.conflict(
      ref,
      name,
      'the object has been modified; please apply your changes to the latest version and try again',
    );
  },
  /** 422 with one cause per bad field, as kube-apiserver reports validation failures. */
  invalid(ref: ResourceRef, kind: string, name: string, fieldErrors: FieldError[]): ApiError {
    const list = fieldErrors.map((e) => `${e.field}: ${e.message}`).join(', ');
    const what = ref.group ? `${kind}.${ref.group}` : kind;
    return new ApiError('Invalid', `${what} "${name}" is invalid: ${fieldErrors.length > 1 ? `[${list}]` : list}`, {
      name,
      group: ref.group,
      kind,
      causes: fieldErrors.map((e) => ({ reason: e.type, message: e.message, field: e.field })),
    });
  },
  badRequest(message: string, causes?: StatusCause[]): ApiError {
    return new ApiError('BadRequest', message, causes ? { causes } : undefined);
  },
  unauthorized(): ApiError {
    return new ApiError('Unauthorized', 'Unauthorized');
  },
  forbidden(message: string, ref?: ResourceRef, name?: string): ApiError {
    return new ApiError('Forbidden', message, ref ? detailsOf(ref, name) : undefined);
  },
  /** kube's NamespaceLifecycle admission refusing a create in a terminating namespace, with its cause. */
  namespaceTerminating(ref: ResourceRef, name: string, namespace: string): ApiError {
    const why = `unable to create new content in namespace ${namespace} because it is being terminated`;
    return new ApiError('Forbidden', `${qualified(ref)} "${name}" is forbidden: ${why}`, {
      ...detailsOf(ref, name),
      causes: [
        {
          reason: 'NamespaceTerminating',
          message: `namespace ${namespace} is being terminated`,
          field: 'metadata.namespace',
        },
      ],
    });
  },
  methodNotAllowed(method: string, what: string): ApiError {
    return new ApiError(
      'MethodNotAllowed',
      `the server does not allow this method on the requested resource (${method} ${what})`,
    );
  },
  /** kube-apiserver's words, listing the media types the resource is served in. */
  notAcceptable(accepted: readonly string[]): ApiError {
    return new ApiError('NotAcceptable', `only the following media types are accepted: ${accepted.join(', ')}`);
  },
  unsupportedMediaType(contentType: string, accepted: string[]): ApiError {
    return new ApiError(
      'UnsupportedMediaType',
      `the body of the request was in an unknown format (${contentType}) - accepted media types include: ${accepted.join(', ')}`,
    );
  },
  tooLarge(limit: number): ApiError {
    return new ApiError('RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);
  },
  /** 413 for a body or object that is within the read limit but too large once decoded. */
  objectTooLarge(message: string): ApiError {
    return new ApiError('RequestEntityTooLarge', message);
  },
  /** 410 for a resourceVersion or continue token older than the compaction window. */
  expired(message: string): ApiError {
    return new ApiError('Expired', message);
  },
  notFoundPath(path: string): ApiError {
    return new ApiError('NotFound', `the server could not find the requested resource (${path})`, {
      causes: [{ reason: 'UnexpectedServerResponse', message: '404 page not found' }],
    });
  },
  /** kube's timeout filter's words (apierrors.NewTimeoutError, no retry-after). */
  requestTimeout(): ApiError {
    return new ApiError(
      'Timeout',
      'Timeout: request did not complete within requested timeout - context deadline exceeded',
      {},
    );
  },
  unavailable(message: string): ApiError {
    return new ApiError('ServiceUnavailable', message);
  },
  internal(message: string, cause?: unknown): ApiError {
    return new ApiError('InternalError', `Internal error occurred: ${message}`, undefined, { cause });
  },
};

/** The one place storage failures become API errors. */
export function fromStorageError(err: unknown, ref: ResourceRef, name: string): ApiError {
  if (err instanceof ApiError) return err;
  if (!(err instanceof StorageError)) return errors.internal(err instanceof Error ? err.message : String(err), err);
  switch (err.code) {
    case 'NotFound':
      return errors.notFound(ref, name);
    case 'AlreadyExists':
      return errors.alreadyExists(ref, name);
    case 'Conflict':
      return errors.staleResourceVersion(ref, name);
    case 'Expired':
      return errors.expired(err.message);
    case 'Unavailable':
      return errors.unavailable(`storage unavailable: ${err.message}`);
    case 'Internal':
      return errors.internal(err.message, err);
  }
}
