// Error-rate analysis after an apply (Sync spec.rollback; what Flagger's and Argo Rollouts' analysis do with a
// metrics query, done here on the gateway's own counts): once a new revision's health checks pass, each checked
// ApiDefinition's share of 5xx answers over spec.rollback.window must not exceed maxErrorRate. The counts are
// the cumulative status.traffic the status-writing gateway publishes (every 2 s, so both readings may lag that
// much); the controller reads them from its watch cache at the start and at the end of the window, and judges
// the difference. An API answering fewer than MIN_REQUESTS requests in the window is not judged: a share of
// one or two requests says nothing.
import { parseDuration } from '../../api/duration.ts';
import type { KubeObject } from '../../api/kind.ts';
import type { ApiTraffic } from '../../api/kinds/api-definition/index.ts';
import type { RollbackPolicy } from '../../api/kinds/sync/index.ts';
import { describeObject, parseId } from '../sync/index.ts';
import type { CheckedObject } from './health.ts';

/** Fewer requests than this in the window leave an API unjudged. */
export const MIN_REQUESTS = 10;

export interface TrafficDelta {
  requests: number;
  serverErrors: number;
}

/** The requests counted between two readings of one API's status.traffic. Counters of another `since` than
 * `start`'s (a new status writer, a restarted gateway) began after it was read: all of `end` counts. */
export function trafficBetween(start: ApiTraffic | undefined, end: ApiTraffic | undefined): TrafficDelta {
  if (!end) return { requests: 0, serverErrors: 0 };
  if (start?.since !== end.since) return { requests: end.requests, serverErrors: end.serverErrors };
  return { requests: end.requests - start.requests, serverErrors: end.serverErrors - start.serverErrors };
}

/** status.traffic of each object of `checked`, as `live` (the watch cache) holds it now. */
export function readTraffic(
  checked: CheckedObject[],
  live: (id: string) => KubeObject | undefined,
): Map<string, ApiTraffic | undefined> {
  return new Map(checked.map((c) => [c.id, trafficOf(live(c.id))]));
}

/** Why the traffic since the readings `starts` breaks `policy` (APIs joined by "; "), or undefined when no API
 * answered more than maxErrorRate of 5xx over at least MIN_REQUESTS requests. */
export function excessiveErrorRate(
  checked: CheckedObject[],
  starts: Map<string, ApiTraffic | undefined>,
  live: (id: string) => KubeObject | undefined,
  policy: RollbackPolicy,
): string | undefined {
  const problems: string[] = [];
  for (const { id } of checked) {
    const { requests, serverErrors } = trafficBetween(starts.get(id), trafficOf(live(id)));
    if (requests < MIN_REQUESTS) continue;
    const share = serverErrors / requests;
    if (share <= policy.maxErrorRate) continue;
    const what = describeObject(parseId(id) ?? { kind: 'ApiDefinition', name: id });
    problems.push(
      `5xx share ${share.toFixed(2)} over ${policy.window} on ${what} exceeded maxErrorRate ${policy.maxErrorRate}`,
    );
  }
  return problems.length ? problems.join('; ') : undefined;
}

/** Watches the traffic of `checked` for `policy.window`; resolves with what broke the policy, or undefined. */
export async function awaitErrorRate(
  checked: CheckedObject[],
  live: (id: string) => KubeObject | undefined,
  policy: RollbackPolicy,
): Promise<string | undefined> {
  const starts = readTraffic(checked, live);
  await new Promise((resolve) => setTimeout(resolve, parseDuration(policy.window)));
  return excessiveErrorRate(checked, starts, live, policy);
}

function trafficOf(object: KubeObject | undefined): ApiTraffic | undefined {
  return (object?.status as { traffic?: ApiTraffic } | undefined)?.traffic;
}
