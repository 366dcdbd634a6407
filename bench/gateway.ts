// Gateway benchmark: the Gatehouse gateway beside its peers, in one run on one machine, with
// the same upstream and the same load generator (wrk; autocannon when wrk cannot be had) at
// a fixed number of connections. Subjects:
//   direct to the upstream · nginx (reverse proxy, one worker) · @fastify/http-proxy ·
//   Gatehouse keyless · Gatehouse with an API key, an API rate limit and a consumer rate
//   limit and quota (none ever reached) · Gatehouse keyless with 10,000 APIs loaded ·
//   Gatehouse keyless with its access log on.
// Every proxy is one process pinned to core 0; the upstream, the load generator and the API
// server are pinned to core 1. Gatehouse runs as the real CLI
// (`gatehouse gateway`, NODE_ENV=production) watching a `gatehouse apiserver` (memory storage).
// Subjects are interleaved for R rounds, the order rotating each round; a subject's turn is
// C connections for D seconds, then one connection for L seconds (latency of a proxy that
// is not saturated). Reported per subject: medians over rounds of requests/s, p50/p99
// latency and the proxy's CPU µs per request (utime + stime from /proc, over the process
// tree). Then change-to-live latency: N merge patches of an ApiDefinition's
// responseHeaders, each timed from the API server's answer to the first gateway response
// that carries the new value (the gateway is polled back to back from this process), on
// the gateway serving 10 APIs and on the one serving 10,000.
// Usage: npm run bench:gateway [-- --duration 8 --light-duration 2 --connections 32
//   --rounds 5 --warmup 5 --apis 10000 --changes 100 --load-generator auto|wrk|autocannon
//   --out FILE --cpu-prof DIR --subjects direct,nginx,fastify,gatehouse,gatehouse-apikey,gatehouse-large,gatehouse-access-log]
// --cpu-prof DIR runs the Gatehouse gateways under `node --cpu-prof` (which slows them) and
// prints where their time went; bench/cpu-profile.ts reads such a profile again.
// Smoke run (about a minute): npm run bench:gateway -- --duration 2 --light-duration 1 --rounds 1 --warmup 1 --apis 500 --changes 20
// Bounded: every load run has a fixed duration, everything runs on 127.0.0.1, and every
// process and temporary directory the run creates is removed at the end, also on Ctrl-C.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, statSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Pool, request } from 'undici';
import { apiDefinitionKind } from '../src/api/kinds/api-definition/index.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { KubeClient } from '../src/client/rest.ts';
import { startApiServerProcess } from './lib/apiserver-process.ts';
import { addKeyedApi, createCatalogue, KEYED, KEYLESS } from './lib/catalogue.ts';
import { benchPackageVersion, commandVersion, ensureBenchModules, ensureCommand, findCommand } from './lib/install.ts';
import { autocannon, wrk, type LoadGenerator, type LoadResult } from './lib/load.ts';
import { startNginx } from './lib/nginx.ts';
import { formatProfile, summariseProfile } from './lib/cpu-profile.ts';
import { loadAverage, machineInfo } from './lib/machine.ts';
import { coreBusySeconds, cpuSeconds, peakRssBytes } from './lib/proc.ts';
import { waitForOutput, withProcesses, type Child, type Processes } from './lib/processes.ts';
import { freePort, pollUntil } from './lib/ready.ts';
import { BENCH_DIR, gatehouseArgv, REPO_ROOT } from './lib/repo.ts';
import { say } from './lib/say.ts';
import { median, round, summary } from './lib/stats.ts';
import { fixed, markdownTable, thousands } from './lib/table.ts';
import { type Bar, verdict, verdictWord } from './lib/verdict.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '8' },
    'light-duration': { type: 'string', default: '2' },
    connections: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '5' },
    apis: { type: 'string', default: '10000' },
    changes: { type: 'string', default: '100' },
    'load-generator': { type: 'string', default: 'auto' },
    out: { type: 'string' },
    'cpu-prof': { type: 'string' },
    subjects: { type: 'string' },
  },
});
const settings = {
  durationSeconds: positive('duration'),
  lightDurationSeconds: Number(values['light-duration']),
  connections: positive('connections'),
  rounds: positive('rounds'),
  warmupSeconds: Number(values.warmup),
  apis: positive('apis'),
  changes: Number(values.changes),
  loadGenerator: values['load-generator'],
};
if (!['auto', 'wrk', 'autocannon'].includes(settings.loadGenerator))
  throw new Error('--load-generator is auto, wrk or autocannon');

/** APIs of the small catalogue: KEYLESS, KEYED and fillers. */
const SMALL = 10;
const NS_SMALL = 'bench-small';
const NS_LARGE = 'bench-large';
/** Path below each proxy's prefix; the upstream answers any path the same way. */
const PATH = '/items/42';
const CHANGE_HEADER = 'x-bench-change';
/** Pause after each observed change, so changes are separate events rather than a burst. */
const CHANGE_GAP_MS = 20;
/** Changes made and timed before the measured ones, reported apart: the first edits after a
 * gateway starts run code not yet optimised and meet caches not yet filled. */
const CHANGE_WARMUP = 10;
const CHANGE_TIMEOUT_MS = 10_000;
const CHANGE_P99_BAR: Bar = { direction: 'atMost', bar: 50, digits: 1 };
const READY_TIMEOUT_MS = 180_000;
const PRODUCTION = { ...process.env, NODE_ENV: 'production' };
const PROXY_CORE = 0;
const OTHER_CORE = 1;

interface Subject {
  id: string;
  label: string;
  url: string;
  headers?: Record<string, string>;
  /** The proxy process whose CPU time is measured (none when going direct). */
  proxy?: Child;
}

interface Sample extends LoadResult {
  cpuUsPerRequest: number;
  /** Share of the proxy core that other processes used during the run (0–1): the noise. */
  othersOnProxyCore: number;
}

interface Gatehouse {
  child: Child;
  url: string;
  internalUrl: string;
}

function positive(name: keyof typeof values): number {
  const n = Number(values[name]);
  if (!(n > 0)) throw new Error(`--${name} must be a positive number`);
  return n;
}

async function expectOk(url: string, headers?: Record<string, string>): Promise<void> {
  const res = await request(url, { headers });
  await res.body.dump();
  if (res.statusCode !== 200) throw new Error(`GET ${url}: HTTP ${res.statusCode}`);
}

/** Starts a peer script that prints {"url": …} when listening. */
async function startPeer(processes: Processes, name: string, argv: string[]): Promise<{ child: Child; url: string }> {
  const child = processes.start(name, argv, { cwd: REPO_ROOT, env: PRODUCTION });
  const [line] = await waitForOutput(child, /^\{"url":.*\}$/m);
  return { child, url: (JSON.parse(line) as { url: string }).url };
}

await withProcesses(async (processes) => {
  const date = new Date().toISOString();
  const host = machineInfo();
  say(
    `${date}: node ${host.node}, nproc ${host.nproc}, ${host.cpuModel}, load average ${host.loadAverageAtStart.join(' ')}`,
  );
  const pinned = host.nproc >= 2 && findCommand('taskset') !== undefined;
  if (!pinned)
    say('taskset or a second core is missing: nothing is pinned, CPU per request is still measured per process');
  const proxyCore = pinned ? ['taskset', '-c', String(PROXY_CORE)] : [];
  const otherCore = pinned ? ['taskset', '-c', String(OTHER_CORE)] : [];
  const dir = await processes.tempDir('gatehouse-bench-gateway-');

  // Peers and the load generator, installed when missing.
  const benchModules = await ensureBenchModules(processes, BENCH_DIR, '@fastify/http-proxy');
  const load = await loadGenerator(processes, dir, otherCore, benchModules);
  say(`load generator: ${load.version}`);
  const nginxBinary = await ensureCommand(processes, 'nginx', ['nginx-light', 'nginx']);

  // The upstream and the API server with both catalogues.
  const upstream = await startPeer(processes, 'upstream', [
    ...otherCore,
    process.execPath,
    '--import',
    'tsx',
    join(BENCH_DIR, 'peers', 'upstream.ts'),
  ]);
  const apiDir = join(dir, 'apiserver');
  await mkdir(apiDir);
  const apiserver = await startApiServerProcess(processes, {
    storage: 'memory',
    dir: apiDir,
    token: randomBytes(16).toString('hex'),
    prefix: otherCore,
  });
  const client = new KubeClient(await loadKubeconfig(apiserver.kubeconfigPath));
  let t0 = performance.now();
  await createCatalogue(client, NS_SMALL, SMALL - 1, upstream.url);
  const apiKey = await addKeyedApi(client, NS_SMALL, upstream.url);
  await createCatalogue(client, NS_LARGE, settings.apis, upstream.url);
  say(`created ${SMALL} + ${settings.apis} ApiDefinitions in ${Math.round(performance.now() - t0)} ms`);

  // The proxies, each pinned to the proxy core.
  const subjects: Subject[] = [{ id: 'direct', label: 'direct to the upstream', url: `${upstream.url}${PATH}` }];
  if (nginxBinary) {
    const port = await freePort();
    const nginxDir = join(dir, 'nginx');
    await mkdir(nginxDir);
    const nginx = await startNginx(processes, {
      binary: nginxBinary,
      dir: nginxDir,
      port,
      upstream: new URL(upstream.url).host,
      prefix: proxyCore,
    });
    const url = `http://127.0.0.1:${port}${PATH}`;
    await pollUntil(processes, nginx, () => expectOk(url), READY_TIMEOUT_MS);
    subjects.push({
      id: 'nginx',
      label: commandVersion([nginxBinary, '-v']).replace(/^nginx version: /, ''),
      url,
      proxy: nginx,
    });
  }
  if (benchModules) {
    const fastify = await startPeer(processes, 'fastify-http-proxy', [
      ...proxyCore,
      process.execPath,
      join(BENCH_DIR, 'peers', 'fastify-proxy.mjs'),
      upstream.url,
    ]);
    subjects.push({
      id: 'fastify',
      label: `@fastify/http-proxy ${benchPackageVersion(BENCH_DIR, '@fastify/http-proxy')} (fastify ${benchPackageVersion(BENCH_DIR, 'fastify')})`,
      url: `${fastify.url}${PATH}`,
      proxy: fastify.child,
    });
  }
  const help = await processes.run('gatehouse gateway --help', gatehouseArgv(['gateway', '--help']), {
    cwd: REPO_ROOT,
  });
  const profileDir = values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']);
  // Once the gateway can run several workers, the benchmark still measures one.
  const oneWorker = help.includes('--workers') ? ['--workers', '1'] : [];
  const startGatehouse = async (
    name: string,
    namespace: string,
    apis: number,
    accessLog?: string,
  ): Promise<Gatehouse> => {
    const [port, internalPort] = [await freePort(), await freePort()];
    const argv = gatehouseArgv(
      [
        'gateway',
        '--kubeconfig',
        apiserver.kubeconfigPath,
        '--port',
        String(port),
        '--internal-port',
        String(internalPort),
        '--namespace',
        namespace,
        '--data-dir',
        join(dir, name),
        ...oneWorker,
        // The access-logging subject logs every request (gateways that sample know --access-log).
        ...(accessLog && help.includes('--access-log') ? ['--access-log', 'all'] : []),
      ],
      profileDir ? ['--cpu-prof', '--cpu-prof-dir', join(profileDir, name)] : [],
    );
    // Logging every request happens at info level; warn keeps the log to warnings. The
    // access-logging gateway writes to a file, as a deployment's log collector would read.
    const logFd = accessLog ? openSync(accessLog, 'w') : undefined;
    const child = processes.start(name, [...proxyCore, ...argv], {
      cwd: REPO_ROOT,
      env: { ...PRODUCTION, GATEHOUSE_LOG_LEVEL: accessLog ? 'info' : 'warn' },
      stdout: logFd,
    });
    if (logFd !== undefined) closeSync(logFd);
    const gw = { child, url: `http://127.0.0.1:${port}`, internalUrl: `http://127.0.0.1:${internalPort}` };
    await pollUntil(
      processes,
      child,
      async () => {
        const res = await request(`${gw.internalUrl}/metrics`);
        const served = Number(/^gatehouse_gateway_apis (\d+)$/m.exec(await res.body.text())?.[1]);
        if (served !== apis) throw new Error(`gatehouse_gateway_apis is ${served}, expecting ${apis}`);
        await expectOk(`${gw.url}${KEYLESS.listenPath}${PATH}`);
      },
      READY_TIMEOUT_MS,
    );
    return gw;
  };
  t0 = performance.now();
  const small = await startGatehouse('gatehouse', NS_SMALL, SMALL);
  const large = await startGatehouse('gatehouse-large', NS_LARGE, settings.apis);
  say(`gateways serving ${SMALL} and ${settings.apis} APIs in ${Math.round(performance.now() - t0)} ms`);
  const accessLogFile = join(dir, 'access.log');
  const logging = await startGatehouse('gatehouse-access-log', NS_SMALL, SMALL, accessLogFile);
  await pollUntil(
    processes,
    small.child,
    () => expectOk(`${small.url}${KEYED.listenPath}${PATH}`, { [KEYED.header]: apiKey }),
    READY_TIMEOUT_MS,
  );
  subjects.push(
    {
      id: 'gatehouse',
      label: 'Gatehouse keyless',
      url: `${small.url}${KEYLESS.listenPath}${PATH}`,
      proxy: small.child,
    },
    {
      id: 'gatehouse-apikey',
      label: 'Gatehouse apiKey + API and consumer rate limits and quota',
      url: `${small.url}${KEYED.listenPath}${PATH}`,
      headers: { [KEYED.header]: apiKey },
      proxy: small.child,
    },
    {
      id: 'gatehouse-large',
      label: `Gatehouse keyless, ${thousands(settings.apis)} APIs loaded`,
      url: `${large.url}${KEYLESS.listenPath}${PATH}`,
      proxy: large.child,
    },
    {
      id: 'gatehouse-access-log',
      label: 'Gatehouse keyless, access log on (info level, to a file)',
      url: `${logging.url}${KEYLESS.listenPath}${PATH}`,
      proxy: logging.child,
    },
  );

  if (values.subjects) {
    const wanted = new Set(values.subjects.split(','));
    const unknown = [...wanted].filter((id) => !subjects.some((s) => s.id === id));
    if (unknown.length)
      throw new Error(
        `--subjects: no subject ${unknown.join(', ')} (there are ${subjects.map((s) => s.id).join(', ')})`,
      );
    subjects.splice(0, subjects.length, ...subjects.filter((s) => wanted.has(s.id)));
  }

  // Load: a warm-up turn each (JIT, connection pools), then interleaved rounds.
  const measure = async (s: Subject, connections: number, seconds: number): Promise<Sample> => {
    processes.assertAlive(...subjects.flatMap((x) => (x.proxy ? [x.proxy] : [])), upstream.child);
    const before = s.proxy ? cpuSeconds(s.proxy.pid) : NaN;
    const coreBefore = coreBusySeconds(PROXY_CORE);
    const result = await load.run({ url: s.url, connections, seconds, headers: s.headers });
    const cpu = s.proxy ? cpuSeconds(s.proxy.pid) - before : 0;
    const others = pinned ? Math.max(0, coreBusySeconds(PROXY_CORE) - coreBefore - cpu) / result.seconds : NaN;
    if (result.badStatus || result.socketErrors)
      say(`${s.id}: ${result.badStatus} answers not 2xx/3xx, ${result.socketErrors} socket errors`);
    return { ...result, cpuUsPerRequest: s.proxy ? (cpu * 1e6) / result.requests : NaN, othersOnProxyCore: others };
  };
  if (settings.warmupSeconds > 0)
    for (const s of subjects) await measure(s, settings.connections, settings.warmupSeconds);
  const loaded = new Map<string, Sample[]>(subjects.map((s) => [s.id, []]));
  const light = new Map<string, Sample[]>(subjects.map((s) => [s.id, []]));
  for (let r = 0; r < settings.rounds; r++) {
    const order = [...subjects.slice(r % subjects.length), ...subjects.slice(0, r % subjects.length)];
    for (const s of order) {
      loaded.get(s.id)!.push(await measure(s, settings.connections, settings.durationSeconds));
      if (settings.lightDurationSeconds > 0) light.get(s.id)!.push(await measure(s, 1, settings.lightDurationSeconds));
    }
    say(
      `round ${r + 1}/${settings.rounds}: ${subjects.map((s) => `${s.id} ${thousands(loaded.get(s.id)!.at(-1)!.requestsPerSecond)}/s ${fixed(loaded.get(s.id)!.at(-1)!.cpuUsPerRequest)} µs`).join(', ')}`,
    );
  }
  const accessLogBytes = statSync(accessLogFile).size;
  const rss = new Map(subjects.map((s) => [s.id, s.proxy ? peakRssBytes(s.proxy.pid) : NaN]));

  // Change-to-live, with the access-logging gateway (same namespace as `small`) stopped so
  // that only the measured gateway recompiles on core 0.
  await processes.stop(logging.child);
  const changes =
    settings.changes > 0
      ? {
          [`${SMALL} APIs`]: await changeToLive(client, apiserver, NS_SMALL, small, settings.changes),
          [`${thousands(settings.apis)} APIs`]: await changeToLive(
            client,
            apiserver,
            NS_LARGE,
            large,
            settings.changes,
          ),
        }
      : {};
  await client.close();

  // Report.
  const results = subjects.map((s) => {
    const runs = loaded.get(s.id)!;
    const lightRuns = light.get(s.id)!;
    const pick = (list: Sample[], f: (x: Sample) => number) => list.map(f);
    return {
      id: s.id,
      label: s.label,
      requestsPerSecond: round(median(pick(runs, (x) => x.requestsPerSecond)), 0),
      requestsPerSecondRange: [
        round(Math.min(...pick(runs, (x) => x.requestsPerSecond)), 0),
        round(Math.max(...pick(runs, (x) => x.requestsPerSecond)), 0),
      ],
      p50Ms: round(median(pick(runs, (x) => x.p50Ms)), 3),
      p99Ms: round(median(pick(runs, (x) => x.p99Ms)), 3),
      cpuUsPerRequest: round(median(pick(runs, (x) => x.cpuUsPerRequest)), 1),
      cpuUsPerRequestRange: [
        round(Math.min(...pick(runs, (x) => x.cpuUsPerRequest)), 1),
        round(Math.max(...pick(runs, (x) => x.cpuUsPerRequest)), 1),
      ],
      lightP50Ms: round(median(pick(lightRuns, (x) => x.p50Ms)), 3),
      lightP99Ms: round(median(pick(lightRuns, (x) => x.p99Ms)), 3),
      peakRssMiB: round(rss.get(s.id)! / 2 ** 20, 1),
      othersOnProxyCorePercent: round(median(pick(runs, (x) => x.othersOnProxyCore)) * 100, 0),
      failures: runs.concat(lightRuns).reduce((n, x) => n + x.badStatus + x.socketErrors, 0),
      rounds: runs,
      lightRounds: lightRuns,
    };
  });
  const byId = new Map(results.map((r) => [r.id, r]));
  const ratios = [
    { name: 'Gatehouse keyless / @fastify/http-proxy', a: 'gatehouse', b: 'fastify', target: 1.3 },
    { name: 'Gatehouse keyless / nginx', a: 'gatehouse', b: 'nginx', target: 0.5 },
    { name: 'Gatehouse apiKey + rate limits / keyless', a: 'gatehouse-apikey', b: 'gatehouse', target: 0.8 },
    // "Within 10%": the large catalogue may cost at most 1.1× the small one per request.
    {
      name: `Gatehouse ${thousands(settings.apis)} APIs / ${SMALL} APIs`,
      a: 'gatehouse-large',
      b: 'gatehouse',
      target: 1 / 1.1,
    },
    { name: 'Gatehouse access log on / off', a: 'gatehouse-access-log', b: 'gatehouse', target: undefined },
  ].flatMap(({ name, a, b, target }) => {
    const ra = byId.get(a);
    const rb = byId.get(b);
    if (!ra || !rb) return [];
    // Per CPU: how many requests A serves per proxy-core-second relative to B (the headline
    // on a shared 2-core machine); per wall clock: requests/s of A relative to B.
    const perCpu = rb.cpuUsPerRequest / ra.cpuUsPerRequest;
    const perSecond = ra.requestsPerSecond / rb.requestsPerSecond;
    const judged = target === undefined ? undefined : verdict(perCpu, { direction: 'atLeast', bar: target, digits: 2 });
    return [
      {
        name,
        perCpu: round(perCpu),
        perSecond: round(perSecond),
        // A cheaper proxy that answers later is not better: the loaded p99 of both sides goes with each ratio.
        p99Ms: { a: ra.p99Ms, b: rb.p99Ms },
        target: target === undefined ? undefined : round(target),
        met: judged?.met,
      },
    ];
  });

  const report = {
    benchmark: 'gateway',
    date,
    command: `npm run bench:gateway -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { ...host, loadAverageAtEnd: loadAverage() },
    setup: {
      ...settings,
      loadGenerator: load.version,
      pinned: pinned
        ? 'proxies on core 0 (taskset -c 0); upstream, load generator and API server on core 1'
        : 'not pinned',
      gatewayLogLevel: 'warn (the access-log subject: info, to a file)',
      accessLogBytes,
      upstream: 'node:http, 66-byte JSON body, keep-alive',
    },
    subjects: results,
    ratios,
    changeToLiveMs: changes,
  };
  const out = values.out ?? join(BENCH_DIR, 'results', `gateway-${date.replace(/[:.]/g, '-')}.json`);
  await mkdir(join(out, '..'), { recursive: true });
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);

  const print = (s: string) => process.stdout.write(`${s}\n`);
  print(
    `\nGateway benchmark, ${date}: node ${host.node}, nproc ${host.nproc}, ${host.cpuModel}; ${report.setup.pinned}`,
  );
  print(
    `${load.version}, ${settings.connections} connections × ${settings.durationSeconds} s and 1 connection × ${settings.lightDurationSeconds} s per subject and round, ${settings.rounds} rounds; medians (range)`,
  );
  print(
    `load average at start ${host.loadAverageAtStart.join(' ')}, at end ${report.machine.loadAverageAtEnd.join(' ')}\n`,
  );
  print(
    markdownTable(
      [
        'subject',
        'requests/s',
        'p50 ms',
        'p99 ms',
        'proxy CPU µs/request',
        '1-conn p50 ms',
        '1-conn p99 ms',
        'peak RSS MiB',
        'others on core 0',
        'failed',
      ],
      results.map((r) => [
        r.label,
        `${thousands(r.requestsPerSecond)} (${thousands(r.requestsPerSecondRange[0])}–${thousands(r.requestsPerSecondRange[1])})`,
        fixed(r.p50Ms, 2),
        fixed(r.p99Ms, 2),
        r.id === 'direct'
          ? '—'
          : `${fixed(r.cpuUsPerRequest)} (${fixed(r.cpuUsPerRequestRange[0])}–${fixed(r.cpuUsPerRequestRange[1])})`,
        fixed(r.lightP50Ms, 3),
        fixed(r.lightP99Ms, 3),
        fixed(r.peakRssMiB),
        Number.isFinite(r.othersOnProxyCorePercent) ? `${r.othersOnProxyCorePercent}%` : '—',
        r.failures,
      ]),
    ),
  );
  print('');
  print(
    markdownTable(
      ['ratio', 'per proxy CPU (headline)', 'per requests/s', 'p99 ms, first / second', 'target', ''],
      ratios.map((r) => [
        r.name,
        fixed(r.perCpu, 2),
        fixed(r.perSecond, 2),
        `${fixed(r.p99Ms.a, 2)} / ${fixed(r.p99Ms.b, 2)}`,
        r.target === undefined ? '—' : `≥ ${fixed(r.target, 2)}`,
        r.met === undefined ? '' : verdictWord(r.met),
      ]),
    ),
  );
  if (Object.keys(changes).length) {
    print('');
    print(
      markdownTable(
        ['change-to-live', 'p50 ms', 'p99 ms', 'max ms', 'changes seen', 'warm-up max ms', 'target'],
        Object.entries(changes).map(([name, c]) => {
          const p99 = verdict(c.p99, CHANGE_P99_BAR);
          return [
            name,
            fixed(c.p50, 1),
            p99.printed,
            fixed(c.max, 1),
            `${c.n}/${settings.changes}`,
            fixed(c.warmupMaxMs, 1),
            `p99 ${p99.barPrinted} ms: ${verdictWord(p99.met && c.n === settings.changes)}`,
          ];
        }),
      ),
    );
  }
  print(`\nJSON: ${out}`);

  if (profileDir) {
    // A profile is written when the process exits: stop the gateways first.
    for (const gw of [small, large]) await processes.stop(gw.child);
    for (const name of ['gatehouse', 'gatehouse-large', 'gatehouse-access-log']) {
      // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread (the
      // others are tsx's module loader).
      for (const file of (await readdir(join(profileDir, name)).catch(() => [])).filter((f) =>
        /\.\d+\.0\.\d+\.cpuprofile$/.test(f),
      )) {
        print(
          `\nCPU profile of ${name}'s main thread (whole run: start, load, changes): ${join(profileDir, name, file)}\n`,
        );
        print(formatProfile(await summariseProfile(join(profileDir, name, file), /\/src\//)));
      }
    }
  }
});

async function loadGenerator(
  processes: Processes,
  dir: string,
  prefix: string[],
  benchModules: boolean,
): Promise<LoadGenerator> {
  if (settings.loadGenerator !== 'autocannon') {
    const binary = await ensureCommand(processes, 'wrk', ['wrk']);
    if (binary) return wrk(processes, binary, dir, prefix);
    if (settings.loadGenerator === 'wrk') throw new Error('--load-generator wrk, and wrk cannot be installed');
    say('wrk cannot be had: using autocannon (a Node load generator; it needs more of core 1 than wrk)');
  }
  if (!benchModules)
    throw new Error(
      'no load generator: wrk cannot be installed and bench/node_modules could not be installed for autocannon',
    );
  return autocannon(
    processes,
    join(BENCH_DIR, 'node_modules', 'autocannon', 'autocannon.js'),
    benchPackageVersion(BENCH_DIR, 'autocannon'),
    prefix,
  );
}

/** Patches KEYLESS's responseHeaders `count` times and times each change from the API
 * server's answer to the first gateway response carrying it. */
async function changeToLive(
  client: KubeClient,
  apiserver: { url: string; ca: string; token: string },
  namespace: string,
  gateway: Gatehouse,
  count: number,
) {
  const api = new Pool(apiserver.url, { connections: 1, connect: { ca: apiserver.ca } });
  const gw = new Pool(gateway.url, { connections: 1 });
  const path = client.path(apiDefinitionKind, namespace, KEYLESS.name);
  const samples: number[] = [];
  const warmup: number[] = [];
  try {
    for (let i = -CHANGE_WARMUP; i < count; i++) {
      const value = `${i}-${randomBytes(4).toString('hex')}`;
      const res = await api.request({
        method: 'PATCH',
        path,
        headers: { authorization: `Bearer ${apiserver.token}`, 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify({ spec: { responseHeaders: { set: { [CHANGE_HEADER]: value } } } }),
      });
      const answered = performance.now();
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`PATCH ${path}: HTTP ${res.statusCode}`);
      for (;;) {
        const probe = await gw.request({ method: 'GET', path: `${KEYLESS.listenPath}${PATH}` });
        await probe.body.dump();
        const at = performance.now();
        if (probe.headers[CHANGE_HEADER] === value) {
          (i < 0 ? warmup : samples).push(at - answered);
          break;
        }
        if (at - answered > CHANGE_TIMEOUT_MS) {
          say(`${namespace}: change ${i} not live after ${CHANGE_TIMEOUT_MS} ms`);
          break;
        }
      }
      await sleep(CHANGE_GAP_MS);
    }
  } finally {
    await Promise.all([api.close(), gw.close()]);
  }
  const s = summary(samples);
  const worst = samples
    .map((ms, i) => [ms, i])
    .sort((a, b) => b[0] - a[0])
    .slice(0, 5)
    .map(([ms, i]) => `${ms.toFixed(1)} ms (#${i + 1})`);
  say(
    `change-to-live in ${namespace}: p50 ${s.p50} ms, p99 ${s.p99} ms over ${s.n} changes; slowest: ${worst.join(', ')}; the ${CHANGE_WARMUP} warm-up changes before them: ${warmup.map((ms) => ms.toFixed(1)).join(', ')} ms`,
  );
  return { ...s, warmupMaxMs: Math.max(...warmup) };
}
