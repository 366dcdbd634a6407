// GitOps benchmark: the real API server, controller and gateway, each as its own process
// (`gatehouse apiserver|controller|gateway`), fed from a Git repository served over HTTP on
// 127.0.0.1 (`git http-backend`, basic auth) by this process. Two questions:
//
// 1. Push-to-live. A Sync of 10 ApiDefinitions; each push commits a new value of one API's
//    response header in the served repository, then POSTs a signed GitHub push event to the
//    Receiver. Latency is from the commit being done to the first gateway answer carrying
//    the new value (the gateway is polled every 5 ms). Watch events time the stages in
//    between: the GitRepository's artifact names the revision, the ApiDefinition carries the
//    value (written by the Sync), the Sync's status records the revision (after its writes).
//    Pushes are spaced (PUSH_GAP_MS after each went live), far below the Receiver's 30 calls
//    per 10 s.
//    Then the same without the webhook: the GitRepository polls every --poll-interval, each
//    push made at a random point of the interval (Flux's way without a Receiver).
// 2. One Sync of N ApiDefinitions (files of --per-file YAML documents), from a fresh API
//    server and controller; no gateway runs (it is not what is measured, and would compete
//    for the 2 cores compiling N routes). The GitRepository is fetched first; then
//    (a) first apply: from creating the Sync to Ready=True with the revision applied and N
//        objects present, capped at --timeout seconds (reported as not finished, with the
//        objects created so far);
//    (b) no-op reconcile: once the controller is idle, the Sync's spec.interval is patched
//        (a new generation, same revision and objects: the reconcile reads, dry-runs and
//        compares every object and writes nothing but its status), timed from the PATCH to
//        status.observedGeneration reaching the new generation with Ready=True. The
//        `syncs/NAME/reconcile` subresource would time the same reconcile, but it is only
//        answered when the controller runs inside the API server's process (`gatehouse
//        up`), which would hide the controller's own RSS;
//    (c) the controller's peak RSS (VmHWM), and the CPU seconds each process used.
// Usage: npm run bench:gitops [-- --objects 10000 --pushes 50 --poll-pushes 5
//   --poll-interval 5s --per-file 100 --storage memory --timeout 300 --noop-rounds 3
//   --phases push,sync --cpu-prof DIR --out FILE]
// --objects takes a list (e.g. 1000,10000) for a scale curve: one fresh stack per size.
// --quick is a smoke run (about two minutes): --objects 500 --pushes 10 --poll-pushes 2
//   --noop-rounds 2 --timeout 120, unless given.
// --cpu-prof DIR runs the Sync phase's controller under `node --cpu-prof` (slower) and
// prints where its time went; bench/cpu-profile.ts reads the profile again.
// Bounded: every wait has a deadline, everything runs on 127.0.0.1, and every process and
// temporary directory the run creates is removed at the end, also on Ctrl-C.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { apiDefinitionKind, type ApiDefinition } from '../src/api/kinds/api-definition/index.ts';
import { gitRepositoryKind, type GitRepository } from '../src/api/kinds/git-repository/index.ts';
import { syncKind, type Sync } from '../src/api/kinds/sync/index.ts';
import { findCondition } from '../src/api/status.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { KubeClient } from '../src/client/rest.ts';
import { SYNC_NAME_LABEL } from '../src/gitops/sync/owner.ts';
import { commit, makeRepo, startHttpGitServer, type HttpGitServer } from '../test/support/git-servers.ts';
import { startApiServerProcess, type ApiServerProcess } from './lib/apiserver-process.ts';
import { formatProfile, summariseProfile } from './lib/cpu-profile.ts';
import { apiManifest, catalogueFiles, createGitRepository, createReceiver, createSecret, createSync, pushHook, readyArtifact, waitFor } from './lib/gitops-objects.ts';
import { startControllerProcess, startGatewayProcess, startUpstreamProcess, stopPatiently, type ControllerProcess } from './lib/gitops-stack.ts';
import { loadAverage, machineInfo } from './lib/machine.ts';
import { cpuSeconds, peakRssBytes } from './lib/proc.ts';
import { withProcesses, type Processes } from './lib/processes.ts';
import { waitUntilQuiet } from './lib/quiet.ts';
import { BENCH_DIR } from './lib/repo.ts';
import { watchFirstSeen } from './lib/first-seen.ts';
import { say } from './lib/say.ts';
import { round, summary } from './lib/stats.ts';
import { fixed, markdownTable, thousands } from './lib/table.ts';

const { values } = parseArgs({
  options: {
    objects: { type: 'string' },
    pushes: { type: 'string' },
    'poll-pushes': { type: 'string' },
    'poll-interval': { type: 'string', default: '5s' },
    'per-file': { type: 'string', default: '100' },
    storage: { type: 'string', default: 'memory' },
    timeout: { type: 'string' },
    'noop-rounds': { type: 'string' },
    phases: { type: 'string', default: 'push,sync' },
    quick: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    out: { type: 'string' },
  },
});
const quick = values.quick;
const settings = {
  objects: (values.objects ?? (quick ? '500' : '10000')).split(',').map((n) => count(n, 'objects', 1)),
  pushes: count(values.pushes ?? (quick ? '10' : '50'), 'pushes', 0),
  pollPushes: count(values['poll-pushes'] ?? (quick ? '2' : '5'), 'poll-pushes', 0),
  pollInterval: values['poll-interval'],
  perFile: count(values['per-file'], 'per-file', 1),
  storage: values.storage,
  timeoutSeconds: count(values.timeout ?? (quick ? '120' : '300'), 'timeout', 1),
  noopRounds: count(values['noop-rounds'] ?? (quick ? '2' : '3'), 'noop-rounds', 0),
  phases: values.phases.split(','),
};
for (const p of settings.phases) if (!['push', 'sync'].includes(p)) throw new Error(`--phases: unknown phase ${p} (push, sync)`);
const pollIntervalMs = durationMs(settings.pollInterval);
const profileDir = values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']);

const NS = 'default';
const HEADER = 'x-bench-push';
/** APIs in the push phase's Sync; one of them (`live`) changes with every push. */
const PUSH_CATALOGUE = 10;
/** Pause after each push went live: separate pushes, not a burst, and ≤ 20 hook calls per 10 s. */
const PUSH_GAP_MS = 500;
const GATEWAY_POLL_MS = 5;
const PUSH_TIMEOUT_MS = 30_000;
const STATUS_POLL_MS = 250;
const NOOP_POLL_MS = 25;
const PROGRESS_EVERY_MS = 10_000;
/** Idle: at most 5% of a core over 2 s. */
const QUIET = { maxShare: 0.05, windowMs: 2000 };
const GIT_AUTH = { username: 'bench', password: randomBytes(12).toString('hex') };
const HOOK_TOKEN = randomBytes(16).toString('hex');
const MiB = 2 ** 20;

function count(value: string, name: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
  return n;
}

function durationMs(text: string): number {
  const m = /^(\d+)(ms|s|m)$/.exec(text);
  if (!m) throw new Error(`--poll-interval: "${text}" is not a duration like 5s`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] as 'ms' | 's' | 'm'];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Stack {
  apiserver: ApiServerProcess;
  client: KubeClient;
  git: HttpGitServer;
  close(): Promise<void>;
}

/** An API server process, a client of it, a Git server over `gitRoot`, and the source's credentials Secret. */
async function startStack(processes: Processes, dir: string, gitRoot: string): Promise<Stack> {
  const apiserver = await startApiServerProcess(processes, { storage: settings.storage, dir, token: randomBytes(16).toString('hex') });
  const client = new KubeClient(await loadKubeconfig(apiserver.kubeconfigPath));
  const git = await startHttpGitServer({ repoRoot: gitRoot, auth: GIT_AUTH });
  await createSecret(client, NS, 'git-creds', GIT_AUTH);
  return {
    apiserver,
    client,
    git,
    async close() {
      await git.close();
      await client.close();
    },
  };
}

// ---------------------------------------------------------------------------------------
// 1. Push-to-live

/** Milliseconds from the commit to each stage; absent when the stage was not seen. */
interface PushSample {
  /** The gateway answers with the new value. */
  totalMs: number;
  /** The hook call was answered. */
  hookMs?: number;
  /** The GitRepository's status names the new artifact. */
  fetchedMs?: number;
  /** The ApiDefinition carries the new value (the Sync wrote it). */
  writtenMs?: number;
  /** The Sync's status records the revision as applied (written after the objects). */
  recordedMs?: number;
}

async function pushToLive(processes: Processes, dir: string) {
  const gitRoot = join(dir, 'git');
  const repoDir = join(gitRoot, 'apis');
  await mkdir(join(dir, 'apiserver'), { recursive: true });
  const upstream = await startUpstreamProcess(processes);
  const files: Record<string, string> = { 'apis/live.yaml': apiManifest('live', '/live', upstream.url, { name: HEADER, value: 'initial' }) };
  for (let i = 1; i < PUSH_CATALOGUE; i++) files[`apis/api-${i}.yaml`] = apiManifest(`api-${i}`, `/api-${i}`, upstream.url);
  await makeRepo(repoDir, files);
  const stack = await startStack(processes, join(dir, 'apiserver'), gitRoot);
  const { client, apiserver } = stack;
  const gateway = await startGatewayProcess(processes, { kubeconfigPath: apiserver.kubeconfigPath, dataDir: join(dir, 'gateway') });
  const controller = await startControllerProcess(processes, { kubeconfigPath: apiserver.kubeconfigPath, dataDir: join(dir, 'controller'), hooks: true });
  const probe = new Pool(gateway.url, { connections: 1 });
  const stages = {
    fetched: watchFirstSeen<GitRepository>(client, gitRepositoryKind, NS, 'push', (r) => r.status?.artifact?.revision),
    written: watchFirstSeen<ApiDefinition>(client, apiDefinitionKind, NS, 'live', (a) => a.spec.responseHeaders?.set?.[HEADER]),
    recorded: watchFirstSeen<Sync>(client, syncKind, NS, 'push', (s) => s.status?.lastAppliedRevision),
  };
  try {
    await createSecret(client, NS, 'hook-token', { token: HOOK_TOKEN });
    await createGitRepository(client, NS, 'push', { url: stack.git.url('apis'), interval: '10m', secretName: 'git-creds' });
    await createSync(client, NS, 'push', { source: 'push', path: './apis', interval: '10m' });
    await createReceiver(client, NS, 'push', { source: 'push', secretName: 'hook-token' });

    /** Milliseconds from now until the gateway serves `value`, or undefined after `timeoutMs`. */
    const live = async (value: string, since: number, timeoutMs: number): Promise<number | undefined> => {
      for (;;) {
        processes.assertAlive(controller.child, gateway.child, apiserver.child);
        const res = await probe.request({ method: 'GET', path: '/live/x' });
        await res.body.dump();
        const at = performance.now();
        if (res.statusCode === 200 && res.headers[HEADER] === value) return at - since;
        if (at - since > timeoutMs) return undefined;
        await sleep(GATEWAY_POLL_MS);
      }
    };
    const initial = await live('initial', performance.now(), 120_000);
    if (initial === undefined) throw new Error(`the gateway did not serve the initial revision within 120 s\n${controller.child.tail()}`);
    say(`push phase: initial revision served after ${Math.round(initial)} ms`);
    await waitUntilQuiet(controller.child.pid, { ...QUIET, timeoutMs: 30_000 });

    const runPushes = async (mode: 'webhook' | 'poll', n: number): Promise<{ samples: PushSample[]; missed: number; refused: number }> => {
      const samples: PushSample[] = [];
      let missed = 0;
      let refused = 0;
      for (let i = 0; i < n; i++) {
        // Polling: push at a random point of the interval, as a person would.
        if (mode === 'poll') await sleep(Math.random() * pollIntervalMs);
        const value = `${mode}-${i}-${randomBytes(3).toString('hex')}`;
        const sha = await commit(repoDir, { 'apis/live.yaml': apiManifest('live', '/live', upstream.url, { name: HEADER, value }) }, `${mode} push ${i}`);
        const pushed = performance.now();
        let hookMs: number | undefined;
        if (mode === 'webhook') {
          const status = await pushHook(controller.hookUrl!, NS, 'push', HOOK_TOKEN);
          hookMs = performance.now() - pushed;
          if (status !== 202) {
            refused++;
            say(`push ${i}: the webhook answered ${status}`);
          }
        }
        const totalMs = await live(value, pushed, mode === 'poll' ? pollIntervalMs + PUSH_TIMEOUT_MS : PUSH_TIMEOUT_MS);
        // The Sync's status is written after the objects: read the stages after the gap.
        await sleep(PUSH_GAP_MS);
        if (totalMs === undefined) {
          missed++;
          say(`${mode} push ${i}: not live after the timeout`);
        } else {
          const revision = `main@sha1:${sha}`;
          const since = (t: number | undefined) => (t === undefined ? undefined : t - pushed);
          samples.push({ totalMs, hookMs, fetchedMs: since(stages.fetched.at(revision)), writtenMs: since(stages.written.at(value)), recordedMs: since(stages.recorded.at(revision)) });
        }
        if ((i + 1) % 10 === 0 || i + 1 === n) say(`${mode}: ${i + 1}/${n} pushes, last ${fixed(totalMs ?? NaN, 0)} ms`);
      }
      return { samples, missed, refused };
    };

    const uploadPacks = stack.git.uploadPackCount;
    const webhook = await runPushes('webhook', settings.pushes);
    const uploadPacksPerPush = round((stack.git.uploadPackCount - uploadPacks) / Math.max(1, settings.pushes), 2);
    let poll: Awaited<ReturnType<typeof runPushes>> | undefined;
    if (settings.pollPushes > 0) {
      await client.patch(gitRepositoryKind, 'push', { spec: { interval: settings.pollInterval } }, 'merge', NS);
      await waitUntilQuiet(controller.child.pid, { ...QUIET, timeoutMs: 30_000 });
      poll = await runPushes('poll', settings.pollPushes);
    }
    const stage = (samples: PushSample[], pick: (s: PushSample) => number | undefined) => summary(samples.map(pick).filter((x): x is number => x !== undefined));
    const report = (r: { samples: PushSample[]; missed: number; refused: number }, pushes: number) => ({
      pushes,
      live: r.samples.length,
      missed: r.missed,
      webhookRefused: r.refused,
      totalMs: stage(r.samples, (s) => s.totalMs),
      hookAnsweredMs: stage(r.samples, (s) => s.hookMs),
      artifactStoredMs: stage(r.samples, (s) => s.fetchedMs),
      objectWrittenMs: stage(r.samples, (s) => s.writtenMs),
      syncStatusMs: stage(r.samples, (s) => s.recordedMs),
      samples: r.samples.map((s) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, round(v as number, 1)]))),
    });
    return {
      catalogue: PUSH_CATALOGUE,
      gatewayPollMs: GATEWAY_POLL_MS,
      pushGapMs: PUSH_GAP_MS,
      webhook: { ...report(webhook, settings.pushes), gitUploadPacksPerPush: uploadPacksPerPush },
      poll: poll && { interval: settings.pollInterval, ...report(poll, settings.pollPushes) },
      peakRssMiB: { controller: round(peakRssBytes(controller.child.pid) / MiB, 1), gateway: round(peakRssBytes(gateway.child.pid) / MiB, 1), apiserver: round(peakRssBytes(apiserver.child.pid) / MiB, 1) },
    };
  } finally {
    for (const s of Object.values(stages)) s.stop();
    await probe.close();
    await processes.stop(controller.child);
    await processes.stop(gateway.child);
    await stack.close();
    await processes.stop(apiserver.child);
    await processes.stop(upstream.child);
  }
}

// ---------------------------------------------------------------------------------------
// 2. One Sync of N objects

async function largeSync(processes: Processes, dir: string, objects: number) {
  const gitRoot = join(dir, 'git');
  await mkdir(join(dir, 'apiserver'), { recursive: true });
  let t = performance.now();
  await makeRepo(join(gitRoot, 'catalogue'), catalogueFiles('apis', objects, 'http://127.0.0.1:8080', settings.perFile));
  say(`sync ${objects}: repository of ${thousands(objects)} ApiDefinitions in ${Math.ceil(objects / settings.perFile)} files committed in ${Math.round(performance.now() - t)} ms`);
  const stack = await startStack(processes, join(dir, 'apiserver'), gitRoot);
  const { client, apiserver } = stack;
  const profile = profileDir && join(profileDir, `controller-${objects}`);
  let controller: ControllerProcess | undefined;
  try {
    controller = await startControllerProcess(processes, {
      kubeconfigPath: apiserver.kubeconfigPath,
      dataDir: join(dir, 'controller'),
      hooks: false,
      nodeFlags: profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : [],
    });
    const pid = controller.child.pid;
    const startedRssMiB = round(peakRssBytes(pid) / MiB, 1);
    const alive = () => processes.assertAlive(controller!.child, apiserver.child);

    // The source first: its fetch is not part of the apply.
    t = performance.now();
    await createGitRepository(client, NS, 'catalogue', { url: stack.git.url('catalogue'), interval: '10m', secretName: 'git-creds' });
    const revision = await waitFor(() => {
      alive();
      return readyArtifact(client, NS, 'catalogue');
    }, 120_000, 100);
    if (!revision) throw new Error(`GitRepository catalogue has no artifact after 120 s\n${controller.child.tail()}`);
    const fetchMs = performance.now() - t;
    await waitUntilQuiet(pid, { ...QUIET, timeoutMs: 30_000 });

    // (a) First apply.
    const owned = async () => {
      const list = (await client.list(apiDefinitionKind, { namespace: NS, labelSelector: `${SYNC_NAME_LABEL}=catalogue`, limit: 1 })) as { items: unknown[]; metadata: { remainingItemCount?: number } };
      return list.items.length + (list.metadata.remainingItemCount ?? 0);
    };
    const cpu = () => ({ controller: cpuSeconds(pid), apiserver: cpuSeconds(apiserver.child.pid) });
    const cpu0 = cpu();
    t = performance.now();
    await createSync(client, NS, 'catalogue', { source: 'catalogue', path: './apis', interval: '10m' });
    const progress: Array<{ seconds: number; objects: number }> = [];
    let nextProgress = PROGRESS_EVERY_MS;
    let last: Sync | undefined;
    const applied = await waitFor(async () => {
      alive();
      last = await client.get<Sync>(syncKind, 'catalogue', NS);
      const ready = findCondition(last.status, 'Ready');
      if (ready?.status === 'True' && last.status?.lastAppliedRevision === revision && last.status.observedGeneration === last.metadata.generation) return performance.now() - t;
      if (performance.now() - t >= nextProgress) {
        nextProgress += PROGRESS_EVERY_MS;
        const n = await owned();
        progress.push({ seconds: round((performance.now() - t) / 1000, 1), objects: n });
        say(`sync ${objects}: ${round((performance.now() - t) / 1000, 0)} s, ${thousands(n)} objects, controller ${fixed(peakRssBytes(pid) / MiB, 0)} MiB peak, Ready ${ready?.status ?? '-'} ${ready?.reason ?? ''}`);
      }
      return undefined;
    }, settings.timeoutSeconds * 1000, STATUS_POLL_MS);
    const cpu1 = cpu();
    const present = await owned();
    const readyCondition = findCondition(last?.status, 'Ready');
    const firstApply = {
      finished: applied !== undefined,
      seconds: applied === undefined ? undefined : round(applied / 1000, 2),
      cappedAtSeconds: settings.timeoutSeconds,
      objectsPresent: present,
      ready: readyCondition && { status: readyCondition.status, reason: readyCondition.reason, message: readyCondition.message?.slice(0, 300) },
      controllerCpuSeconds: round(cpu1.controller - cpu0.controller, 1),
      apiserverCpuSeconds: round(cpu1.apiserver - cpu0.apiserver, 1),
      progress,
    };
    say(`sync ${objects}: first apply ${applied === undefined ? `did not finish within ${settings.timeoutSeconds} s` : `took ${fixed(applied / 1000, 1)} s`}; ${thousands(present)} objects present`);
    if (applied !== undefined && present !== objects) throw new Error(`Ready=True but ${present} of ${objects} objects are present`);

    // The reconciles its own writes queued (owned-object watch events) run now: wait them out.
    let followUp: { seconds?: number; controllerCpuSeconds: number } | undefined;
    const noop: number[] = [];
    const noopCpu: Array<{ controller: number; apiserver: number }> = [];
    if (applied !== undefined) {
      const c0 = cpu();
      const waited = await waitUntilQuiet(pid, { ...QUIET, timeoutMs: settings.timeoutSeconds * 1000 });
      followUp = { seconds: waited === undefined ? undefined : round(waited / 1000, 1), controllerCpuSeconds: round(cpu().controller - c0.controller, 1) };
      say(`sync ${objects}: controller idle ${waited === undefined ? 'never (gave up)' : `after ${fixed(waited / 1000, 1)} s`} (its follow-up work used ${followUp.controllerCpuSeconds} CPU s)`);

      // (b) No-op reconciles.
      for (let r = 0; r < settings.noopRounds && waited !== undefined; r++) {
        const c = cpu();
        const started = performance.now();
        const patched = await client.patch<Sync>(syncKind, 'catalogue', { spec: { interval: r % 2 ? '10m' : '11m' } }, 'merge', NS);
        const generation = patched.metadata.generation!;
        const done = await waitFor(async () => {
          alive();
          const s = await client.get<Sync>(syncKind, 'catalogue', NS);
          return (s.status?.observedGeneration ?? 0) >= generation && findCondition(s.status, 'Ready')?.status === 'True' ? performance.now() - started : undefined;
        }, settings.timeoutSeconds * 1000, NOOP_POLL_MS);
        if (done === undefined) {
          say(`sync ${objects}: no-op reconcile ${r + 1} did not finish within ${settings.timeoutSeconds} s`);
          break;
        }
        const c2 = cpu();
        noop.push(done);
        noopCpu.push({ controller: round(c2.controller - c.controller, 2), apiserver: round(c2.apiserver - c.apiserver, 2) });
        say(`sync ${objects}: no-op reconcile ${r + 1}/${settings.noopRounds}: ${Math.round(done)} ms`);
        await waitUntilQuiet(pid, { ...QUIET, timeoutMs: 60_000 });
      }
      if ((await owned()) !== objects) throw new Error('the no-op reconciles changed the number of objects');
    }

    // (c) Memory.
    const peak = { controllerMiB: round(peakRssBytes(pid) / MiB, 1), controllerAtStartMiB: startedRssMiB, apiserverMiB: round(peakRssBytes(apiserver.child.pid) / MiB, 1) };
    // A profile is written when the process exits by itself: give it time to finish the
    // reconcile in flight (an unfinished first apply) before Processes.stop's SIGKILL.
    await stopPatiently(processes, controller.child, 45_000);
    let profileSummary: string | undefined;
    let profileFile: string | undefined;
    if (profile) {
      // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread.
      const file = (await readdir(profile).catch(() => [] as string[])).find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
      if (file) {
        profileFile = join(profile, file);
        profileSummary = formatProfile(await summariseProfile(profileFile, /\/src\//, 20));
      } else {
        say(`sync ${objects}: the controller wrote no CPU profile (killed before it could exit?)`);
      }
    }
    return {
      objects,
      files: Math.ceil(objects / settings.perFile),
      fetchSeconds: round(fetchMs / 1000, 2),
      firstApply,
      followUp,
      noopReconcileMs: noop.length ? { ...summary(noop), samples: noop.map((x) => round(x, 1)), cpuSeconds: noopCpu } : undefined,
      peakRss: peak,
      profile: profileFile,
      profileSummary,
    };
  } finally {
    if (controller) await stopPatiently(processes, controller.child, 45_000);
    await stack.close();
    await processes.stop(apiserver.child);
  }
}

// ---------------------------------------------------------------------------------------
// Run and report

await withProcesses(async (processes) => {
  const date = new Date().toISOString();
  const host = machineInfo();
  say(`${date}: node ${host.node}, nproc ${host.nproc}, ${host.cpuModel}, load average ${host.loadAverageAtStart.join(' ')}`);
  const push = settings.phases.includes('push') ? await pushToLive(processes, await processes.tempDir('gatehouse-bench-gitops-push-')) : undefined;
  const syncs = [];
  if (settings.phases.includes('sync')) {
    for (const n of settings.objects) syncs.push(await largeSync(processes, await processes.tempDir(`gatehouse-bench-gitops-sync-${n}-`), n));
  }

  const report = {
    benchmark: 'gitops',
    date,
    command: `npm run bench:gitops -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { ...host, loadAverageAtEnd: loadAverage() },
    setup: {
      ...settings,
      processes: 'gatehouse apiserver, gatehouse controller, gatehouse gateway (push phase only), each its own process; Git over HTTP (git http-backend, basic auth) and the benchmark client in this process; nothing pinned',
      cpuProfile: profileDir ?? null,
    },
    push,
    syncs: syncs.map(({ profileSummary: _, ...rest }) => rest),
  };
  const out = values.out ?? join(BENCH_DIR, 'results', `gitops-${date.replace(/[:.]/g, '-')}.json`);
  await mkdir(join(out, '..'), { recursive: true });
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);

  const print = (s: string) => process.stdout.write(`${s}\n`);
  const ms = (x: number | undefined) => fixed(x ?? NaN, 0);
  print(`\nGitOps benchmark, ${date}: node ${host.node}, nproc ${host.nproc}, ${host.cpuModel}; API server storage ${settings.storage}`);
  print(`load average at start ${host.loadAverageAtStart.join(' ')}, at end ${report.machine.loadAverageAtEnd.join(' ')}\n`);
  if (push) {
    const rows = [{ name: 'webhook', r: push.webhook }, ...(push.poll ? [{ name: `no webhook, polling every ${push.poll.interval}`, r: push.poll }] : [])];
    print(markdownTable(
      ['push → live (gateway serves it)', 'p50 ms', 'p99 ms', 'max ms', 'live / pushed', 'target'],
      rows.map(({ name, r }) => [name, ms(r.totalMs.p50), ms(r.totalMs.p99), ms(r.totalMs.max), `${r.live}/${r.pushes}`,
        name === 'webhook' ? `p50 ≤ 500: ${r.totalMs.p50 <= 500 ? 'met' : '**missed**'}; p99 ≤ 2000: ${r.totalMs.p99 <= 2000 && r.live === r.pushes ? 'met' : '**missed**'}` : '—']),
    ));
    print('');
    const w = push.webhook;
    print(markdownTable(
      ['webhook push: stage reached, ms after the commit', 'p50', 'p99', 'max'],
      [['hook call answered (202)', w.hookAnsweredMs], ['artifact stored (GitRepository status)', w.artifactStoredMs], ['ApiDefinition written (by the Sync)', w.objectWrittenMs],
        ['gateway serves it', w.totalMs], ['Sync status records the revision', w.syncStatusMs]]
        .map(([name, s]) => [name as string, ms((s as { p50: number }).p50), ms((s as { p99: number }).p99), ms((s as { max: number }).max)]),
    ));
    print(`\ngit upload-pack runs on the Git server per webhook push: ${w.gitUploadPacksPerPush}`);
    print(`peak RSS in the push phase: controller ${push.peakRssMiB.controller} MiB, gateway ${push.peakRssMiB.gateway} MiB, API server ${push.peakRssMiB.apiserver} MiB\n`);
  }
  if (syncs.length) {
    print(markdownTable(
      ['objects', 'first apply s (≤ 60)', 'objects present', 'CPU s: controller / API server', 'follow-up until idle s', 'no-op reconcile p50 / max ms (≤ 2000)', 'controller peak RSS MiB (≤ 400)', 'API server peak RSS MiB'],
      syncs.map((s) => [
        thousands(s.objects),
        s.firstApply.finished ? fixed(s.firstApply.seconds!, 1) : `did not finish within ${s.firstApply.cappedAtSeconds}`,
        thousands(s.firstApply.objectsPresent),
        `${fixed(s.firstApply.controllerCpuSeconds)} / ${fixed(s.firstApply.apiserverCpuSeconds)}`,
        s.followUp?.seconds === undefined ? '—' : fixed(s.followUp.seconds),
        s.noopReconcileMs ? `${ms(s.noopReconcileMs.p50)} / ${ms(s.noopReconcileMs.max)}` : '—',
        `${fixed(s.peakRss.controllerMiB)} (${fixed(s.peakRss.controllerAtStartMiB)} at start)`,
        fixed(s.peakRss.apiserverMiB),
      ]),
    ));
  }
  for (const s of syncs) {
    if (s.profileSummary) print(`\nCPU profile of the controller's main thread, ${thousands(s.objects)} objects (whole run: start, fetch, first apply, no-op reconciles): ${s.profile}\n\n${s.profileSummary}`);
  }
  print(`\nJSON: ${out}`);
});
