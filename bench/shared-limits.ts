// Shared limits at full speed: how many requests N `gatehouse gateway` processes admit together
// against one rate limit when all of them are hammered at once, against the bound of
// docs/operations.md (never over the limit; under it only by the slots a process holds unused).
// Each run creates a fresh ApiDefinition (a fresh counter) limited to L requests per hour — so no
// window ends during a run — waits until every gateway serves it (read from /metrics, which
// counts nothing), then sends R requests to each gateway over C keep-alive connections, all
// gateways at once, and counts the 200s. Every run is printed; the target is within 10% of
// the limit in every run, for 2 and for 3 gateways.
// Usage: npx tsx bench/shared-limits.ts [-- --gateways 2,3 --runs 10 --limit 100 --requests 2000
//   --connections 16 --out FILE]
// Bounded: a fixed number of requests per run, everything on 127.0.0.1, every process and
// temporary directory the run creates removed at the end, also on Ctrl-C.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool, request } from 'undici';
import { apiDefinitionKind } from '../src/api/kinds/api-definition/index.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { KubeClient } from '../src/client/rest.ts';
import { startApiServerProcess } from './lib/apiserver-process.ts';
import { loadAverage, machineInfo } from './lib/machine.ts';
import { waitForOutput, withProcesses, type Child, type Processes } from './lib/processes.ts';
import { freePort, pollUntil } from './lib/ready.ts';
import { gatehouseArgv, REPO_ROOT } from './lib/repo.ts';
import { say } from './lib/say.ts';
import { markdownTable } from './lib/table.ts';

const { values } = parseArgs({
  options: {
    gateways: { type: 'string', default: '2,3' },
    runs: { type: 'string', default: '10' },
    limit: { type: 'string', default: '100' },
    requests: { type: 'string', default: '2000' },
    connections: { type: 'string', default: '16' },
    out: { type: 'string' },
  },
});
const positive = (name: keyof typeof values): number => {
  const n = Number(values[name]);
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`--${name} must be a positive integer`);
  return n;
};
const settings = {
  gateways: (values.gateways ?? '').split(',').map(Number),
  runs: positive('runs'),
  limit: positive('limit'),
  requests: positive('requests'),
  connections: positive('connections'),
};
if (!settings.gateways.every((n) => Number.isInteger(n) && n > 0)) throw new Error('--gateways is a list like 2,3');
const PRODUCTION = { ...process.env, NODE_ENV: 'production', GATEHOUSE_LOG_LEVEL: 'warn' };
const READY_TIMEOUT_MS = 60_000;

interface Gateway {
  child: Child;
  url: string;
  internalUrl: string;
}

/** Sends `count` GETs of `path` over `connections` keep-alive connections; returns how many were 200. */
async function hammer(base: string, path: string, count: number, connections: number): Promise<number> {
  const pool = new Pool(base, { connections });
  let sent = 0;
  let admitted = 0;
  try {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (sent < count) {
          sent++;
          const res = await pool.request({ method: 'GET', path });
          await res.body.dump();
          if (res.statusCode === 200) admitted++;
          else if (res.statusCode !== 429) throw new Error(`GET ${base}${path}: HTTP ${res.statusCode}`);
        }
      }),
    );
  } finally {
    await pool.close();
  }
  return admitted;
}

async function servedApis(gw: Gateway): Promise<number> {
  const res = await request(`${gw.internalUrl}/metrics`);
  return Number(/^gatehouse_gateway_apis (\d+)$/m.exec(await res.body.text())?.[1]);
}

await withProcesses(async (processes) => {
  const host = machineInfo();
  const date = new Date().toISOString();
  say(`${date}: node ${host.node}, nproc ${host.nproc}, ${host.cpuModel}, load average ${loadAverage().join(' ')}`);
  const dir = await processes.tempDir('gatehouse-bench-shared-limits-');
  const upstreamChild = processes.start('upstream', [process.execPath, '--import', 'tsx', 'bench/peers/upstream.ts'], {
    cwd: REPO_ROOT,
    env: PRODUCTION,
  });
  const [line] = await waitForOutput(upstreamChild, /^\{"url":.*\}$/m);
  const upstream = (JSON.parse(line) as { url: string }).url;
  const apiserver = await startApiServerProcess(processes, {
    storage: 'memory',
    dir: join(dir, 'apiserver'),
    token: 'b',
  });
  const client = new KubeClient(await loadKubeconfig(apiserver.kubeconfigPath));

  const startGateway = async (processes: Processes, name: string): Promise<Gateway> => {
    const [port, internalPort] = [await freePort(), await freePort()];
    const argv = gatehouseArgv([
      'gateway',
      '--kubeconfig',
      apiserver.kubeconfigPath,
      '--port',
      String(port),
      '--internal-port',
      String(internalPort),
      '--data-dir',
      join(dir, name),
    ]);
    const child = processes.start(name, argv, { cwd: REPO_ROOT, env: PRODUCTION });
    return { child, url: `http://127.0.0.1:${port}`, internalUrl: `http://127.0.0.1:${internalPort}` };
  };

  const rows: Array<Array<string | number>> = [];
  let apis = 0;
  for (const count of settings.gateways) {
    const gateways = await Promise.all(
      Array.from({ length: count }, (_, i) => startGateway(processes, `gw-${count}-${i}`)),
    );
    const misses: number[] = [];
    for (let run = 1; run <= settings.runs; run++) {
      const name = `limited-${count}-${run}`;
      await client.create(apiDefinitionKind, {
        apiVersion: 'gatehouse.dev/v1alpha1',
        kind: 'ApiDefinition',
        metadata: { name, namespace: 'default' },
        spec: {
          listenPath: `/${name}`,
          rateLimit: { requests: settings.limit, per: '1h' },
          upstream: { targets: [{ url: upstream }] },
        },
      });
      apis++;
      for (const gw of gateways) {
        await pollUntil(
          processes,
          gw.child,
          async () => {
            const served = await servedApis(gw);
            if (served !== apis) throw new Error(`gatehouse_gateway_apis is ${served}, expecting ${apis}`);
          },
          READY_TIMEOUT_MS,
        );
      }
      const started = performance.now();
      const admitted = await Promise.all(
        gateways.map((gw) => hammer(gw.url, `/${name}`, settings.requests, settings.connections)),
      );
      const seconds = (performance.now() - started) / 1000;
      const total = admitted.reduce((a, b) => a + b, 0);
      const off = (100 * (total - settings.limit)) / settings.limit;
      if (Math.abs(off) > 10) misses.push(run);
      const rate = Math.round((settings.requests * count) / seconds);
      rows.push([count, run, admitted.join(' + '), total, `${off >= 0 ? '+' : ''}${off.toFixed(0)}%`, rate]);
      say(
        `${count} gateways, run ${run}: admitted ${total} (${admitted.join(' + ')}) of ${settings.limit}, ${rate} req/s`,
      );
    }
    say(`${count} gateways: ${settings.runs - misses.length} of ${settings.runs} runs within 10% of the limit`);
    for (const gw of gateways) await processes.stop(gw.child);
  }
  await client.close();

  const report = [
    `Shared limits at full speed, ${date}: ${settings.requests} requests to each gateway over ` +
      `${settings.connections} connections, all gateways at once, against ${settings.limit} per hour ` +
      `(node ${host.node}, nproc ${host.nproc}, ${host.cpuModel}, load average at the end ${loadAverage().join(' ')}).`,
    '',
    markdownTable(
      ['gateways', 'run', 'admitted per gateway', 'admitted', 'vs limit', 'requests/s (all gateways)'],
      rows,
    ),
  ].join('\n');
  process.stdout.write(`${report}\n`);
  if (values.out) await writeFile(values.out, `${report}\n`);
});
