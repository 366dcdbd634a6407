// Active health checking of one upstream origin: GET `path` every `interval`, each probe
// bounded by `timeout` (connect, head and body together). A 2xx or 3xx answer is a
// success. `unhealthyThreshold` consecutive failures make the origin unhealthy,
// `healthyThreshold` consecutive successes make it healthy again. A checker starts healthy
// (a new target serves at once, as with no checks at all) and probes right away; it is judged
// once a probe confirmed that verdict or the failures overturned it, so a status can tell a
// target that passed its check from one not yet proven down (a Sync's health checks wait for that).
//
// Probes use their own connection, not the proxy's pool: under load the pool's
// connections are busy, and a probe queued behind real traffic would time out and call a
// loaded but working target unhealthy. Each probe opens a fresh connection (as kubelet's
// probes do): it checks that the target still accepts connections, and it cannot race
// the server closing an idle keep-alive connection into a false failure.
import { Client } from 'undici';

export interface HealthSettings {
  /** Origin-relative path of the probe ("/healthz"): health endpoints live at the
   * server's root whatever base path the API's target URL has. */
  path: string;
  intervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
}

export class HealthChecker {
  private verdict = true;
  private judged = false;
  private streak = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly client: Client;

  constructor(
    readonly origin: string,
    private readonly settings: HealthSettings,
    private readonly onChange?: (healthy: boolean, checker: HealthChecker) => void,
    private readonly onJudged?: (checker: HealthChecker) => void,
  ) {
    this.client = new Client(origin);
    this.schedule(0);
  }

  get healthy(): boolean {
    return this.verdict;
  }

  /** Whether a probe confirmed the verdict or enough of them overturned it. */
  get decided(): boolean {
    return this.judged;
  }

  get path(): string {
    return this.settings.path;
  }

  /** Stops probing and closes the probe connection. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    void this.client.destroy().catch(() => undefined);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.probe(), delayMs);
    this.timer.unref();
  }

  private async probe(): Promise<void> {
    let ok: boolean;
    try {
      const { statusCode, body } = await this.client.request({
        method: 'GET',
        path: this.settings.path,
        headers: { 'user-agent': 'gatehouse-health-check' },
        reset: true,
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      await body.dump();
      ok = statusCode >= 200 && statusCode < 400;
    } catch {
      ok = false;
    }
    if (this.stopped) return;
    this.record(ok);
    this.schedule(this.settings.intervalMs);
  }

  private record(ok: boolean): void {
    // streak counts consecutive results that disagree with the current verdict.
    if (ok === this.verdict) {
      this.streak = 0;
      if (!this.judged) {
        this.judged = true;
        this.onJudged?.(this);
      }
      return;
    }
    if (++this.streak < (ok ? this.settings.healthyThreshold : this.settings.unhealthyThreshold)) return;
    this.verdict = ok;
    this.judged = true;
    this.streak = 0;
    this.onChange?.(ok, this);
  }
}
