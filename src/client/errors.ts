// Errors the client surfaces. A non-2xx answer of the API server becomes an ApiStatusError
// carrying the metav1.Status it sent, so callers branch on `reason` and `code` (the
// catalogue kube-apiserver documents), never on message text. Transport failures (refused
// connection, reset, TLS) are left as the undici errors they are: they mean "retry later".

/** metav1.Status reasons callers branch on; the server may send others. */
export type StatusReason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'MethodNotAllowed'
  | 'Gone'
  | 'Expired'
  | 'TooManyRequests'
  | 'Timeout'
  | 'ServerTimeout'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'UnsupportedMediaType'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'Unknown';

export interface Status {
  kind?: 'Status';
  apiVersion?: 'v1';
  status?: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason | string;
  code?: number;
  details?: Record<string, unknown>;
}

export class ApiStatusError extends Error {
  override readonly name = 'ApiStatusError';
  readonly code: number;
  readonly reason: string;
  readonly status: Status;

  constructor(status: Status, fallbackCode: number) {
    super(status.message ?? `the server answered ${fallbackCode}`);
    this.status = status;
    this.code = status.code ?? fallbackCode;
    this.reason = status.reason ?? 'Unknown';
  }
}

/** Whether `err` is an ApiStatusError with one of `reasons`. */
export function isStatusError(err: unknown, ...reasons: StatusReason[]): err is ApiStatusError {
  return err instanceof ApiStatusError && (reasons.length === 0 || reasons.includes(err.reason as StatusReason));
}

/** The Status a non-2xx body carries, or one made up from the HTTP status when the body is
 * not a Status (a proxy's HTML page, say). */
export function statusFromBody(text: string, code: number): Status {
  try {
    const parsed = JSON.parse(text) as Status;
    if (parsed && typeof parsed === 'object' && parsed.kind === 'Status') return parsed;
  } catch {
    // not JSON: fall through to a synthetic Status
  }
  return {
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    code,
    message: text.slice(0, 500) || `the server answered ${code}`,
    reason: 'Unknown',
  };
}
