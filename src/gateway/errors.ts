// The gateway's own answers (as opposed to the upstream's): a fixed catalogue of codes,
// each with its HTTP status, sent as a small JSON body naming the API when there is one.
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { responseHead } from './raw-response.ts';

export type GatewayErrorCode =
  | 'MALFORMED_REQUEST'
  | 'HEADERS_TOO_LARGE'
  | 'REQUEST_TIMEOUT'
  | 'BAD_REQUEST_TARGET'
  | 'NO_ROUTE'
  | 'IP_FORBIDDEN'
  | 'CORS_FORBIDDEN'
  | 'CREDENTIALS_MISSING'
  | 'CREDENTIALS_INVALID'
  | 'ACCESS_FORBIDDEN'
  | 'AUTH_UNAVAILABLE'
  | 'RATE_LIMITED'
  | 'QUOTA_EXCEEDED'
  | 'BODY_TOO_LARGE'
  | 'UPSTREAM_UNREACHABLE'
  | 'UPSTREAM_TIMEOUT'
  | 'NO_UPSTREAM'
  | 'CIRCUIT_OPEN';

export const GATEWAY_ERROR_STATUS: Record<GatewayErrorCode, number> = {
  MALFORMED_REQUEST: 400,
  HEADERS_TOO_LARGE: 431,
  REQUEST_TIMEOUT: 408,
  BAD_REQUEST_TARGET: 400,
  NO_ROUTE: 404,
  IP_FORBIDDEN: 403,
  CORS_FORBIDDEN: 403,
  CREDENTIALS_MISSING: 401,
  CREDENTIALS_INVALID: 401,
  ACCESS_FORBIDDEN: 403,
  // The credentials could not be checked (a JWKS that cannot be fetched): not the caller's fault.
  AUTH_UNAVAILABLE: 503,
  RATE_LIMITED: 429,
  QUOTA_EXCEEDED: 429,
  BODY_TOO_LARGE: 413,
  UPSTREAM_UNREACHABLE: 502,
  UPSTREAM_TIMEOUT: 504,
  NO_UPSTREAM: 503,
  CIRCUIT_OPEN: 503,
};

/** Status recorded in logs and metrics (not sent) for a request whose client went away
 * before its answer was complete: nginx's 499 "client closed request". */
export const CLIENT_CLOSED = 499;

export interface Refusal {
  code: GatewayErrorCode;
  message: string;
  headers?: Record<string, string>;
}

/** Undici's error codes for a request it refuses to send as given (a header or length it
 * will not send, a bad path): the sender's doing, never the target's. */
const UNDICI_REQUEST_ERRORS = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
]);

/** Whether undici refused to send a request as given (see UNDICI_REQUEST_ERRORS). */
export function refusedByUndici(err: unknown): boolean {
  return UNDICI_REQUEST_ERRORS.has((err as { code?: string }).code ?? '');
}

/** Writes `refusal` as the response; returns the status sent. */
export function sendRefusal(
  res: ServerResponse,
  refusal: Refusal,
  api: string | undefined,
  extraHeaders?: Record<string, string>,
): number {
  const status = GATEWAY_ERROR_STATUS[refusal.code];
  const body = refusalBody(refusal, api);
  res.writeHead(status, {
    ...extraHeaders,
    ...refusal.headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
  return status;
}

/** Writes `refusal` as a whole response straight to a connection that has no
 * ServerResponse (a parse error, a refused upgrade), then closes it. */
export function writeRefusal(
  socket: Duplex,
  refusal: Refusal,
  api: string | undefined,
  extraHeaders?: Record<string, string>,
): number {
  const status = GATEWAY_ERROR_STATUS[refusal.code];
  const body = refusalBody(refusal, api);
  const head = responseHead(status, {
    ...extraHeaders,
    ...refusal.headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  socket.end(head + body, () => socket.destroy());
  return status;
}

function refusalBody(refusal: Refusal, api: string | undefined): string {
  return JSON.stringify({ code: refusal.code, message: refusal.message, ...(api ? { api } : {}) });
}
