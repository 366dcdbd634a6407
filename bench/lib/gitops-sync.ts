// Phase 2 of bench/gitops.ts: one Sync of N ApiDefinitions (files of `perFile` YAML
// documents, committed to a repository served over HTTP), from a fresh Gatehouse, in one of
// two setups:
// - separate: `gatehouse apiserver` and `gatehouse controller` as two processes (no gateway:
//   it is not what is measured, and would compete for the cores compiling N routes). The
//   controller's own peak RSS and CPU are read from /proc.
// - up: `gatehouse up`, API server + gateway + controller in one process; no-op reconciles
//   are timed through `syncs/NAME/reconcile`. RSS and CPU are the whole process's.
// Measured, after the GitRepository has its artifact (the fetch is timed apart):
//   first apply   from creating the Sync to Ready=True with the revision applied and N
//                 objects present, capped at timeoutSeconds (then: not finished, and how
//                 many objects were there);
//   no-op         same revision and build settings, nothing drifted: the reconcile the
//                 controller does at every interval. Separate: spec.interval patched (a new
//                 generation, same build), timed from the PATCH to status.observedGeneration
//                 reaching it with Ready=True. Up: the reconcile subresource, timed from the
//                 POST to its answer (it answers once the reconcile is done);
//   full re-plan  (separate) spec.substitute patched with a variable no manifest uses: the
//                 build settings changed, so the reconcile builds, reads and dry-runs every
//                 object, and writes nothing but its status. This is what every new revision
//                 and every controller restart costs (the record of what was applied is in
//                 memory, per revision and build settings);
//   drift undone  (both) one object's listenPath (a field its Sync owns) changed by hand, timed
//                 from the PATCH to the object read back as Git has it (the controller's watch
//                 brings it). Not an upstream URL: targets are a list keyed by url, so a new URL
//                 is a new item of the hand's own, which the Sync's apply leaves beside Git's.
// Between timed operations the process under test is left to go idle first (quiet.ts).
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { apiDefinitionKind, type ApiDefinition } from '../../src/api/kinds/api-definition/index.ts';
import { syncKind, type Sync } from '../../src/api/kinds/sync/index.ts';
import { findCondition } from '../../src/api/status.ts';
import { loadKubeconfig } from '../../src/client/kubeconfig.ts';
import { KubeClient } from '../../src/client/rest.ts';
import { SYNC_NAME_LABEL } from '../../src/gitops/sync/owner.ts';
import { makeRepo, startHttpGitServer, type HttpGitServer } from '../../test/support/git-servers.ts';
import { startApiServerProcess } from './apiserver-process.ts';
import { formatProfile, summariseProfile } from './cpu-profile.ts';
import {
  catalogueFiles,
  createGitRepository,
  createSecret,
  createSync,
  readyArtifact,
  waitFor,
} from './gitops-objects.ts';
import { startControllerProcess, startUpProcess, stopPatiently } from './gitops-stack.ts';
import { cpuSeconds, peakRssBytes } from './proc.ts';
import type { Child, Processes } from './processes.ts';
import { restingShare, waitUntilQuiet } from './quiet.ts';
import { say } from './say.ts';
import { round, summary } from './stats.ts';
import { fixed, thousands } from './table.ts';

export interface SyncPhaseOptions {
  setup: 'separate' | 'up';
  objects: number;
  perFile: number;
  /** API server storage: memory | pglite. */
  storage: string;
  /** Cap on each wait (first apply, each no-op, going idle). */
  timeoutSeconds: number;
  /** Rounds of timed no-op reconciles, full re-plans (separate) and hand edits undone. */
  rounds: number;
  /** Run the process under test (controller, or `gatehouse up`) under --cpu-prof, writing here. */
  profileDir?: string;
}

const NS = 'default';
const SYNC = 'catalogue';
const CATALOGUE_UPSTREAM = 'http://127.0.0.1:8080';
const STATUS_POLL_MS = 250;
const FAST_POLL_MS = 25;
const PROGRESS_EVERY_MS = 10_000;
/** Idle: at most 5% of a core above the resting share, over 2 s. */
const QUIET = { maxShare: 0.05, windowMs: 2000 };
/** A controller finishes the reconcile in flight before exiting (up to 30 s), and only a
 * process that exits by itself writes its profile: profiled ones get longer. */
const STOP_GRACE_MS = 45_000;
const PROFILED_STOP_GRACE_MS = 120_000;
const MiB = 2 ** 20;

/** What is under test: a client of its API server, and the processes whose CPU and memory are read. */
interface Target {
  client: KubeClient;
  /** The process that runs the controller (and, for `up`, everything else). */
  controller: Child;
  /** Every Gatehouse process by role, for CPU seconds. */
  roles: Record<string, Child>;
}

export async function measureSync(processes: Processes, dir: string, options: SyncPhaseOptions) {
  const { objects, setup } = options;
  const label = `sync ${thousands(objects)} (${setup})`;
  const gitRoot = join(dir, 'git');
  let t = performance.now();
  await makeRepo(join(gitRoot, 'catalogue'), catalogueFiles('apis', objects, CATALOGUE_UPSTREAM, options.perFile));
  say(
    `${label}: repository of ${thousands(objects)} ApiDefinitions in ${Math.ceil(objects / options.perFile)} files committed in ${Math.round(performance.now() - t)} ms`,
  );
  const credentials = { username: 'bench', password: randomBytes(12).toString('hex') };
  const git: HttpGitServer = await startHttpGitServer({ repoRoot: gitRoot, auth: credentials });
  const profile = options.profileDir ? join(options.profileDir, `${setup}-${objects}`) : undefined;
  const started: Child[] = [];
  let client: KubeClient | undefined;
  try {
    const target = await start(processes, dir, options, profile, started);
    client = target.client;
    const alive = () => processes.assertAlive(...Object.values(target.roles));
    const cpu = () => Object.fromEntries(Object.entries(target.roles).map(([role, c]) => [role, cpuSeconds(c.pid)]));
    const cpuSince = (before: Record<string, number>) =>
      Object.fromEntries(Object.entries(cpu()).map(([role, s]) => [role, round(s - before[role], 2)]));
    const rssAtStartMiB = round(peakRssBytes(target.controller.pid) / MiB, 1);
    // Nothing to reconcile yet: what the process uses now is its resting load.
    const resting = await restingShare(target.controller.pid, QUIET.windowMs);
    const quiet = (timeoutMs = options.timeoutSeconds * 1000) =>
      waitUntilQuiet(target.controller.pid, { ...QUIET, resting, timeoutMs });

    // The source: fetched before the Sync exists, so its fetch is not part of the apply.
    await createSecret(client, NS, 'git-creds', credentials);
    t = performance.now();
    await createGitRepository(client, NS, SYNC, {
      url: git.url('catalogue'),
      interval: '10m',
      secretName: 'git-creds',
    });
    const revision = await waitFor(
      () => {
        alive();
        return readyArtifact(client!, NS, SYNC);
      },
      120_000,
      100,
    );
    if (!revision) throw new Error(`${label}: GitRepository has no artifact after 120 s\n${target.controller.tail()}`);
    const fetchSeconds = round((performance.now() - t) / 1000, 2);
    await quiet(30_000);

    // (a) First apply.
    const count = () => ownedCount(client!);
    const cpu0 = cpu();
    t = performance.now();
    // Unlocked: the hand edits whose undoing is timed would otherwise be refused (the GitOps lock).
    await createSync(client, NS, SYNC, { source: SYNC, path: './apis', interval: '10m', lock: false });
    const progress: Array<{ seconds: number; objects: number }> = [];
    let nextProgress = PROGRESS_EVERY_MS;
    let last: Sync | undefined;
    const applied = await waitFor(
      async () => {
        alive();
        last = await client!.get<Sync>(syncKind, SYNC, NS);
        const ready = findCondition(last.status, 'Ready');
        if (
          ready?.status === 'True' &&
          last.status?.lastAppliedRevision === revision &&
          last.status.observedGeneration === last.metadata.generation
        )
          return performance.now() - t;
        if (performance.now() - t >= nextProgress) {
          nextProgress += PROGRESS_EVERY_MS;
          const n = await count();
          progress.push({ seconds: round((performance.now() - t) / 1000, 1), objects: n });
          say(
            `${label}: ${Math.round((performance.now() - t) / 1000)} s, ${thousands(n)} objects, peak RSS ${fixed(peakRssBytes(target.controller.pid) / MiB, 0)} MiB, Ready ${ready?.status ?? '-'} ${ready?.reason ?? ''}`,
          );
        }
        return undefined;
      },
      options.timeoutSeconds * 1000,
      STATUS_POLL_MS,
    );
    const firstApplyCpu = cpuSince(cpu0);
    const present = await count();
    const ready = findCondition(last?.status, 'Ready');
    say(
      `${label}: first apply ${applied === undefined ? `did not finish within ${options.timeoutSeconds} s` : `took ${fixed(applied / 1000, 1)} s`}; ${thousands(present)} objects present`,
    );
    if (applied !== undefined && present !== objects)
      throw new Error(`${label}: Ready=True but ${present} of ${objects} objects are present`);
    const firstApply = {
      finished: applied !== undefined,
      seconds: applied === undefined ? undefined : round(applied / 1000, 2),
      cappedAtSeconds: options.timeoutSeconds,
      objectsPresent: present,
      ready: ready && { status: ready.status, reason: ready.reason, message: ready.message?.slice(0, 300) },
      cpuSeconds: firstApplyCpu,
      progress,
    };

    // The reconciles its own writes queued (watch events of the objects it wrote) run now.
    let idleAfterSeconds: number | undefined;
    const timed = { noop: [] as number[], fullReplan: [] as number[], drift: [] as number[] };
    const cpuOf = {
      noop: [] as Array<Record<string, number>>,
      fullReplan: [] as Array<Record<string, number>>,
      drift: [] as Array<Record<string, number>>,
    };
    /** Times `operation` (undefined: it did not finish) with the CPU it cost, then waits for idle. */
    const measure = async (
      kind: keyof typeof timed,
      what: string,
      index: number,
      operation: () => Promise<number | undefined>,
    ): Promise<boolean> => {
      const c = cpu();
      const ms = await operation();
      if (ms === undefined) {
        say(`${label}: ${what} ${index + 1} did not finish within ${options.timeoutSeconds} s`);
        return false;
      }
      timed[kind].push(ms);
      cpuOf[kind].push(cpuSince(c));
      say(`${label}: ${what} ${index + 1}/${options.rounds}: ${Math.round(ms)} ms`);
      return (await quiet()) !== undefined;
    };
    if (applied !== undefined) {
      const waited = await quiet();
      idleAfterSeconds = waited === undefined ? undefined : round(waited / 1000, 1);
      say(
        `${label}: idle ${waited === undefined ? 'never (gave up waiting)' : `${fixed(waited / 1000, 1)} s after Ready`}`,
      );
      const c = client;
      for (let r = 0; r < options.rounds && waited !== undefined; r++) {
        const ok =
          setup === 'separate'
            ? (await measure('noop', 'no-op reconcile (spec.interval patched)', r, () =>
                specChanged(c, { interval: r % 2 ? '10m' : '11m' }, options.timeoutSeconds, alive),
              )) &&
              (await measure('fullReplan', 'full re-plan (spec.substitute patched)', r, () =>
                specChanged(c, { substitute: { BENCH_UNUSED: String(r) } }, options.timeoutSeconds, alive),
              ))
            : await measure('noop', 'no-op reconcile (reconcile subresource)', r, async () => {
                const t0 = performance.now();
                await c.subresource(syncKind, SYNC, 'reconcile', NS, { withSource: false });
                return performance.now() - t0;
              });
        if (
          !ok ||
          !(await measure('drift', 'hand edit of one object undone', r, () =>
            driftUndone(c, (r * 7919) % objects, options.timeoutSeconds, alive),
          ))
        )
          break;
      }
      if ((await count()) !== objects) throw new Error(`${label}: the no-op reconciles changed the number of objects`);
    }

    // (c) Memory, then stop: a profile is written only when the controller exits by itself.
    const peakRss = {
      processMiB: round(peakRssBytes(target.controller.pid) / MiB, 1),
      atStartMiB: rssAtStartMiB,
      ...(target.roles.apiserver ? { apiserverMiB: round(peakRssBytes(target.roles.apiserver.pid) / MiB, 1) } : {}),
    };
    await stopPatiently(processes, target.controller, profile ? PROFILED_STOP_GRACE_MS : STOP_GRACE_MS);
    const profileFile = profile && (await mainThreadProfile(profile));
    if (profile && !profileFile) say(`${label}: the controller wrote no CPU profile (killed before it could exit?)`);
    const withCpu = (samples: number[], cpuSamples: Array<Record<string, number>>) =>
      samples.length
        ? { ...summary(samples), samples: samples.map((x) => round(x, 1)), cpuSeconds: cpuSamples }
        : undefined;
    return {
      setup,
      process: setup === 'up' ? 'gatehouse up (API server + gateway + controller)' : 'gatehouse controller',
      objects,
      files: Math.ceil(objects / options.perFile),
      fetchSeconds,
      firstApply,
      idleAfterSeconds,
      restingCoreShare: round(resting, 3),
      noopMethod:
        setup === 'separate' ? 'spec.interval patched, until observed Ready' : 'reconcile subresource, until answered',
      noopMs: withCpu(timed.noop, cpuOf.noop),
      fullReplanMs: withCpu(timed.fullReplan, cpuOf.fullReplan),
      driftUndoneMs: withCpu(timed.drift, cpuOf.drift),
      peakRss,
      profile: profileFile,
      profileSummary: profileFile ? formatProfile(await summariseProfile(profileFile, /\/src\//, 20)) : undefined,
    };
  } finally {
    await client?.close();
    await git.close();
    // After Ctrl-C the signal handler stops every child, then removes the directories (see gitops-push.ts).
    if (!processes.interrupted)
      for (const child of started.reverse()) await stopPatiently(processes, child, STOP_GRACE_MS);
  }
}

export type SyncResult = Awaited<ReturnType<typeof measureSync>>;

/** Starts the setup's processes (recorded in `started`, for stopping) and a client. */
async function start(
  processes: Processes,
  dir: string,
  options: SyncPhaseOptions,
  profile: string | undefined,
  started: Child[],
): Promise<Target> {
  if (options.setup === 'up') {
    const up = await startUpProcess(processes, {
      dataDir: join(dir, 'up'),
      storage: options.storage,
      nodeFlags: profileFlags(profile),
    });
    started.push(up.child);
    return {
      client: new KubeClient(await loadKubeconfig(up.kubeconfigPath)),
      controller: up.child,
      roles: { up: up.child },
    };
  }
  const apiserver = await startApiServerProcess(processes, {
    storage: options.storage,
    dir: join(dir, 'apiserver'),
    token: randomBytes(16).toString('hex'),
  });
  started.push(apiserver.child);
  const controller = await startControllerProcess(processes, {
    kubeconfigPath: apiserver.kubeconfigPath,
    dataDir: join(dir, 'controller'),
    hooks: false,
    nodeFlags: profileFlags(profile),
  });
  started.push(controller.child);
  return {
    client: new KubeClient(await loadKubeconfig(apiserver.kubeconfigPath)),
    controller: controller.child,
    roles: { controller: controller.child, apiserver: apiserver.child },
  };
}

function profileFlags(dir: string | undefined): string[] {
  return dir ? ['--cpu-prof', '--cpu-prof-dir', dir] : [];
}

/** ApiDefinitions the Sync owns: one list of limit 1, whose remainingItemCount counts the rest. */
async function ownedCount(client: KubeClient): Promise<number> {
  const list = (await client.list(apiDefinitionKind, {
    namespace: NS,
    labelSelector: `${SYNC_NAME_LABEL}=${SYNC}`,
    limit: 1,
  })) as { items: unknown[]; metadata: { remainingItemCount?: number } };
  return list.items.length + (list.metadata.remainingItemCount ?? 0);
}

/** Merge-patches the Sync's spec and waits for that generation to be observed Ready. */
async function specChanged(
  client: KubeClient,
  spec: Partial<Sync['spec']>,
  timeoutSeconds: number,
  alive: () => void,
): Promise<number | undefined> {
  const t0 = performance.now();
  const patched = await client.patch<Sync>(syncKind, SYNC, { spec }, 'merge', NS);
  const generation = patched.metadata.generation!;
  return waitFor(
    async () => {
      alive();
      const s = await client.get<Sync>(syncKind, SYNC, NS);
      return (s.status?.observedGeneration ?? 0) >= generation && findCondition(s.status, 'Ready')?.status === 'True'
        ? performance.now() - t0
        : undefined;
    },
    timeoutSeconds * 1000,
    FAST_POLL_MS,
  );
}

/** Changes api-<i>'s listenPath by hand and waits until it reads back as Git has it. */
async function driftUndone(
  client: KubeClient,
  i: number,
  timeoutSeconds: number,
  alive: () => void,
): Promise<number | undefined> {
  const name = `api-${i}`;
  const inGit = `/svc/${i}`;
  const t0 = performance.now();
  await client.patch(apiDefinitionKind, name, { spec: { listenPath: `/drifted/${i}` } }, 'merge', NS);
  return waitFor(
    async () => {
      alive();
      const api = await client.get<ApiDefinition>(apiDefinitionKind, name, NS);
      return api.spec.listenPath === inGit ? performance.now() - t0 : undefined;
    },
    timeoutSeconds * 1000,
    FAST_POLL_MS,
  );
}

/** The main thread's profile in `dir`: CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile, thread 0. */
async function mainThreadProfile(dir: string): Promise<string | undefined> {
  const file = (await readdir(dir).catch(() => [] as string[])).find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  return file && join(dir, file);
}
