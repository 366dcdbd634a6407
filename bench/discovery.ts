// Discovery and OpenAPI benchmark: how fast the API server answers the documents kube-apiserver's
// aggregator and every client's discovery ask for (kubectl, the garbage collector, the namespace
// controller). Goal: p99 under 100 ms, since a slow answer stalls the whole cluster's discovery
// (kubernetes/kubernetes#82172). A Gatehouse API server (memory storage, every kind: the largest
// documents) runs as its own process; this script is the client. For each document: the first request
// after the server is ready, then N requests from C concurrent clients.
// Usage: npx tsx bench/discovery.ts [--requests 2000 --clients 16]
// Bounded: a fixed number of requests per document; everything runs on 127.0.0.1.
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { AGGREGATED_DISCOVERY_V2 } from '../src/apiserver/http/discovery.ts';
import { startApiServerProcess } from './lib/apiserver-process.ts';
import { machineInfo } from './lib/machine.ts';
import { Processes } from './lib/processes.ts';
import { summary } from './lib/stats.ts';
import { fixed, markdownTable } from './lib/table.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    clients: { type: 'string', default: '16' },
  },
});
const REQUESTS = Number(values.requests);
const CLIENTS = Number(values.clients);
const TOKEN = 'bench-token';

const DOCUMENTS: Array<{ label: string; path: string; accept: string }> = [
  { label: '/apis (aggregated discovery v2)', path: '/apis', accept: AGGREGATED_DISCOVERY_V2 },
  { label: '/apis (legacy APIGroupList)', path: '/apis', accept: 'application/json' },
  { label: '/apis/gatehouse.dev/v1alpha1', path: '/apis/gatehouse.dev/v1alpha1', accept: 'application/json' },
  { label: '/openapi/v2 (JSON)', path: '/openapi/v2', accept: 'application/json' },
  {
    label: '/openapi/v2 (protobuf)',
    path: '/openapi/v2',
    accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf',
  },
  { label: '/openapi/v3', path: '/openapi/v3', accept: 'application/json' },
  {
    label: '/openapi/v3/apis/gatehouse.dev/v1alpha1',
    path: '/openapi/v3/apis/gatehouse.dev/v1alpha1',
    accept: 'application/json',
  },
];

async function timed(pool: Pool, path: string, accept: string): Promise<number> {
  const t0 = performance.now();
  const res = await pool.request({ method: 'GET', path, headers: { authorization: `Bearer ${TOKEN}`, accept } });
  await res.body.dump();
  if (res.statusCode !== 200) throw new Error(`GET ${path}: HTTP ${res.statusCode}`);
  return performance.now() - t0;
}

const processes = new Processes();
try {
  const dir = await processes.tempDir('gatehouse-bench-discovery-');
  const { url, ca } = await startApiServerProcess(processes, { storage: 'memory', dir, token: TOKEN });
  const pool = new Pool(url, { connections: CLIENTS, connect: { ca } });
  // One connection is made before timing, so the first request measures the answer, not the TLS handshake.
  await timed(pool, '/version', 'application/json');
  const rows: Array<Array<string | number>> = [];
  for (const { label, path, accept } of DOCUMENTS) {
    const first = await timed(pool, path, accept);
    const samples: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (next++ < REQUESTS) samples.push(await timed(pool, path, accept));
      }),
    );
    const s = summary(samples);
    rows.push([label, fixed(first), fixed(s.p50), fixed(s.p99), fixed(s.max)]);
  }
  await pool.close();
  const machine = machineInfo();
  process.stdout.write(
    `${machine.nproc} × ${machine.cpuModel}, Node ${machine.node}, load ${machine.loadAverageAtStart.join(' ')}; ` +
      `${REQUESTS} requests per document from ${CLIENTS} clients, milliseconds\n\n`,
  );
  process.stdout.write(`${markdownTable(['document', 'first', 'p50', 'p99', 'max'], rows)}\n`);
} finally {
  await processes.stopAll();
}
