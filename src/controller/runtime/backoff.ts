// Per-item exponential backoff (client-go's ItemExponentialFailureRateLimiter): every
// failure of a key doubles its next delay from `baseDelayMs` up to `maxDelayMs`; forget()
// starts the key over. Jitter only shortens a delay (by up to `jitter` of it), so the cap
// holds and keys failing together spread out instead of retrying in lockstep.

export interface BackoffOptions {
  /** Delay after the first failure. Default 100 ms. */
  baseDelayMs?: number;
  /** Upper bound of any delay. Default 5 minutes. */
  maxDelayMs?: number;
  /** Fraction of a delay that may be taken off at random, 0 ≤ jitter < 1. Default 0.1. */
  jitter?: number;
  /** Source of randomness in [0, 1); tests pin it. */
  random?: () => number;
}

const DEFAULT_BACKOFF = { baseDelayMs: 100, maxDelayMs: 5 * 60_000, jitter: 0.1 } as const;

export class ItemBackoff {
  private readonly failureCounts = new Map<string, number>();
  private readonly base: number;
  private readonly max: number;
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.base = options.baseDelayMs ?? DEFAULT_BACKOFF.baseDelayMs;
    this.max = options.maxDelayMs ?? DEFAULT_BACKOFF.maxDelayMs;
    this.jitter = options.jitter ?? DEFAULT_BACKOFF.jitter;
    this.random = options.random ?? Math.random;
  }

  /** Records a failure of `key` and returns how long to wait before its retry. */
  next(key: string): number {
    const failures = this.failureCounts.get(key) ?? 0;
    this.failureCounts.set(key, failures + 1);
    // 2 ** 1024 is Infinity, which min() turns into the cap.
    const delay = Math.min(this.max, this.base * 2 ** failures);
    return Math.round(delay * (1 - this.jitter * this.random()));
  }

  /** Failures of `key` since it was last forgotten. */
  failures(key: string): number {
    return this.failureCounts.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failureCounts.delete(key);
  }
}
