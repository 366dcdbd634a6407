// Token bucket: `requests` tokens, refilled continuously at requests/per. Allows bursts up
// to the limit and never more than the limit over any window of length `per`. The answer
// carries what the RateLimit-* response headers (IETF httpapi-ratelimit-headers) need.

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** Seconds until one request would be allowed; 0 when allowed. */
  retryAfterSeconds: number;
}

export class TokenBucket {
  private tokens: number;
  private updated: number;
  private readonly perMs: number;

  constructor(
    readonly limit: number,
    windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = limit;
    this.updated = now();
    this.perMs = limit / windowMs;
  }

  take(): RateDecision {
    const now = this.now();
    this.tokens = Math.min(this.limit, this.tokens + (now - this.updated) * this.perMs);
    this.updated = now;
    const allowed = this.tokens >= 1;
    if (allowed) this.tokens -= 1;
    return {
      allowed,
      limit: this.limit,
      remaining: Math.floor(this.tokens),
      resetSeconds: Math.ceil((this.limit - this.tokens) / this.perMs / 1000),
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((1 - this.tokens) / this.perMs / 1000)),
    };
  }
}
