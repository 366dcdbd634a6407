// The gateway's own answers (as opposed to the upstream's): a fixed catalogue of codes,
// each with its HTTP status, sent as a small JSON body naming the API when there is one.
import type { ServerResponse } from 'node:http';

export type GatewayErrorCode =
  | 'BAD_REQUEST_TARGET'
  | 'NO_ROUTE'
  | 'IP_FORBIDDEN'
  | 'CORS_FORBIDDEN'
  | 'CREDENTIALS_MISSING'
  | 'CREDENTIALS_INVALID'
  | 'ACCESS_FORBIDDEN'
  | 'RATE_LIMITED'
  | 'BODY_TOO_LARGE'
  | 'UPSTREAM_UNREACHABLE'
  | 'UPSTREAM_TIMEOUT'
  | 'NO_UPSTREAM';

export const GATEWAY_ERROR_STATUS: Record<GatewayErrorCode, number> = {
  BAD_REQUEST_TARGET: 400,
  NO_ROUTE: 404,
  IP_FORBIDDEN: 403,
  CORS_FORBIDDEN: 403,
  CREDENTIALS_MISSING: 401,
  CREDENTIALS_INVALID: 401,
  ACCESS_FORBIDDEN: 403,
  RATE_LIMITED: 429,
  BODY_TOO_LARGE: 413,
  UPSTREAM_UNREACHABLE: 502,
  UPSTREAM_TIMEOUT: 504,
  NO_UPSTREAM: 503,
};

export interface Refusal {
  code: GatewayErrorCode;
  message: string;
  headers?: Record<string, string>;
}

/** Writes `refusal` as the response; returns the status sent. */
export function sendRefusal(res: ServerResponse, refusal: Refusal, api: string | undefined, extraHeaders?: Record<string, string>): number {
  const status = GATEWAY_ERROR_STATUS[refusal.code];
  const body = JSON.stringify({ code: refusal.code, message: refusal.message, ...(api ? { api } : {}) });
  res.writeHead(status, { ...extraHeaders, ...refusal.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
  return status;
}
