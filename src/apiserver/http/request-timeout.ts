// kube-apiserver's bound on every request but a watch (filters WithRequestDeadline and
// WithTimeoutForNonLongRunningRequests): it is answered within --request-timeout (60 s), or within its
// `timeout` parameter when that is shorter, else with kube's 504 Timeout Status, whatever it was waiting
// on (storage, a component answering a subresource). Behind kube-apiserver's aggregator this keeps
// Gatehouse's answer ahead of the aggregator's own deadline, so a caller reads a Status, never a hang.
import type { ServerResponse } from 'node:http';
import { tryParseDuration } from '../../api/duration.ts';
import { errors } from '../errors.ts';
import { boolParam } from './query.ts';
import { parseResourcePath } from './request-info.ts';

export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/** How long the request at `path` may take: undefined for a watch (long-running, bounded by its own
 * timeoutSeconds), else the server's bound or the request's `timeout` when shorter. */
export function requestTimeoutOf(path: string, query: URLSearchParams, maxMs: number): number | undefined {
  if (parseResourcePath(path)?.watchPrefix || boolParam(query, 'watch') === true) return undefined;
  const raw = query.get('timeout');
  if (raw === null) return maxMs;
  const ms = tryParseDuration(raw);
  if (ms === undefined || ms < 0) throw errors.badRequest('invalid timeout specified in the request URL');
  return ms === 0 ? maxMs : Math.min(ms, maxMs);
}

/** Answers 504 when `res` has not ended `ms` from now; a response already started is cut instead. What the
 * handler writes afterwards is dropped by its writers (they skip an ended response). */
export function answerWithin(res: ServerResponse, ms: number, sendTimeout: () => void): void {
  const timer = setTimeout(() => {
    if (res.headersSent) res.destroy();
    else sendTimeout();
  }, ms);
  res.once('close', () => clearTimeout(timer));
}
