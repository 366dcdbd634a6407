// Load generators behind one interface: wrk (C, one thread, preferred: it costs the shared
// core least) or autocannon (Node, the fallback when wrk cannot be installed). Both keep a
// fixed number of keep-alive connections busy for a fixed time (a closed loop) and report
// completed requests, latency percentiles and failures.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { commandVersion } from './install.ts';
import type { Processes } from './processes.ts';

export interface LoadRun {
  url: string;
  connections: number;
  seconds: number;
  headers?: Record<string, string>;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers that were not 2xx or 3xx. */
  badStatus: number;
  /** Connect, read, write errors and timeouts. */
  socketErrors: number;
}

export interface LoadGenerator {
  /** Name and version, for the report. */
  version: string;
  run(load: LoadRun): Promise<LoadResult>;
}

// wrk's `done` hook prints the summary as one JSON line; a script that defines no
// request/response hook leaves wrk on its fast path.
const WRK_REPORT = `done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%.0f,"durationUs":%.0f,"p50Us":%.0f,"p99Us":%.0f,"status":%.0f,"socket":%.0f}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
`;

/** wrk with one thread, run under `prefix` (e.g. taskset); `dir` receives its report script. */
export async function wrk(
  processes: Processes,
  binary: string,
  dir: string,
  prefix: readonly string[],
): Promise<LoadGenerator> {
  const script = join(dir, 'wrk-report.lua');
  await writeFile(script, WRK_REPORT);
  return {
    version: commandVersion([binary, '-v']).split(' [')[0],
    async run({ url, connections, seconds, headers = {} }) {
      const argv = [
        ...prefix,
        binary,
        '-t',
        '1',
        '-c',
        String(connections),
        '-d',
        `${seconds}s`,
        '--timeout',
        '10s',
        '-s',
        script,
      ];
      for (const [name, value] of Object.entries(headers)) argv.push('-H', `${name}: ${value}`);
      const out = await processes.run('wrk', [...argv, url]);
      const line = out.split('\n').find((l) => l.startsWith('{"requests"'));
      if (!line) throw new Error(`wrk printed no report:\n${out}`);
      const r = JSON.parse(line) as {
        requests: number;
        durationUs: number;
        p50Us: number;
        p99Us: number;
        status: number;
        socket: number;
      };
      const secs = r.durationUs / 1e6;
      return {
        requests: r.requests,
        seconds: secs,
        requestsPerSecond: r.requests / secs,
        p50Ms: r.p50Us / 1000,
        p99Ms: r.p99Us / 1000,
        badStatus: r.status,
        socketErrors: r.socket,
      };
    },
  };
}

/** autocannon's CLI (`script`, from bench/node_modules), run under `prefix`. */
export function autocannon(
  processes: Processes,
  script: string,
  version: string,
  prefix: readonly string[],
): LoadGenerator {
  return {
    version: `autocannon ${version}`,
    async run({ url, connections, seconds, headers = {} }) {
      const argv = [
        ...prefix,
        process.execPath,
        script,
        '--json',
        '--no-progress',
        '-c',
        String(connections),
        '-d',
        String(seconds),
        '-t',
        '10',
      ];
      for (const [name, value] of Object.entries(headers)) argv.push('-H', `${name}=${value}`);
      const out = await processes.run('autocannon', [...argv, url]);
      const r = JSON.parse(out.slice(out.indexOf('{'))) as {
        requests: { total: number };
        duration: number;
        latency: { p50: number; p99: number };
        non2xx: number;
        errors: number;
        timeouts: number;
      };
      return {
        requests: r.requests.total,
        seconds: r.duration,
        requestsPerSecond: r.requests.total / r.duration,
        p50Ms: r.latency.p50,
        p99Ms: r.latency.p99,
        badStatus: r.non2xx,
        socketErrors: r.errors + r.timeouts,
      };
    },
  };
}
