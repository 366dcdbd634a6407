// The Events a gateway records on ApiDefinitions: what changed for an API that its status
// alone does not tell (when a target left rotation and came back, when a circuit opened),
// and the changes of Ready a person wants to be told about. Reasons are a catalogue
// (docs/operations.md); messages carry no time or count, so the recorder aggregates a
// repeated occurrence into one Event with a count.
import type { EventType } from '../controller/runtime/events.ts';
import type { Condition } from '../api/status.ts';
import type { ApiOutcome } from './api-outcome.ts';
import type { CircuitState } from './breaker.ts';

export const ApiEventReason = {
  /** A target failed its active health check: out of rotation. */
  UpstreamUnhealthy: 'UpstreamUnhealthy',
  /** A target passes its health check again: back in rotation. */
  UpstreamHealthy: 'UpstreamHealthy',
  /** A target's circuit breaker opened: the target is skipped. */
  CircuitOpened: 'CircuitOpened',
  /** Trial requests succeeded: the circuit closed. */
  CircuitClosed: 'CircuitClosed',
  /** The gateway does not route the API; the message says why. */
  NotServed: 'NotServed',
  /** The API is routed again after it was not. */
  Served: 'Served',
} as const;

export type ApiEventReason = (typeof ApiEventReason)[keyof typeof ApiEventReason];

export interface ApiEvent {
  type: EventType;
  reason: ApiEventReason;
  message: string;
}

export function healthEvent(target: string, path: string, healthy: boolean): ApiEvent {
  if (healthy) {
    const message = `target ${target} passes its health check (GET ${path}) again: back in rotation`;
    return { type: 'Normal', reason: ApiEventReason.UpstreamHealthy, message };
  }
  const message = `target ${target} fails its health check (GET ${path}): out of rotation`;
  return { type: 'Warning', reason: ApiEventReason.UpstreamUnhealthy, message };
}

/** Half-open is a step on the way (trial requests), not news: no Event. */
export function circuitEvent(target: string, state: CircuitState): ApiEvent | undefined {
  if (state === 'open') {
    const message = `circuit of target ${target} opened: its requests failed; skipped until trial requests succeed`;
    return { type: 'Warning', reason: ApiEventReason.CircuitOpened, message };
  }
  if (state === 'closed') {
    const message = `circuit of target ${target} closed: trial requests succeeded`;
    return { type: 'Normal', reason: ApiEventReason.CircuitClosed, message };
  }
  return undefined;
}

/** The Event for a Ready condition going from `before` (as stored) to `outcome`: any change
 * into not served (why is news, also for a new API), and back to served. A new API served
 * as asked, or one served on other listeners, is told by its status alone. */
export function readyEvent(before: Condition | undefined, outcome: ApiOutcome): ApiEvent | undefined {
  const { message } = outcome;
  if (outcome.reason === 'Served') {
    return before && before.status !== 'True' ? { type: 'Normal', reason: ApiEventReason.Served, message } : undefined;
  }
  if (before?.status === 'False' && before.reason === outcome.reason && before.message === message) return undefined;
  // Inactive is what was asked for; Shadowed and Invalid need someone to act.
  return { type: outcome.reason === 'Inactive' ? 'Normal' : 'Warning', reason: ApiEventReason.NotServed, message };
}
