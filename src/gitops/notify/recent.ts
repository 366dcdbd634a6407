// Rate limiting as Flux's notification-controller does it: an event identical to one sent within
// the window (same object, severity, reason, message and metadata) is not sent again, so a
// reconcile failing the same way every few seconds notifies once per window.

/** Events remembered at most; the oldest are forgotten first. */
const CAPACITY = 10_000;

export class RecentEvents {
  /** When each key was last let through; Map order is oldest first. */
  private readonly sent = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when `key` went through within the window; otherwise remembers it as going through now. */
  seen(key: string): boolean {
    const now = this.now();
    for (const [k, at] of this.sent) {
      if (now - at < this.windowMs && this.sent.size < CAPACITY) break;
      this.sent.delete(k);
    }
    if (this.sent.has(key)) return true;
    this.sent.set(key, now);
    return false;
  }
}
