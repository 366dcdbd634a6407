// Namespace deletion with two API server replicas on one PostgreSQL: N ConfigMaps are created in a
// namespace through replica A, the namespace is deleted through replica B, and the time until it is
// gone (404 on A) is measured, with each replica's peak RSS and CPU seconds over the deletion. Only the
// replica holding the garbage collector's Lease empties the namespace.
// Usage: npx tsx bench/namespace-deletion.ts [-- --count 10000 --clients 16]
// Bounded: N creates, one delete, and a poll every 100 ms for at most 5 minutes; everything on 127.0.0.1.
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { startPostgres } from '../test/support/postgres.ts';
import { startApiServerProcess } from './lib/apiserver-process.ts';
import { machineInfo } from './lib/machine.ts';
import { cpuSeconds, peakRssBytes } from './lib/proc.ts';
import { withProcesses } from './lib/processes.ts';

const { values } = parseArgs({
  options: { count: { type: 'string', default: '10000' }, clients: { type: 'string', default: '16' } },
});
const COUNT = Number(values.count);
const CLIENTS = Number(values.clients);
const TOKEN = 'bench-token';
const NAMESPACE = 'doomed';
const GONE_WITHIN_MS = 300_000;

const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

async function send(pool: Pool, method: string, path: string, body?: unknown): Promise<number> {
  const res = await pool.request({
    method,
    path,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await res.body.text();
  return res.statusCode;
}

await withProcesses(async (processes) => {
  const pg = await startPostgres();
  try {
    const storage = await pg.newDatabase();
    const [a, b] = await Promise.all(
      ['a', 'b'].map(async (name) =>
        startApiServerProcess(processes, { storage, dir: await processes.tempDir(`ns-bench-${name}-`), token: TOKEN }),
      ),
    );
    const pool = (url: string, ca: string) => new Pool(url, { connections: CLIENTS + 2, connect: { ca } });
    const [poolA, poolB] = [pool(a.url, a.ca), pool(b.url, b.ca)];
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } };
    if ((await send(poolA, 'POST', '/api/v1/namespaces', ns)) !== 201) throw new Error('namespace not created');
    const createdAt = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        for (let i = next++; i < COUNT; i = next++) {
          const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` }, data: { i: String(i) } };
          const status = await send(poolA, 'POST', `/api/v1/namespaces/${NAMESPACE}/configmaps`, cm);
          if (status !== 201) throw new Error(`create cm-${i}: ${status}`);
        }
      }),
    );
    const createSeconds = (Date.now() - createdAt) / 1000;
    const cpuBefore = [a, b].map((s) => cpuSeconds(s.child.pid));
    const deletedAt = Date.now();
    const deleted = await send(poolB, 'DELETE', `/api/v1/namespaces/${NAMESPACE}`);
    if (deleted !== 200 && deleted !== 202) throw new Error(`namespace delete answered ${deleted}`);
    for (;;) {
      if ((await send(poolA, 'GET', `/api/v1/namespaces/${NAMESPACE}`)) === 404) break;
      if (Date.now() - deletedAt > GONE_WITHIN_MS) throw new Error(`namespace still there after ${GONE_WITHIN_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const deleteSeconds = (Date.now() - deletedAt) / 1000;
    const mib = (bytes: number) => Math.round(bytes / 1048576);
    const report = {
      machine: machineInfo(),
      objects: COUNT,
      createSeconds,
      deleteSeconds,
      replicas: [a, b].map((s, i) => ({
        peakRssMiB: mib(peakRssBytes(s.child.pid)),
        cpuSecondsDuringDeletion: Math.round((cpuSeconds(s.child.pid) - cpuBefore[i]) * 10) / 10,
      })),
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    await Promise.all([poolA.close(), poolB.close()]);
  } finally {
    await pg.stop();
  }
});
