// Upstream targets and the state kept about them across config swaps: one undici Pool per
// origin and connect timeout (shared by every API that proxies there, so keep-alive
// connections survive a config change), one health checker per origin and check, and one
// circuit breaker per API and target. What no config uses any more is closed (pools after
// their in-flight requests end) or stopped.
import { Pool } from 'undici';
import type { HealthCheck, Upstream } from '../api/kinds/api-definition/index.ts';
import { parseDuration } from '../api/duration.ts';
import { CircuitBreaker, type BreakerSettings, type CircuitState } from './breaker.ts';
import { Carried } from './carried.ts';
import type { Refusal } from './errors.ts';
import { HealthChecker, type HealthSettings } from './health.ts';

export interface Target {
  pool: Pool;
  /** The target URL as written in the ApiDefinition. */
  url: string;
  /** `url` parsed: where upgraded connections go. */
  location: URL;
  /** Path of the target URL without a trailing slash ("" for the root). */
  basePath: string;
  /** Host header value of the target. */
  host: string;
  /** Position in its TargetSet; retries move on from here. */
  index: number;
  weight: number;
  health?: HealthChecker;
  breaker?: CircuitBreaker;
}

/** What the gateway knows about one target of an API (targets of weight 0 are not listed). */
export interface TargetHealth {
  /** The target URL as written in the ApiDefinition. */
  url: string;
  /** False while active health checks keep the target out of rotation; true when they
   * pass or the API has none. */
  healthy: boolean;
  /** False while the checks have neither confirmed nor overturned the initial healthy verdict. */
  judged: boolean;
  /** State of the target's circuit, when the API has a circuit breaker. */
  circuit?: CircuitState;
}

/** Targets of one API with weighted random choice, skipping unhealthy targets and open circuits. */
export class TargetSet {
  readonly timeoutMs: number;
  readonly retries: number;
  private readonly targets: Target[] = [];
  private readonly cumulative: number[] = [];
  private readonly total: number;
  /** Whether targets carry health or circuit state; when not, picking never checks it. */
  private readonly guarded: boolean;

  constructor(apiId: string, upstream: Upstream, upstreams: Upstreams) {
    this.timeoutMs = parseDuration(upstream.timeout);
    this.retries = upstream.retries;
    const connectMs = parseDuration(upstream.connectTimeout);
    const check = upstream.healthCheck && healthSettings(upstream.healthCheck);
    const breaker = upstream.circuitBreaker && {
      consecutiveFailures: upstream.circuitBreaker.consecutiveFailures,
      openDurationMs: parseDuration(upstream.circuitBreaker.openDuration),
      halfOpenRequests: upstream.circuitBreaker.halfOpenRequests,
    };
    let total = 0;
    for (const t of upstream.targets) {
      if (t.weight === 0) continue;
      const location = new URL(t.url);
      const weight = t.weight ?? 1;
      total += weight;
      this.targets.push({
        pool: upstreams.pool(location.origin, connectMs),
        url: t.url,
        location,
        basePath: location.pathname.replace(/\/+$/, ''),
        host: location.host,
        index: this.targets.length,
        weight,
        health: check && upstreams.checker(location.origin, check),
        breaker: breaker && upstreams.breaker(apiId, t.url, breaker),
      });
      this.cumulative.push(total);
    }
    this.total = total;
    this.guarded = check !== undefined || breaker !== undefined;
  }

  get size(): number {
    return this.targets.length;
  }

  /** A target by weight, or after `previous` in order for a retry; undefined when every
   * target's circuit is open. The caller must acquire() the chosen target's breaker before
   * anything else runs. */
  pick(previous?: Target): Target | undefined {
    if (this.guarded) return this.choose(previous, true) ?? this.choose(previous, false);
    const targets = this.targets;
    if (previous) return targets[(previous.index + 1) % targets.length];
    if (targets.length === 1) return targets[0];
    const r = Math.random() * this.total;
    let i = 0;
    while (this.cumulative[i] <= r) i++;
    return targets[i];
  }

  health(): TargetHealth[] {
    return this.targets.map((t) => ({
      url: t.url,
      healthy: t.health?.healthy ?? true,
      judged: t.health?.decided ?? true,
      ...(t.breaker ? { circuit: t.breaker.state } : {}),
    }));
  }

  /** URLs of the targets whose verdict `checker` gives (checkers are shared by origin and check). */
  checkedBy(checker: HealthChecker): string[] {
    return this.targets.filter((t) => t.health === checker).map((t) => t.url);
  }

  /** Chooses among targets whose circuit lets a request through, and with `healthyOnly`
   * among those the health checks call healthy. When the checks call every such target
   * unhealthy, pick() tries again without them: it fails open, as Envoy's panic threshold
   * does. The checks only probe one path, from one place; sending traffic to targets they
   * doubt costs less than refusing everything on their word, and targets that really fail
   * real requests are taken out by their circuit breakers. */
  private choose(previous: Target | undefined, healthyOnly: boolean): Target | undefined {
    const targets = this.targets;
    const n = targets.length;
    if (previous) {
      for (let i = 1; i <= n; i++) {
        const t = targets[(previous.index + i) % n];
        if (usable(t, healthyOnly)) return t;
      }
      return undefined;
    }
    let total = 0;
    for (const t of targets) if (usable(t, healthyOnly)) total += t.weight;
    let r = Math.random() * total;
    let last: Target | undefined;
    for (const t of targets) {
      if (!usable(t, healthyOnly)) continue;
      last = t;
      r -= t.weight;
      if (r < 0) return t;
    }
    return last;
  }
}

/** The refusal when pick() finds no target: every circuit is open. */
export function circuitOpen(apiId: string): Refusal {
  return { code: 'CIRCUIT_OPEN', message: `every upstream target of ${apiId} has an open circuit; retry later` };
}

/** How a target failed a request: for the access log and metrics only. The target's address
 * (and the error's message, which names it) is the operator's business, not the client's. */
export interface UpstreamFailure {
  /** The target URL as written in the ApiDefinition. */
  target: string;
  /** The error's code (ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT, …), "ERROR" when it has none. */
  code: string;
  message: string;
}

export function upstreamFailure(target: Target, err: unknown): UpstreamFailure {
  const code = (err as { code?: unknown }).code;
  return { target: target.url, code: typeof code === 'string' ? code : 'ERROR', message: (err as Error).message };
}

// What the client is told of a failed target: the API and a stable error code, never where
// the target is.

export function upstreamTimeout(apiId: string, timeoutMs: number): Refusal {
  return { code: 'UPSTREAM_TIMEOUT', message: `the upstream of ${apiId} did not answer within ${timeoutMs} ms` };
}

export function upstreamUnreachable(apiId: string, failure: UpstreamFailure): Refusal {
  return { code: 'UPSTREAM_UNREACHABLE', message: `the upstream of ${apiId} could not be reached (${failure.code})` };
}

function usable(t: Target, healthyOnly: boolean): boolean {
  return (
    (!healthyOnly || t.health === undefined || t.health.healthy) && (t.breaker === undefined || t.breaker.available())
  );
}

function healthSettings(check: HealthCheck): HealthSettings {
  return {
    path: check.path,
    intervalMs: parseDuration(check.interval),
    timeoutMs: parseDuration(check.timeout),
    healthyThreshold: check.healthyThreshold,
    unhealthyThreshold: check.unhealthyThreshold,
  };
}

/** Told when a health verdict or a circuit changes, for the log and ApiDefinition Events. */
export interface UpstreamEvents {
  healthChanged?(checker: HealthChecker, healthy: boolean): void;
  /** A checker's first verdict is in (see HealthChecker.decided). */
  healthJudged?(checker: HealthChecker): void;
  circuitChanged?(api: string, target: string, state: CircuitState): void;
}

/** Pools, health checkers and circuit breakers, carried from one config to the next. */
export class Upstreams {
  // A pool closes gracefully: requests in flight finish.
  private readonly pools = new Carried<Pool>((pool) => void pool.close());
  private readonly checkers = new Carried<HealthChecker>((checker) => checker.stop());
  private readonly breakers = new Carried<CircuitBreaker>(() => undefined);

  constructor(private readonly events: UpstreamEvents = {}) {}

  pool(origin: string, connectTimeoutMs: number): Pool {
    return this.pools.get(
      `${origin}|${connectTimeoutMs}`,
      () => new Pool(origin, { connect: { timeout: connectTimeoutMs }, connections: 128, keepAliveTimeout: 30_000 }),
    );
  }

  /** Keyed by the whole check: APIs declaring the same check of one origin share its
   * verdict; editing an API's check starts a new one (healthy until proven otherwise). */
  checker(origin: string, s: HealthSettings): HealthChecker {
    const key = `${origin}|${s.path}|${s.intervalMs}|${s.timeoutMs}|${s.healthyThreshold}|${s.unhealthyThreshold}`;
    const report = (healthy: boolean, checker: HealthChecker) => this.events.healthChanged?.(checker, healthy);
    const judged = (checker: HealthChecker) => this.events.healthJudged?.(checker);
    return this.checkers.get(key, () => new HealthChecker(origin, s, report, judged));
  }

  /** Keyed by API and target URL; changed settings apply to the breaker as it stands. */
  breaker(api: string, target: string, settings: BreakerSettings): CircuitBreaker {
    const breaker = this.breakers.get(
      `${api}|${target}`,
      () => new CircuitBreaker(settings, (state) => this.events.circuitChanged?.(api, target, state)),
    );
    breaker.configure(settings);
    return breaker;
  }

  async close(): Promise<void> {
    for (const checker of this.checkers.values()) checker.stop();
    await Promise.all(this.pools.values().map((p) => p.destroy()));
    this.pools.clear();
    this.checkers.clear();
    this.breakers.clear();
  }
}
