// Per-API request counts since this gateway began counting, which the status writer publishes as
// ApiDefinition status.traffic so a Sync can judge a new revision's 5xx share (spec.rollback). Counters are
// cumulative and carry the time counting began: a reader compares two readings with the same `since`, and a
// new writer (another gateway taking the status lease, a restart) starts other counters under another `since`.
// Each gateway counts the requests it answered: with several replicas the published counts are the writer's
// share of the traffic, a sample, not the sum.
import type { ApiTraffic } from '../api/kinds/api-definition/index.ts';

/** Whether an answer counts as a server error: any 5xx, the upstream's or the gateway's own (502 unreachable
 * target, 503 no healthy target or open circuit, 504 upstream timeout). The gateway's refusals for auth, limits
 * or bad input are 4xx and count as requests only. */
export function isServerError(status: number): boolean {
  return status >= 500 && status <= 599;
}

export class TrafficCounts {
  private readonly counts = new Map<string, { requests: number; serverErrors: number }>();
  private readonly since: string;
  /** Bumped by every count, so a publisher can tell that nothing moved since its last snapshot. */
  private version = 0;

  constructor(now = new Date()) {
    this.since = now.toISOString();
  }

  /** Counts an answer of API `api` ("namespace/name"); requests no API matched are not counted. */
  count(api: string, status: number): void {
    if (!api) return;
    let c = this.counts.get(api);
    if (!c) this.counts.set(api, (c = { requests: 0, serverErrors: 0 }));
    c.requests++;
    if (isServerError(status)) c.serverErrors++;
    this.version++;
  }

  /** A changing number: equal between two calls when nothing was counted in between. */
  get changes(): number {
    return this.version;
  }

  /** The counts of every API counted so far, copied: they do not move after the call. */
  snapshot(): Map<string, ApiTraffic> {
    const copy = new Map<string, ApiTraffic>();
    for (const [api, c] of this.counts) copy.set(api, { ...c, since: this.since });
    return copy;
  }
}
