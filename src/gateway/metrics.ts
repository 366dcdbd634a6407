// Prometheus text exposition (format 0.0.4), written by hand: request counts by API and
// status, a latency histogram by API, and the state of the config (generation, age, where
// it came from, whether the API server is reachable, whether limit counts are shared).
import { compiledApis, type GatewayConfig } from './config.ts';
import type { CounterStats } from './shared-counters.ts';
import type { StatusReporterStats } from './status-reporter.ts';
import { TrafficCounts } from './traffic.ts';
import type { UpstreamFailure } from './upstream.ts';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, Histogram>();
  /** Requests a target failed, by API, target URL and error code. */
  private readonly failures = new Map<string, number>();
  apiServerConnected = false;
  counters: CounterStats = { shared: true, failures: 0, unsent: 0, dropped: 0 };
  statusWriter: StatusReporterStats = { leading: false, writes: 0, failures: 0 };
  /** Requests and 5xx answers by API, which the status writer publishes as status.traffic. */
  readonly traffic = new TrafficCounts();

  observe(api: string, status: number, seconds: number): void {
    this.traffic.count(api, status);
    const key = `${api}\u0000${status}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    let h = this.latency.get(api);
    if (!h) this.latency.set(api, (h = { counts: new Array<number>(BUCKETS.length).fill(0), sum: 0, count: 0 }));
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) h.counts[i]++;
    h.sum += seconds;
    h.count++;
  }

  upstreamFailed(api: string, failure: UpstreamFailure): void {
    const key = `${api}\u0000${failure.target}\u0000${failure.code}`;
    this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
  }

  render(config: GatewayConfig): string {
    const lines: string[] = [
      '# HELP gatehouse_gateway_requests_total Requests answered, by API ("" when none matched) and status.',
      '# TYPE gatehouse_gateway_requests_total counter',
    ];
    for (const [key, n] of this.requests) {
      const [api, status] = key.split('\u0000');
      lines.push(`gatehouse_gateway_requests_total{api="${escapeLabel(api)}",status="${status}"} ${n}`);
    }
    lines.push(
      '# HELP gatehouse_gateway_request_duration_seconds Time from request to response head, by API.',
      '# TYPE gatehouse_gateway_request_duration_seconds histogram',
    );
    for (const [api, h] of this.latency) {
      const label = `api="${escapeLabel(api)}"`;
      for (const [i, b] of BUCKETS.entries()) {
        lines.push(`gatehouse_gateway_request_duration_seconds_bucket{${label},le="${b}"} ${h.counts[i]}`);
      }
      lines.push(`gatehouse_gateway_request_duration_seconds_bucket{${label},le="+Inf"} ${h.count}`);
      lines.push(
        `gatehouse_gateway_request_duration_seconds_sum{${label}} ${h.sum}`,
        `gatehouse_gateway_request_duration_seconds_count{${label}} ${h.count}`,
      );
    }
    const gauge = (name: string, help: string, value: number | boolean) =>
      family(lines, name, 'gauge', help, [`${name} ${Number(value)}`]);
    const counter = (name: string, help: string, value: number) =>
      family(lines, name, 'counter', help, [`${name} ${value}`]);
    gauge('gatehouse_gateway_config_generation', 'Generation of the config being served.', config.generation);
    gauge(
      'gatehouse_gateway_config_age_seconds',
      'Seconds since the config being served was swapped in.',
      (Date.now() - config.createdAt) / 1000,
    );
    family(
      lines,
      'gatehouse_gateway_config_source',
      'gauge',
      'Where the config being served came from (1 for the current source).',
      (['apiserver', 'disk', 'empty'] as const).map(
        (s) => `gatehouse_gateway_config_source{source="${s}"} ${config.source === s ? 1 : 0}`,
      ),
    );
    gauge(
      'gatehouse_gateway_apiserver_connected',
      'Whether every watch on the API server is connected.',
      this.apiServerConnected,
    );
    gauge(
      'gatehouse_gateway_limit_counters_shared',
      "Whether the last exchange of rate limit and quota counts with the API server succeeded (0: limits are decided on this process's own counts).",
      this.counters.shared,
    );
    counter(
      'gatehouse_gateway_limit_counter_exchange_failures_total',
      'Exchanges of rate limit and quota counts with the API server that failed.',
      this.counters.failures,
    );
    gauge(
      'gatehouse_gateway_limit_counts_unsent',
      'Requests counted against limits and quotas and not yet sent to the API server.',
      this.counters.unsent,
    );
    counter(
      'gatehouse_gateway_limit_counts_dropped_total',
      'Counts the API server refused to add (the counter budget of the gateway identity): kept by this process only.',
      this.counters.dropped,
    );
    gauge(
      'gatehouse_gateway_apis',
      'Active APIs routed on the internal listener.',
      config.inputs.apis.filter((a) => a.spec.active !== false).length,
    );
    gauge(
      'gatehouse_gateway_status_leader',
      'Whether this gateway holds the lease that makes it the one writing ApiDefinition status.',
      this.statusWriter.leading,
    );
    counter(
      'gatehouse_gateway_status_writes_total',
      'ApiDefinition status writes by this gateway that changed something.',
      this.statusWriter.writes,
    );
    counter(
      'gatehouse_gateway_status_write_failures_total',
      'ApiDefinition status writes by this gateway that failed (retried).',
      this.statusWriter.failures,
    );
    const targets = compiledApis(config).flatMap((api) =>
      api.targets
        .health()
        .map((t) => ({ ...t, labels: `api="${escapeLabel(api.id)}",target="${escapeLabel(t.url)}"` })),
    );
    family(
      lines,
      'gatehouse_upstream_healthy',
      'gauge',
      'Whether a target of an API is in rotation by its active health checks (1 also when the API has none).',
      targets.map((t) => `gatehouse_upstream_healthy{${t.labels}} ${t.healthy ? 1 : 0}`),
    );
    family(
      lines,
      'gatehouse_upstream_circuit_open',
      'gauge',
      'Whether the circuit of a target of an API is open or half-open (APIs with a circuit breaker).',
      targets
        .filter((t) => t.circuit)
        .map((t) => `gatehouse_upstream_circuit_open{${t.labels}} ${t.circuit === 'closed' ? 0 : 1}`),
    );
    const failed = [...this.failures].map(([key, n]) => {
      const [api, target, code] = key.split('\u0000').map(escapeLabel);
      return `gatehouse_upstream_failures_total{api="${api}",target="${target}",code="${code}"} ${n}`;
    });
    const failuresHelp = 'Requests a target of an API failed (answered 502 or 504), by error code.';
    family(lines, 'gatehouse_upstream_failures_total', 'counter', failuresHelp, failed);
    return `${lines.join('\n')}\n`;
  }
}

/** Appends one metric family: its HELP and TYPE lines, then its samples. */
function family(lines: string[], name: string, type: 'gauge' | 'counter', help: string, samples: string[]): void {
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples);
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
