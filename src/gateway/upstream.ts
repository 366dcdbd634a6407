// Upstream connections: one undici Pool per origin and connect timeout, shared by every API
// that proxies there and carried across config swaps (keep-alive connections survive a
// config change). Pools no config uses any more are closed after in-flight requests end.
import { Pool } from 'undici';
import type { Upstream } from '../api/kinds/api-definition/index.ts';
import { parseDuration } from '../api/duration.ts';

export interface Target {
  pool: Pool;
  /** Path of the target URL without a trailing slash ("" for the root). */
  basePath: string;
  /** Host header value of the target. */
  host: string;
}

/** Targets of one API with weighted random choice. */
export class TargetSet {
  readonly timeoutMs: number;
  readonly retries: number;
  private readonly targets: Target[] = [];
  private readonly cumulative: number[] = [];
  private readonly total: number;

  constructor(upstream: Upstream, pools: Pools) {
    this.timeoutMs = parseDuration(upstream.timeout);
    this.retries = upstream.retries;
    const connectMs = parseDuration(upstream.connectTimeout);
    let total = 0;
    for (const t of upstream.targets) {
      if (t.weight === 0) continue;
      const url = new URL(t.url);
      total += t.weight ?? 1;
      this.targets.push({ pool: pools.get(url.origin, connectMs), basePath: url.pathname.replace(/\/+$/, ''), host: url.host });
      this.cumulative.push(total);
    }
    this.total = total;
  }

  get size(): number {
    return this.targets.length;
  }

  /** A target by weight; a retry (`attempt` > 0) moves on to the next target in order. */
  pick(attempt: number, first?: Target): Target {
    if (attempt > 0 && first) return this.targets[(this.targets.indexOf(first) + attempt) % this.targets.length];
    if (this.targets.length === 1) return this.targets[0];
    const r = Math.random() * this.total;
    let i = 0;
    while (this.cumulative[i] <= r) i++;
    return this.targets[i];
  }
}

export class Pools {
  private pools = new Map<string, Pool>();
  private used = new Set<string>();

  get(origin: string, connectTimeoutMs: number): Pool {
    const id = `${origin}|${connectTimeoutMs}`;
    this.used.add(id);
    let pool = this.pools.get(id);
    if (!pool) {
      pool = new Pool(origin, { connect: { timeout: connectTimeoutMs }, connections: 128, keepAliveTimeout: 30_000 });
      this.pools.set(id, pool);
    }
    return pool;
  }

  /** Starts a compile: pools asked for until sweep() are the ones the new config uses. */
  mark(): void {
    this.used = new Set();
  }

  /** Closes pools the last compile did not ask for (gracefully: in-flight requests finish). */
  sweep(): void {
    for (const [id, pool] of this.pools) {
      if (this.used.has(id)) continue;
      this.pools.delete(id);
      void pool.close();
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.destroy()));
    this.pools.clear();
  }
}
