// Circuit breaking: passive failure detection for one target of one API, judged by the
// requests the gateway proxies. Closed, it counts consecutive failures; at
// `consecutiveFailures` it opens and the target is skipped for `openDuration`. Then it is
// half-open: `halfOpenRequests` trial requests go through; when all of them succeed it
// closes, and the first failure opens it again.
//
// A failure is the target not serving: a connection error, a timeout, or an answer of
// 502, 503 or 504 (a gateway or an overloaded server in front of it saying so). Any other
// status, 500 included, is the application answering and counts as a success: one broken
// endpoint must not take a healthy target out of rotation for every route of the API.
// Requests the client abandons, or the gateway refuses mid-way (a body too large, a request
// the proxy will not send on), say nothing about the target and only give back their trial slot.
//
// Outcomes are reported with the ticket acquire() returned: a request that started before
// the circuit last changed state cannot close or reopen it (a slow request sent while the
// circuit was closed does not decide a half-open trial).

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface BreakerSettings {
  consecutiveFailures: number;
  openDurationMs: number;
  halfOpenRequests: number;
}

/** Whether an upstream answer with this status is a failure of the target. */
export function countsAsFailure(status: number): boolean {
  return status === 502 || status === 503 || status === 504;
}

export class CircuitBreaker {
  private current: CircuitState = 'closed';
  /** Consecutive failures while closed; successful trials while half-open. */
  private count = 0;
  /** Trials handed out while half-open. */
  private trials = 0;
  private openUntil = 0;
  /** Moves on every state change; tickets of an older epoch are ignored. */
  private epoch = 0;

  constructor(
    private settings: BreakerSettings,
    private readonly onChange?: (state: CircuitState) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Later configs may change the settings; the state is kept. */
  configure(settings: BreakerSettings): void {
    this.settings = settings;
  }

  get state(): CircuitState {
    if (this.current === 'open' && this.now() >= this.openUntil) this.become('half-open');
    return this.current;
  }

  /** Whether a request may be sent now. Does not take a trial slot: call acquire() for the
   * target actually chosen, before anything else can run. */
  available(): boolean {
    if (this.current === 'closed') return true;
    return this.state === 'half-open' && this.trials < this.settings.halfOpenRequests;
  }

  /** Takes a trial slot when half-open; returns the ticket for succeeded/failed/released. */
  acquire(): number {
    if (this.current === 'half-open') this.trials++;
    return this.epoch;
  }

  succeeded(ticket: number): void {
    if (ticket !== this.epoch) return;
    if (this.current === 'closed') this.count = 0;
    else if (this.current === 'half-open' && ++this.count >= this.settings.halfOpenRequests) this.become('closed');
  }

  failed(ticket: number): void {
    if (ticket !== this.epoch) return;
    if (
      this.current === 'half-open' ||
      (this.current === 'closed' && ++this.count >= this.settings.consecutiveFailures)
    ) {
      this.openUntil = this.now() + this.settings.openDurationMs;
      this.become('open');
    }
  }

  /** The request ended without saying anything about the target. */
  released(ticket: number): void {
    if (ticket === this.epoch && this.current === 'half-open') this.trials--;
  }

  private become(state: CircuitState): void {
    this.current = state;
    this.count = 0;
    this.trials = 0;
    this.epoch++;
    this.onChange?.(state);
  }
}
