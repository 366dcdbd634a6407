// API server benchmark: for each storage driver (memory, PGlite on disk, PostgreSQL), a
// Gatehouse API server runs as its own process; this script is the client.
//   1. creates N ApiDefinitions over HTTPS with C concurrent clients (latency per create),
//   2. lists them whole and in pages of 500 (time per full list),
//   3. measures write-to-watch-event latency: W watchers, U updates; latency is from the
//      moment the update request is sent to the moment each watcher receives the event;
//   4. changes one field of each of the first N objects three ways, one request at a time: a JSON merge
//      patch, a server-side apply of the whole object (fieldManager=bench, force=true, as Flux) and a PUT of
//      it (latency of each, in a rotating order). `--apply false` leaves the apply out (a server without it).
// Usage: npm run bench:apiserver [-- --count 10000 --clients 16 --watchers 100 --updates 200 --writes 1000
//   --storage memory,pglite,postgres --out FILE]
// Output: markdown tables on stdout (each target judged on the figure as printed), JSON in bench/results/ or FILE.
//   --groups gatehouse:admins makes the client's user one RBAC authorizes (bindings, rules) instead of a
//   system:masters member, which the authorizer lets through first: the two runs compare RBAC's cost.
// Bounded: every phase has a fixed number of requests; everything runs on 127.0.0.1.
import { mkdir, writeFile } from 'node:fs/promises';
import { constants, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, Pool, request } from 'undici';
import { startPostgres } from '../test/support/postgres.ts';
import { startApiServerProcess } from './lib/apiserver-process.ts';
import { Processes } from './lib/processes.ts';
import { BENCH_DIR } from './lib/repo.ts';
import { say } from './lib/say.ts';
import { summary } from './lib/stats.ts';
import { fixed, markdownTable, thousands } from './lib/table.ts';
import { verdict, verdictWord } from './lib/verdict.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '10000' },
    clients: { type: 'string', default: '16' },
    watchers: { type: 'string', default: '100' },
    updates: { type: 'string', default: '200' },
    storage: { type: 'string', default: 'memory,pglite,postgres' },
    lists: { type: 'string', default: '5' },
    groups: { type: 'string', default: 'system:masters' },
    writes: { type: 'string', default: '1000' },
    apply: { type: 'string', default: 'true' },
    out: { type: 'string' },
  },
});
const WRITES = Number(values.writes);
const APPLY = 'application/apply-patch+yaml';
type Write = 'merge' | 'apply' | 'update';
const COUNT = Number(values.count);
const CLIENTS = Number(values.clients);
const WATCHERS = Number(values.watchers);
const UPDATES = Number(values.updates);
const LISTS = Number(values.lists);
const TOKEN = 'bench-token';
const NS_PATH = '/apis/gatehouse.dev/v1alpha1/namespaces/default/apidefinitions';

function object(i: number, listenPath = `/svc/${i}/`) {
  return {
    apiVersion: 'gatehouse.dev/v1alpha1',
    kind: 'ApiDefinition',
    metadata: { name: `api-${i}`, labels: { team: `t${i % 10}` } },
    spec: {
      listenPath,
      upstream: { targets: [{ url: `http://127.0.0.1:${10000 + (i % 1000)}` }] },
      rateLimit: { requests: 100, per: '1s' },
    },
  };
}

function body(i: number): string {
  return JSON.stringify(object(i));
}

type Summary = ReturnType<typeof summary>;
interface Result {
  storage: string;
  objects: number;
  createsPerSecond: number;
  createMs: Summary;
  listAllMs: Summary;
  listPaged500Ms: Summary;
  watchEventMs: Summary & { expected: number };
  mergePatchMs: Summary;
  updateMs: Summary;
  applyMs?: Summary;
}

// What a signal must undo: bench:report ends a benchmark past its budget with SIGTERM, and the
// API server's process and directory and PostgreSQL's server and data directory must not outlive it.
const stops = new Set<() => Promise<void>>();
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.once(signal, () => {
    say(`${signal}: stopping the API server and PostgreSQL`);
    void Promise.allSettled([...stops].map((stop) => stop())).finally(() =>
      process.exit(128 + constants.signals[signal]),
    );
  });

async function bench(storage: string, label: string): Promise<Result> {
  const processes = new Processes();
  const stop = () => processes.stopAll();
  stops.add(stop);
  const dir = await processes.tempDir('gatehouse-bench-');
  const serverOptions = { storage, dir, token: TOKEN, groups: values.groups, stderr: 'inherit' as const };
  const { url, ca } = await startApiServerProcess(processes, serverOptions).catch(async (err: unknown) => {
    await processes.stopAll();
    throw err;
  });
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const pool = new Pool(url, { connections: CLIENTS + 4, connect: { ca }, pipelining: 1 });
  try {
    // 1. creates
    const createLatencies: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        for (let i = next++; i < COUNT; i = next++) {
          const t0 = performance.now();
          const res = await pool.request({ method: 'POST', path: NS_PATH, headers, body: body(i) });
          await res.body.dump();
          if (res.statusCode !== 201) throw new Error(`create api-${i}: HTTP ${res.statusCode}`);
          createLatencies.push(performance.now() - t0);
        }
      }),
    );
    const createSeconds = (performance.now() - started) / 1000;

    // 2. lists
    const fullLists: number[] = [];
    const pagedLists: number[] = [];
    for (let round = 0; round < LISTS; round++) {
      let t0 = performance.now();
      const res = await pool.request({ method: 'GET', path: NS_PATH, headers });
      const list = (await res.body.json()) as { items: unknown[] };
      if (list.items.length !== COUNT) throw new Error(`list returned ${list.items.length} items, expected ${COUNT}`);
      fullLists.push(performance.now() - t0);
      t0 = performance.now();
      let token = '';
      let seen = 0;
      do {
        const r = await pool.request({
          method: 'GET',
          path: `${NS_PATH}?limit=500${token ? `&continue=${encodeURIComponent(token)}` : ''}`,
          headers,
        });
        const page = (await r.body.json()) as { items: unknown[]; metadata: { continue?: string } };
        seen += page.items.length;
        token = page.metadata.continue ?? '';
      } while (token);
      if (seen !== COUNT) throw new Error(`paged list returned ${seen} items, expected ${COUNT}`);
      pagedLists.push(performance.now() - t0);
    }

    // 3. write-to-watch-event latency
    const rvRes = await pool.request({ method: 'GET', path: `${NS_PATH}?limit=1`, headers });
    const rv = ((await rvRes.body.json()) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    const sentAt = new Map<string, number>();
    const eventLatencies: number[] = [];
    const watchAgent = new Agent({ connect: { ca }, connections: WATCHERS + 1 });
    const controllers: AbortController[] = [];
    let received = 0;
    const allReceived = new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (received >= WATCHERS * UPDATES) {
          clearInterval(check);
          resolve();
        }
      }, 20);
      setTimeout(() => {
        clearInterval(check);
        resolve();
      }, 60_000).unref();
    });
    await Promise.all(
      Array.from({ length: WATCHERS }, async () => {
        const ac = new AbortController();
        controllers.push(ac);
        const res = await request(`${url}${NS_PATH}?watch=true&resourceVersion=${rv}&labelSelector=bench%3Dwatch`, {
          headers,
          dispatcher: watchAgent,
          signal: ac.signal,
        });
        void (async () => {
          let buf = '';
          try {
            for await (const chunk of res.body) {
              const at = performance.now();
              buf += chunk.toString();
              let nl: number;
              while ((nl = buf.indexOf('\n')) >= 0) {
                const line = buf.slice(0, nl);
                buf = buf.slice(nl + 1);
                const event = JSON.parse(line) as { object: { metadata: { annotations?: Record<string, string> } } };
                const seq = event.object.metadata.annotations?.['bench/seq'];
                const t0 = seq === undefined ? undefined : sentAt.get(seq);
                if (t0 !== undefined) {
                  eventLatencies.push(at - t0);
                  received++;
                }
              }
            }
          } catch {
            // aborted at the end of the phase
          }
        })();
      }),
    );
    for (let u = 0; u < UPDATES; u++) {
      const seq = String(u);
      const patch = JSON.stringify({ metadata: { labels: { bench: 'watch' }, annotations: { 'bench/seq': seq } } });
      sentAt.set(seq, performance.now());
      const res = await pool.request({
        method: 'PATCH',
        path: `${NS_PATH}/api-${u % COUNT}`,
        headers: { ...headers, 'content-type': 'application/merge-patch+json' },
        body: patch,
      });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`patch: HTTP ${res.statusCode}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    await allReceived;
    for (const ac of controllers) ac.abort();
    await watchAgent.destroy();

    // 4. one field changed by a merge patch, a server-side apply and a PUT of the same object
    const writeLatencies: Record<Write, number[]> = { merge: [], apply: [], update: [] };
    const timed = async (kind: Write, method: 'PATCH' | 'PUT', path: string, contentType: string, text: string) => {
      const t0 = performance.now();
      const res = await pool.request({
        method,
        path,
        headers: { ...headers, 'content-type': contentType },
        body: text,
      });
      const answer = await res.body.text();
      writeLatencies[kind].push(performance.now() - t0);
      if (res.statusCode !== 200) throw new Error(`${kind}: HTTP ${res.statusCode}: ${answer}`);
      return answer;
    };
    const kinds: Write[] = values.apply === 'true' ? ['merge', 'apply', 'update'] : ['merge', 'update'];
    for (let i = 0; i < Math.min(WRITES, COUNT); i++) {
      const path = `${NS_PATH}/api-${i}`;
      // The object as last answered: a PUT sends it back changed, as kubectl edit and typed clients do.
      let current = await (await pool.request({ method: 'GET', path, headers })).body.text();
      for (let k = 0; k < kinds.length; k++) {
        const kind = kinds[(i + k) % kinds.length];
        const listenPath = `/${kind}/${i}/`;
        if (kind === 'merge') {
          const patch = JSON.stringify({ spec: { listenPath } });
          current = await timed(kind, 'PATCH', path, 'application/merge-patch+json', patch);
        } else if (kind === 'apply') {
          const config = JSON.stringify(object(i, listenPath));
          current = await timed(kind, 'PATCH', `${path}?fieldManager=bench&force=true`, APPLY, config);
        } else {
          const read = JSON.parse(current);
          read.spec.listenPath = listenPath;
          current = await timed(kind, 'PUT', path, 'application/json', JSON.stringify(read));
        }
      }
    }

    const result = {
      storage: label,
      objects: COUNT,
      createsPerSecond: Math.round(COUNT / createSeconds),
      createMs: summary(createLatencies),
      listAllMs: summary(fullLists),
      listPaged500Ms: summary(pagedLists),
      watchEventMs: { ...summary(eventLatencies), expected: WATCHERS * UPDATES },
      mergePatchMs: summary(writeLatencies.merge),
      updateMs: summary(writeLatencies.update),
      ...(writeLatencies.apply.length ? { applyMs: summary(writeLatencies.apply) } : {}),
    };
    say(JSON.stringify(result));
    return result;
  } finally {
    stops.delete(stop);
    await pool.close();
    await processes.stopAll();
  }
}

const results: Result[] = [];
const date = new Date().toISOString();
// Progress as JSON lines on stderr; stdout holds only the report's tables.
say(
  JSON.stringify({
    date,
    node: process.version,
    nproc: cpus().length,
    count: COUNT,
    clients: CLIENTS,
    watchers: WATCHERS,
    updates: UPDATES,
    groups: values.groups,
    writes: WRITES,
  }),
);
for (const storage of values.storage.split(',')) {
  if (storage === 'postgres') {
    const pg = await startPostgres();
    const stopPg = () => pg.stop();
    stops.add(stopPg);
    try {
      results.push(await bench(pg.url, 'postgres'));
    } finally {
      stops.delete(stopPg);
      await pg.stop();
    }
  } else if (storage === 'pglite') {
    results.push(await bench('pglite', 'pglite'));
  } else {
    results.push(await bench(storage, storage));
  }
}
const out = values.out ?? join(BENCH_DIR, 'results', `apiserver-${date.replace(/[:.]/g, '-')}.json`);
await mkdir(dirname(out), { recursive: true });
await writeFile(out, `${JSON.stringify({ benchmark: 'apiserver', date, results }, null, 2)}\n`);

const ms = (n: number | undefined) => fixed(n ?? NaN, 1);
const print = (line: string) => process.stdout.write(`${line}\n`);
print(
  `API server benchmark, ${date}: node ${process.version}, nproc ${cpus().length}; ${thousands(COUNT)} objects, ` +
    `${CLIENTS} clients, ${WATCHERS} watchers × ${UPDATES} updates, ${WRITES} writes of each kind, ` +
    `as ${values.groups}\n`,
);
print(
  markdownTable(
    [
      'storage',
      'creates/s',
      'create p50 ms',
      'create p99 ms',
      `LIST ${thousands(COUNT)} whole p50 ms`,
      'LIST in pages of 500 p50 ms',
      'write→event p50 ms',
      'write→event p99 ms',
      'events',
      'merge patch p50 ms',
      'apply p50 ms',
      'PUT p50 ms',
    ],
    results.map((r) => [
      r.storage,
      thousands(r.createsPerSecond),
      ms(r.createMs.p50),
      ms(r.createMs.p99),
      ms(r.listAllMs.p50),
      ms(r.listPaged500Ms.p50),
      ms(r.watchEventMs.p50),
      ms(r.watchEventMs.p99),
      `${r.watchEventMs.n}/${r.watchEventMs.expected}`,
      ms(r.mergePatchMs.p50),
      ms(r.applyMs?.p50),
      ms(r.updateMs.p50),
    ]),
  ),
);
// The API server's targets, judged on each driver's figures as printed above; `complete`: what else must hold.
const targets: Array<{ name: string; figure: (r: Result) => number; bar: number; complete?: (r: Result) => boolean }> =
  [
    { name: `create p50 ≤ 5 ms (${CLIENTS} concurrent clients)`, figure: (r) => r.createMs.p50, bar: 5 },
    { name: `LIST of ${thousands(COUNT)} whole p50 ≤ 300 ms`, figure: (r) => r.listAllMs.p50, bar: 300 },
    {
      name: 'write→event p99 ≤ 50 ms, every event delivered',
      figure: (r) => r.watchEventMs.p99,
      bar: 50,
      complete: (r) => r.watchEventMs.n === r.watchEventMs.expected,
    },
  ];
print('');
print(
  markdownTable(
    ['target', ...results.map((r) => r.storage)],
    targets.map(({ name, figure, bar, complete }) => [
      name,
      ...results.map((r) => {
        const v = verdict(figure(r), { direction: 'atMost', bar, digits: 1 });
        return `${v.printed}: ${verdictWord(v.met && (complete?.(r) ?? true))}`;
      }),
    ]),
  ),
);
print(`\nJSON: ${out}`);
