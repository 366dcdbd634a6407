// Writes the status of the ApiDefinitions a gateway serves (see api-status.ts), from one
// replica only: the holder of a Lease. Every replica computes the same status from the
// same objects, so one writer is enough, and N replicas writing would be N times the
// writes and watch events for nothing, each replica undoing the others'
// lastTransitionTime whenever their health checks disagree for a moment.
//
// Replicas that serve the same APIs (same --namespace and --selector) elect one writer;
// a shard with another scope elects its own, over a lease whose name carries a hash of the
// scope, because no other shard sees its APIs. Scopes must not overlap: two shards serving
// one API would both write it, each from its own view of which APIs shadow which.
//
// A pass computes every served API's status and writes the ones that differ
// (writeStatus: a merge patch of the status subresource, only when something changed).
// An API found (or made) right is skipped by later passes while its resourceVersion, its
// outcome and the health verdicts stay the same, so with 10,000 APIs a pass after one edit
// computes one status, not 10,000.
// Passes follow config swaps and health verdict changes, at most one per 200 ms;
// a new leader starts with a full pass. Only a config that came from the API server is
// reported: one read from disk may be stale.
//
// The writer also records Events on the APIs (api-events.ts), so there is one Event per
// change however many gateways see it: a health verdict or circuit change as it happens
// here, and a change of Ready when the write that stores it succeeds, so a new writer does
// not tell again what the old one did. Circuits are judged by each gateway's own traffic:
// the Events tell the writer's.
//
// The writer also publishes its request counts per API as status.traffic (traffic.ts), for a
// Sync's error-rate analysis. Counts move with every request, so they are read at most every
// TRAFFIC_MS and only when some moved; between two readings a pass sees the same numbers, so
// an API is written at most once per reading, and only when its own counts changed: idle APIs
// cost nothing, and 10,000 busy ones cost 10,000 writes per TRAFFIC_MS at most.
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { apiDefinitionKind, type ApiDefinition, type ApiTraffic } from '../api/kinds/api-definition/index.ts';
import { ApiStatusError } from '../client/errors.ts';
import { LeaderElector, type LeaderElectionOptions } from '../client/leader-election.ts';
import type { KubeClient } from '../client/rest.ts';
import { ConditionType } from '../controller/runtime/conditions.ts';
import { EventRecorder } from '../controller/runtime/events.ts';
import { writeStatus } from '../controller/runtime/status-writer.ts';
import { circuitEvent, healthEvent, readyEvent, type ApiEvent } from './api-events.ts';
import { apiStatus } from './api-status.ts';
import type { ApiOutcome } from './api-outcome.ts';
import type { CircuitState } from './breaker.ts';
import { compiledApis, type GatewayConfig } from './config.ts';
import type { HealthChecker } from './health.ts';
import type { TrafficCounts } from './traffic.ts';
import type { TargetHealth } from './upstream.ts';

export const STATUS_LEASE = 'gatehouse-gateway-status';
export const STATUS_LEASE_NAMESPACE = 'default';

/** The APIs a gateway serves: all, or one namespace, or those matching a label selector. */
export interface ServedScope {
  namespace?: string;
  selector?: string;
}

/** The lease that elects the status writer among the gateways serving `scope`. */
export function statusLeaseName(scope: ServedScope): string {
  if (!scope.namespace && !scope.selector) return STATUS_LEASE;
  const digest = createHash('sha256')
    .update(`${scope.namespace ?? ''}\n${scope.selector ?? ''}`)
    .digest('hex');
  return `${STATUS_LEASE}-${digest.slice(0, 10)}`;
}

export type ElectionTiming = Pick<LeaderElectionOptions, 'leaseDurationMs' | 'retryPeriodMs'>;

export interface StatusReporterOptions {
  client: KubeClient;
  logger: Logger;
  scope: ServedScope;
  /** The config being served. */
  config(): GatewayConfig;
  /** Health of the targets of a compiled API, by API id. */
  health(id: string): TargetHealth[] | undefined;
  /** The API as last seen by the gateway's watch (its status is the base of a write). */
  current(namespace: string, name: string): ApiDefinition | undefined;
  /** This gateway's request counts by API, published as status.traffic. */
  traffic: TrafficCounts;
  /** Told of requests that did not reach the API server (instead of a warning each: the
   * caller logs an outage once). */
  unreachable(err: unknown, what: string): void;
  election?: ElectionTiming;
}

export interface StatusReporterStats {
  leading: boolean;
  /** Status writes that changed something. */
  writes: number;
  failures: number;
}

/** Passes are at least this far apart: a burst of changes makes one write per API. */
const DEBOUNCE_MS = 200;
/** A pass lets other work run after this many APIs. */
const YIELD_EVERY = 200;
/** After a failed write, the next pass waits this long. */
const RETRY_MS = 2000;
/** Request counts are read, and written where they moved, at most this often. */
const TRAFFIC_MS = 2000;

export class StatusReporter {
  private readonly elector: LeaderElector;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** A change arrived during a pass: run another after it. */
  private again = false;
  private notBefore = 0;
  private stopped = false;
  /** What this replica wrote, by API id, until its watch shows it: `from` is the
   * resourceVersion the write was based on, `object` what the server answered. */
  private written = new Map<string, { from: string | undefined; object: ApiDefinition }>();
  private readonly counts = { writes: 0, failures: 0 };
  /** APIs whose status was found in order, by id, with what it was computed from. */
  private settled = new Map<string, Settled>();
  /** Counts changes of health verdicts and circuits: a status settled under another count may be stale. */
  private healthEpoch = 0;
  private readonly events: EventRecorder;
  /** The request counts the passes write, as last read, and the TrafficCounts.changes they were read at. */
  private traffic = new Map<string, ApiTraffic>();
  private trafficRead = -1;
  private trafficTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: StatusReporterOptions) {
    const { logger } = options;
    // Several gateways may run on one host (workers, tests): the pid and a random part tell them apart.
    const identity = `${hostname()}_${process.pid}_${randomBytes(4).toString('hex')}`;
    this.events = new EventRecorder(options.client, 'gatehouse-gateway', logger, { instance: identity });
    this.elector = new LeaderElector({
      client: options.client,
      namespace: STATUS_LEASE_NAMESPACE,
      name: statusLeaseName(options.scope),
      identity,
      ...options.election,
      onStartedLeading: () => {
        logger.info('elected to write ApiDefinition status');
        this.readTraffic();
        this.changed();
      },
      onStoppedLeading: () => {
        logger.info('no longer writing ApiDefinition status');
        clearTimeout(this.timer);
        this.timer = undefined;
        this.written.clear();
        this.settled.clear();
      },
      onError: (err) => {
        if (err instanceof ApiStatusError) logger.warn({ err }, 'status writer election failed; retrying');
        else options.unreachable(err, 'status writer election');
      },
    });
  }

  start(): void {
    this.elector.start();
    this.trafficTimer = setInterval(() => {
      if (this.elector.isLeader && this.readTraffic()) this.changed();
    }, TRAFFIC_MS);
    this.trafficTimer.unref();
  }

  /** Reads the request counts for the next passes; false when none moved since the last reading. */
  private readTraffic(): boolean {
    const { traffic } = this.options;
    if (traffic.changes === this.trafficRead) return false;
    this.trafficRead = traffic.changes;
    const read = traffic.snapshot();
    // An API whose counts did not move keeps its object, so the passes find it settled.
    for (const [id, counts] of read) {
      const before = this.traffic.get(id);
      if (before && isDeepStrictEqual(before, counts)) read.set(id, before);
    }
    this.traffic = read;
    return true;
  }

  /** The config or a health verdict changed: statuses may have to follow. */
  changed(): void {
    if (this.stopped || !this.elector.isLeader) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => this.pass(), Math.max(0, this.notBefore - Date.now()));
    this.timer.unref();
  }

  /** A health checker's verdict changed: an Event on every served API whose targets it
   * checks, and a pass. */
  verdictChanged(checker: HealthChecker, healthy: boolean): void {
    this.healthEpoch++;
    if (this.elector.isLeader) {
      for (const api of compiledApis(this.options.config())) {
        for (const url of api.targets.checkedBy(checker)) this.record(api.id, healthEvent(url, checker.path, healthy));
      }
    }
    this.changed();
  }

  /** A checker's first verdict is in: a pass (UpstreamHealthy leaves Checking), no Event. */
  verdictJudged(): void {
    this.healthEpoch++;
    this.changed();
  }

  /** A circuit changed: an Event, and no pass of its own (circuits may flap; the next pass
   * reports it). */
  circuitChanged(api: string, target: string, state: CircuitState): void {
    this.healthEpoch++;
    const event = circuitEvent(target, state);
    if (event && this.elector.isLeader) this.record(api, event);
  }

  stats(): StatusReporterStats {
    return { leading: this.elector.isLeader, ...this.counts };
  }

  /** Finishes the pass under way and gives the lease up, so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.trafficTimer);
    await this.running;
    await this.elector.stop();
    await this.events.flush();
  }

  /** Records `event` on API `id` ("namespace/name") as the watch last saw it. */
  private record(id: string, event: ApiEvent): void {
    const [namespace, name] = id.split('/');
    const api = this.options.current(namespace, name);
    if (api && !this.stopped) void this.events.record(api, event.type, event.reason, event.message);
  }

  private pass(): void {
    this.timer = undefined;
    this.notBefore = Date.now() + DEBOUNCE_MS;
    this.running = this.writeAll().then((ok) => {
      this.running = undefined;
      if (!ok) this.notBefore = Date.now() + RETRY_MS;
      if (ok && !this.again) return;
      this.again = false;
      this.changed();
    });
  }

  /** One pass over the served APIs; false when a write failed and the pass must be retried. */
  private async writeAll(): Promise<boolean> {
    const config = this.options.config();
    if (config.source !== 'apiserver') return true;
    const healthEpoch = this.healthEpoch;
    const allTraffic = this.traffic;
    const written = new Map<string, { from: string | undefined; object: ApiDefinition }>();
    const settled = new Map<string, Settled>();
    let ok = true;
    let computed = 0;
    for (const input of config.inputs.apis) {
      if (this.stopped || !this.elector.isLeader) break;
      // Statuses found unchanged cost no I/O, so a pass over thousands would hold the event
      // loop (and the requests waiting on it) from start to end: let them through now and then.
      if (++computed % YIELD_EVERY === 0) await new Promise(setImmediate);
      const { namespace, name } = input.metadata;
      const id = `${namespace}/${name}`;
      const seen = this.options.current(namespace!, name!);
      // Deleted, or changed since this config was compiled: the next swap brings a pass.
      if (!seen || seen.metadata.generation !== input.metadata.generation) continue;
      const outcome = config.outcomes.get(id)!;
      const traffic = allTraffic.get(id);
      const before = this.settled.get(id);
      if (
        before &&
        before.version !== undefined &&
        before.version === seen.metadata.resourceVersion &&
        before.outcome === outcome &&
        before.healthEpoch === healthEpoch &&
        before.traffic === traffic
      ) {
        settled.set(id, before);
        continue;
      }
      const mine = this.written.get(id);
      const base = mine && mine.from === seen.metadata.resourceVersion ? mine.object : seen;
      if (base !== seen) written.set(id, mine!);
      const reported = apiStatus(base, input.metadata.generation, outcome, this.options.health(id));
      const status = traffic ? { ...reported, traffic } : reported;
      try {
        const result = await writeStatus(this.options.client, apiDefinitionKind, base, status);
        if (result.outcome !== 'written') {
          if (result.outcome === 'unchanged' && base === seen)
            settled.set(id, { version: seen.metadata.resourceVersion, outcome, healthEpoch, traffic });
          continue;
        }
        this.counts.writes++;
        const event = readyEvent(
          base.status?.conditions?.find((c) => c.type === ConditionType.Ready),
          outcome,
        );
        if (event) void this.events.record(result.object!, event.type, event.reason, event.message);
        written.set(id, { from: base.metadata.resourceVersion, object: result.object! });
        // When the watch brings this write back, there is nothing to compute again.
        settled.set(id, { version: result.object!.metadata.resourceVersion, outcome, healthEpoch, traffic });
      } catch (err) {
        this.counts.failures++;
        ok = false;
        // An answer about this object leaves the others to write; a transport failure
        // would fail for every one of them.
        if (!(err instanceof ApiStatusError)) {
          this.options.unreachable(err, `status write of ApiDefinition ${id}`);
          break;
        }
        this.options.logger.warn({ err, api: id }, 'could not write ApiDefinition status; retrying');
      }
    }
    this.written = written;
    this.settled = settled;
    return ok;
  }
}

interface Settled {
  /** resourceVersion of the object whose status was found or made right. */
  version: string | undefined;
  outcome: ApiOutcome;
  healthEpoch: number;
  /** The request counts written (by identity: each reading makes new objects). */
  traffic: ApiTraffic | undefined;
}
