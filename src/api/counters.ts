// The counters endpoint: how gateway processes share rate limit and quota counts through
// the API server. It sits under the API group's path so that, aggregated behind
// kube-apiserver, it is proxied like the resources and authorized as `create` on
// `counters.gatehouse.dev`; it is not a stored resource and is not listed in discovery.
//
//   POST /apis/gatehouse.dev/v1alpha1/counters
//   {"increments": [{"key": "...", "window": 1700000000000, "delta": 3, "expiresAt": 1700000120000}]}
//   200 {"totals": [42]}
//
// Each increment adds `delta` to the counter (`key`, `window`) atomically; `totals` holds
// each counter's value after the whole batch, in the order of `increments`. A counter is
// forgotten from `expiresAt` on (epoch milliseconds, the API server's clock).

export const COUNTERS_PATH = '/apis/gatehouse.dev/v1alpha1/counters';

/** Most increments one request may carry. */
export const MAX_COUNTER_INCREMENTS = 1000;

/** Longest counter key, in characters. */
export const MAX_COUNTER_KEY_LENGTH = 1024;

export interface CounterIncrementBody {
  key: string;
  /** Start of the window, epoch milliseconds. */
  window: number;
  /** Non-negative integer; 0 reads the counter. */
  delta: number;
  /** Epoch milliseconds from which the counter is forgotten. */
  expiresAt: number;
}

export interface CountersRequest {
  increments: CounterIncrementBody[];
}

export interface CountersResponse {
  totals: number[];
}
