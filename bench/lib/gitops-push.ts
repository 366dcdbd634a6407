// Phase 1 of bench/gitops.ts, push-to-live: `gatehouse apiserver`, `gatehouse gateway` and
// `gatehouse controller` (with its hook listener) as three processes, a Git repository served
// over HTTP (basic auth) by this process, and a GitRepository + Sync + Receiver (github) on
// it. The Sync holds `catalogue` ApiDefinitions (`live`, one file, plus the rest in files of
// 100 documents); each push commits a new value of the `live` API's response header, then
// (webhook mode) POSTs a signed push event to the Receiver.
// Latency runs from the commit being done to the first gateway answer carrying the new value
// (the gateway is polled every GATEWAY_POLL_MS); WARMUP_PUSHES come first, uncounted. Watch events time the stages in between:
// the GitRepository's artifact names the revision, the ApiDefinition carries the value
// (the Sync wrote it), the Sync's status records the revision (written after its objects).
// Polling mode: the GitRepository's interval is set to `pollInterval` and no hook is called;
// each push is made at a random point of the interval.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Pool } from 'undici';
import { apiDefinitionKind, type ApiDefinition } from '../../src/api/kinds/api-definition/index.ts';
import { gitRepositoryKind, type GitRepository } from '../../src/api/kinds/git-repository/index.ts';
import { syncKind, type Sync } from '../../src/api/kinds/sync/index.ts';
import { loadKubeconfig } from '../../src/client/kubeconfig.ts';
import { KubeClient } from '../../src/client/rest.ts';
import { commit, makeRepo, startHttpGitServer } from '../../test/support/git-servers.ts';
import { startApiServerProcess } from './apiserver-process.ts';
import { watchFirstSeen } from './first-seen.ts';
import { apiManifest } from '../../test/support/manifests.ts';
import {
  catalogueFiles,
  createGitRepository,
  createReceiver,
  createSecret,
  createSync,
  pushHook,
} from './gitops-objects.ts';
import { startControllerProcess, startGatewayProcess, startUpstreamProcess } from './gitops-stack.ts';
import { peakRssBytes } from './proc.ts';
import type { Child, Processes } from './processes.ts';
import { waitUntilQuiet } from './quiet.ts';
import { say } from './say.ts';
import { round, summary } from './stats.ts';
import { fixed } from './table.ts';

export interface PushPhaseOptions {
  /** API server storage: memory | pglite. */
  storage: string;
  /** Pushes announced by the webhook. */
  pushes: number;
  /** Pushes found by polling (0: none). */
  pollPushes: number;
  /** spec.interval of the GitRepository while polling, e.g. "5s". */
  pollInterval: string;
  /** ApiDefinitions in the Sync (at least 1): a new revision re-plans all of them. */
  catalogue: number;
}

const NS = 'default';
const HEADER = 'x-bench-push';
/** Pause after each push went live: pushes are separate events, not a burst, and the hook
 * calls stay far below the Receiver's limit (30 per 10 s). */
const PUSH_GAP_MS = 500;
/** Webhook pushes made first and left out of the figures (cold JIT, first fetches), kept in the JSON. */
const WARMUP_PUSHES = 3;
const GATEWAY_POLL_MS = 5;
const PUSH_TIMEOUT_MS = 60_000;
const INITIAL_TIMEOUT_MS = 300_000;
/** Idle: at most 5% of a core over 2 s. */
const QUIET = { maxShare: 0.05, windowMs: 2000, timeoutMs: 30_000 };
const MiB = 2 ** 20;

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
  /** The Sync's status records the revision as applied. */
  recordedMs?: number;
}

interface Run {
  samples: PushSample[];
  missed: number;
  refused: number;
}

export async function measurePushToLive(processes: Processes, dir: string, options: PushPhaseOptions) {
  const pollIntervalMs = durationMs(options.pollInterval);
  const gitRoot = join(dir, 'git');
  const repoDir = join(gitRoot, 'apis');
  const credentials = { username: 'bench', password: randomBytes(12).toString('hex') };
  const hookToken = randomBytes(16).toString('hex');
  const started: Child[] = [];
  const upstream = await startUpstreamProcess(processes);
  started.push(upstream.child);
  const files: Record<string, string> = {
    'apis/live.yaml': apiManifest('live', '/live', upstream.url, { name: HEADER, value: 'initial' }),
  };
  Object.assign(files, catalogueFiles('apis', options.catalogue - 1, upstream.url, 100));
  await makeRepo(repoDir, files);
  const git = await startHttpGitServer({ repoRoot: gitRoot, auth: credentials });
  const cleanups: Array<() => Promise<void> | void> = [() => git.close()];
  try {
    const apiserver = await startApiServerProcess(processes, {
      storage: options.storage,
      dir: join(dir, 'apiserver'),
      token: randomBytes(16).toString('hex'),
    });
    started.push(apiserver.child);
    const client = new KubeClient(await loadKubeconfig(apiserver.kubeconfigPath));
    cleanups.push(() => client.close());
    const gateway = await startGatewayProcess(processes, {
      kubeconfigPath: apiserver.kubeconfigPath,
      dataDir: join(dir, 'gateway'),
    });
    started.push(gateway.child);
    const controller = await startControllerProcess(processes, {
      kubeconfigPath: apiserver.kubeconfigPath,
      dataDir: join(dir, 'controller'),
      hooks: true,
    });
    started.push(controller.child);
    const probe = new Pool(gateway.url, { connections: 1 });
    cleanups.push(() => probe.close());
    const stages = {
      fetched: watchFirstSeen<GitRepository>(
        client,
        gitRepositoryKind,
        NS,
        'push',
        (r) => r.status?.artifact?.revision,
      ),
      written: watchFirstSeen<ApiDefinition>(
        client,
        apiDefinitionKind,
        NS,
        'live',
        (a) => a.spec.responseHeaders?.set?.[HEADER],
      ),
      recorded: watchFirstSeen<Sync>(client, syncKind, NS, 'push', (s) => s.status?.lastAppliedRevision),
    };
    for (const s of Object.values(stages)) cleanups.push(() => s.stop());

    await createSecret(client, NS, 'git-creds', credentials);
    await createSecret(client, NS, 'hook-token', { token: hookToken });
    await createGitRepository(client, NS, 'push', { url: git.url('apis'), interval: '10m', secretName: 'git-creds' });
    await createSync(client, NS, 'push', { source: 'push', path: './apis', interval: '10m' });
    await createReceiver(client, NS, 'push', { source: 'push', secretName: 'hook-token' });

    /** Milliseconds from `since` until the gateway serves `value`, or undefined after `timeoutMs`. */
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
    let pushRuns = 0;
    const initial = await live('initial', performance.now(), INITIAL_TIMEOUT_MS);
    if (initial === undefined)
      throw new Error(
        `the gateway did not serve the initial revision within ${INITIAL_TIMEOUT_MS / 1000} s\n${controller.child.tail()}`,
      );
    say(`push phase: initial revision served after ${Math.round(initial)} ms`);
    await waitUntilQuiet(controller.child.pid, QUIET);

    const runPushes = async (mode: 'webhook' | 'poll', n: number): Promise<Run> => {
      pushRuns++;
      const run: Run = { samples: [], missed: 0, refused: 0 };
      for (let i = 0; i < n; i++) {
        // Polling: push at a random point of the interval, as a person would.
        if (mode === 'poll') await sleep(Math.random() * pollIntervalMs);
        const value = `${mode}-${pushRuns}-${i}-${randomBytes(3).toString('hex')}`;
        const sha = await commit(
          repoDir,
          { 'apis/live.yaml': apiManifest('live', '/live', upstream.url, { name: HEADER, value }) },
          `${mode} push ${i}`,
        );
        const pushed = performance.now();
        let hookMs: number | undefined;
        if (mode === 'webhook') {
          const status = await pushHook(controller.hookUrl!, NS, 'push', hookToken);
          hookMs = performance.now() - pushed;
          if (status !== 202) {
            run.refused++;
            say(`push ${i}: the webhook answered ${status}`);
          }
        }
        const totalMs = await live(value, pushed, mode === 'poll' ? pollIntervalMs + PUSH_TIMEOUT_MS : PUSH_TIMEOUT_MS);
        // The Sync's status is written after the objects: read the stages after the gap.
        await sleep(PUSH_GAP_MS);
        if (totalMs === undefined) {
          run.missed++;
          say(`${mode} push ${i}: not live after the timeout`);
        } else {
          const revision = `main@sha1:${sha}`;
          const since = (at: number | undefined) => (at === undefined ? undefined : at - pushed);
          run.samples.push({
            totalMs,
            hookMs,
            fetchedMs: since(stages.fetched.at(revision)),
            writtenMs: since(stages.written.at(value)),
            recordedMs: since(stages.recorded.at(revision)),
          });
        }
        if ((i + 1) % 10 === 0 || i + 1 === n)
          say(`${mode}: ${i + 1}/${n} pushes, last ${fixed(totalMs ?? NaN, 0)} ms`);
      }
      return run;
    };

    const warmup = await runPushes('webhook', WARMUP_PUSHES);
    const uploadPacksBefore = git.uploadPackCount;
    const webhook = await runPushes('webhook', options.pushes);
    const gitUploadPacksPerPush = round((git.uploadPackCount - uploadPacksBefore) / Math.max(1, options.pushes), 2);
    let poll: Run | undefined;
    if (options.pollPushes > 0) {
      await client.patch(gitRepositoryKind, 'push', { spec: { interval: options.pollInterval } }, 'merge', NS);
      await waitUntilQuiet(controller.child.pid, QUIET);
      poll = await runPushes('poll', options.pollPushes);
    }
    return {
      catalogue: options.catalogue,
      gatewayPollMs: GATEWAY_POLL_MS,
      pushGapMs: PUSH_GAP_MS,
      warmupMs: warmup.samples.map((s) => round(s.totalMs, 1)),
      webhook: { ...report(webhook, options.pushes), gitUploadPacksPerPush },
      poll: poll && { interval: options.pollInterval, ...report(poll, options.pollPushes) },
      peakRssMiB: { controller: mib(controller.child), gateway: mib(gateway.child), apiserver: mib(apiserver.child) },
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
    // After Ctrl-C the signal handler stops every child and then removes the directories;
    // stopping some here would take them out of its list, and it could remove a directory
    // a child still writes to.
    if (!processes.interrupted) for (const child of started.reverse()) await processes.stop(child);
  }
}

export type PushResult = Awaited<ReturnType<typeof measurePushToLive>>;

function report(run: Run, pushes: number) {
  const stage = (pick: (s: PushSample) => number | undefined) =>
    summary(run.samples.map(pick).filter((x): x is number => x !== undefined));
  return {
    pushes,
    live: run.samples.length,
    missed: run.missed,
    webhookRefused: run.refused,
    totalMs: stage((s) => s.totalMs),
    hookAnsweredMs: stage((s) => s.hookMs),
    artifactStoredMs: stage((s) => s.fetchedMs),
    objectWrittenMs: stage((s) => s.writtenMs),
    syncStatusMs: stage((s) => s.recordedMs),
    samples: run.samples.map((s) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, round(v as number, 1)]))),
  };
}

function mib(child: Child): number {
  return round(peakRssBytes(child.pid) / MiB, 1);
}

function durationMs(text: string): number {
  const m = /^(\d+)(ms|s|m)$/.exec(text);
  if (!m) throw new Error(`poll interval "${text}" is not a duration like 5s`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] as 'ms' | 's' | 'm'];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
