// GitOps benchmark: the real API server, controller and gateway (the `gatehouse` CLI, as
// processes) fed from a Git repository served over HTTP on 127.0.0.1 by this process.
//  1. Push-to-live (bench/lib/gitops-push.ts): commit → signed webhook → the gateway serves
//     the change, in a Sync of --push-catalogue ApiDefinitions; p50/p99/max over --pushes
//     pushes, with the stages in between; then the same without the webhook, the
//     GitRepository polling every --poll-interval.
//  2. One Sync of N ApiDefinitions (bench/lib/gitops-sync.ts), per size and setup: the
//     first apply, no-op reconciles, a full re-plan that writes nothing, a hand edit undone,
//     and peak RSS. Setups: `separate` (`gatehouse apiserver` + `gatehouse controller`: the
//     controller's own RSS) and `up` (one `gatehouse up` process: the only one answering
//     the `syncs/NAME/reconcile` subresource).
// Usage: npm run bench:gitops [-- --objects 10000 --pushes 50 --push-catalogue 10
//   --poll-pushes 10 --poll-interval 5s --per-file 100 --storage memory --timeout 300 --rounds 3
//   --phases push,sync --setups separate,up --cpu-prof DIR --out FILE]
// --objects takes a list (e.g. 1000,10000) for a scale curve: a fresh Gatehouse per size.
// --quick is a smoke run (about two minutes): --objects 500 --pushes 10 --poll-pushes 2
//   --rounds 2 --timeout 120, unless given.
// --cpu-prof DIR runs the process under test in the Sync phase (the controller, or `gatehouse
//   up`) under `node --cpu-prof` (slower) and prints where its time went;
//   bench/cpu-profile.ts reads the profile again.
// Bounded: every wait has a deadline (--timeout caps the first apply and each no-op), every
// request goes to 127.0.0.1, and every process and temporary directory the run creates is
// removed at the end, also on Ctrl-C. Output: tables on stdout, JSON under bench/results/.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { measurePushToLive, type PushResult } from './lib/gitops-push.ts';
import { measureSync, type SyncResult } from './lib/gitops-sync.ts';
import { loadAverage, machineInfo } from './lib/machine.ts';
import { withProcesses } from './lib/processes.ts';
import { BENCH_DIR } from './lib/repo.ts';
import { say } from './lib/say.ts';
import { ignoringRepeatedSignals } from './lib/signals.ts';
import { sourceState } from './lib/source.ts';
import { fixed, markdownTable, thousands } from './lib/table.ts';
import { verdict, verdictWord } from './lib/verdict.ts';

const { values } = parseArgs({
  options: {
    objects: { type: 'string' },
    pushes: { type: 'string' },
    'push-catalogue': { type: 'string', default: '10' },
    'poll-pushes': { type: 'string' },
    'poll-interval': { type: 'string', default: '5s' },
    'per-file': { type: 'string', default: '100' },
    storage: { type: 'string', default: 'memory' },
    timeout: { type: 'string' },
    rounds: { type: 'string' },
    phases: { type: 'string', default: 'push,sync' },
    setups: { type: 'string', default: 'separate,up' },
    quick: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    out: { type: 'string' },
  },
});
const quick = values.quick;
const settings = {
  objects: (values.objects ?? (quick ? '500' : '10000')).split(',').map((n) => integer(n, 'objects', 1)),
  pushes: integer(values.pushes ?? (quick ? '10' : '50'), 'pushes', 0),
  pushCatalogue: integer(values['push-catalogue'], 'push-catalogue', 1),
  pollPushes: integer(values['poll-pushes'] ?? (quick ? '2' : '10'), 'poll-pushes', 0),
  pollInterval: values['poll-interval'],
  perFile: integer(values['per-file'], 'per-file', 1),
  storage: values.storage,
  timeoutSeconds: integer(values.timeout ?? (quick ? '120' : '300'), 'timeout', 1),
  rounds: integer(values.rounds ?? (quick ? '2' : '3'), 'rounds', 0),
  phases: list(values.phases, 'phases', ['push', 'sync']),
  setups: list(values.setups, 'setups', ['separate', 'up']) as Array<'separate' | 'up'>,
};
const profileDir = values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']);

function integer(value: string, name: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
  return n;
}

function list(value: string, name: string, allowed: string[]): string[] {
  const items = value.split(',');
  for (const item of items)
    if (!allowed.includes(item)) throw new Error(`--${name}: unknown ${item} (${allowed.join(', ')})`);
  return items;
}

await ignoringRepeatedSignals(() =>
  withProcesses(async (processes) => {
    const date = new Date().toISOString();
    const host = machineInfo();
    const source = sourceState();
    say(
      `${date}: node ${host.node}, nproc ${host.nproc}, ${host.cpuModel}, load average ${host.loadAverageAtStart.join(' ')}`,
    );
    const dirty = source.uncommitted.length ? `, ${source.uncommitted.length} uncommitted files under src/` : '';
    say(`source: commit ${source.commit}${dirty}`);
    const push = settings.phases.includes('push')
      ? await measurePushToLive(processes, await processes.tempDir('gatehouse-bench-gitops-push-'), {
          storage: settings.storage,
          pushes: settings.pushes,
          pollPushes: settings.pollPushes,
          pollInterval: settings.pollInterval,
          catalogue: settings.pushCatalogue,
        })
      : undefined;
    const syncs: SyncResult[] = [];
    if (settings.phases.includes('sync')) {
      for (const objects of settings.objects) {
        for (const setup of settings.setups) {
          const dir = await processes.tempDir(`gatehouse-bench-gitops-${setup}-${objects}-`);
          syncs.push(
            await measureSync(processes, dir, {
              setup,
              objects,
              perFile: settings.perFile,
              storage: settings.storage,
              timeoutSeconds: settings.timeoutSeconds,
              rounds: settings.rounds,
              profileDir,
            }),
          );
        }
      }
    }

    const report = {
      benchmark: 'gitops',
      date,
      command: `npm run bench:gitops -- ${process.argv.slice(2).join(' ')}`.trim(),
      machine: { ...host, loadAverageAtEnd: loadAverage() },
      // Read at the start and again at the end: other people's commits during a run show here.
      source: { atStart: source, atEnd: sourceState() },
      setup: {
        ...settings,
        processes:
          'the gatehouse CLI as processes (see each phase); Git over HTTP (git http-backend, basic auth) and the benchmark client in this process; nothing pinned',
        cpuProfile: profileDir ?? null,
      },
      push,
      syncs: syncs.map(({ profileSummary: _, ...rest }) => rest),
    };
    const out = values.out ?? join(BENCH_DIR, 'results', `gitops-${date.replace(/[:.]/g, '-')}.json`);
    await mkdir(join(out, '..'), { recursive: true });
    await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);

    const print = (s: string) => process.stdout.write(`${s}\n`);
    print(
      `\nGitOps benchmark, ${date}: node ${host.node}, nproc ${host.nproc}, ${host.cpuModel}; API server storage ${settings.storage}`,
    );
    print(
      `load average at start ${host.loadAverageAtStart.join(' ')}, at end ${report.machine.loadAverageAtEnd.join(' ')}`,
    );
    const moved =
      report.source.atEnd.commit !== source.commit
        ? ` (at the end: ${report.source.atEnd.commit.slice(0, 7)}: the code changed during the run)`
        : '';
    print(`source: commit ${source.short}${moved}, ${source.uncommitted.length} uncommitted files under src/\n`);
    if (push) printPush(print, push);
    if (syncs.length) printSyncs(print, syncs);
    for (const s of syncs) {
      if (s.profileSummary)
        print(
          `\nCPU profile of the main thread of ${s.process}, ${thousands(s.objects)} objects (its whole life: start, fetch, first apply, no-op reconciles, hand edits): ${s.profile}\n\n${s.profileSummary}`,
        );
    }
    print(`\nJSON: ${out}`);
  }),
);

function ms(x: number | undefined): string {
  return fixed(x ?? NaN, 0);
}

function p50max(s: { p50: number; max: number } | undefined): string {
  return s ? `${ms(s.p50)} / ${ms(s.max)}` : '—';
}

/** The webhook push-to-live targets, judged on the figures as printed (whole ms); every push must go live. */
function pushVerdicts(r: { totalMs: { p50: number; p99: number }; live: number; pushes: number }): string {
  const p50 = verdict(r.totalMs.p50, { direction: 'atMost', bar: 500, digits: 0 });
  const p99 = verdict(r.totalMs.p99, { direction: 'atMost', bar: 2000, digits: 0 });
  const everyPush = r.live === r.pushes;
  return `p50 ${p50.barPrinted}: ${verdictWord(p50.met)}; p99 ${p99.barPrinted}: ${verdictWord(p99.met && everyPush)}`;
}

function printPush(print: (s: string) => void, push: PushResult): void {
  const rows = [
    { name: 'webhook', r: push.webhook },
    ...(push.poll ? [{ name: `no webhook, polling every ${push.poll.interval}`, r: push.poll }] : []),
  ];
  print(`push phase: a Sync of ${thousands(push.catalogue)} ApiDefinitions, one changed per push\n`);
  print(
    markdownTable(
      ['push → live (gateway serves it)', 'p50 ms', 'p99 ms', 'max ms', 'live / pushed', 'target'],
      rows.map(({ name, r }) => [
        name,
        ms(r.totalMs.p50),
        ms(r.totalMs.p99),
        ms(r.totalMs.max),
        `${r.live}/${r.pushes}`,
        name === 'webhook' ? pushVerdicts(r) : '—',
      ]),
    ),
  );
  print('');
  const w = push.webhook;
  const stages: Array<[string, { p50: number; p99: number; max: number }]> = [
    ['hook call answered (202)', w.hookAnsweredMs],
    ['artifact stored (GitRepository status)', w.artifactStoredMs],
    ['ApiDefinition written (by the Sync)', w.objectWrittenMs],
    ['gateway serves it', w.totalMs],
    ['Sync status records the revision', w.syncStatusMs],
  ];
  print(
    markdownTable(
      ['webhook push: stage reached, ms after the commit', 'p50', 'p99', 'max'],
      stages.map(([name, s]) => [name, ms(s.p50), ms(s.p99), ms(s.max)]),
    ),
  );
  print(`\ngit upload-pack runs on the Git server per webhook push: ${w.gitUploadPacksPerPush}`);
  print(
    `peak RSS in the push phase: controller ${push.peakRssMiB.controller} MiB, gateway ${push.peakRssMiB.gateway} MiB, API server ${push.peakRssMiB.apiserver} MiB\n`,
  );
}

/** The Sync targets, judged on the figures as printed: first apply, the slowest no-op and, for the controller
 * as its own process (`separate`; `up` is every part in one), its peak RSS (400 MB, 381 MiB). */
function syncVerdicts(s: SyncResult): string {
  const judged: string[] = [];
  const firstApply = s.firstApply.finished ? s.firstApply.seconds! : Number.NaN;
  const apply = verdict(firstApply, { direction: 'atMost', bar: 60, digits: 1 });
  judged.push(`first apply ${apply.barPrinted} s: ${verdictWord(apply.met)}`);
  const noop = verdict(s.noopMs?.max ?? Number.NaN, { direction: 'atMost', bar: 2000, digits: 0 });
  judged.push(`no-op max ${noop.barPrinted} ms: ${verdictWord(noop.met)}`);
  if (s.setup === 'separate') {
    const rss = verdict(s.peakRss.processMiB, { direction: 'atMost', bar: 381, digits: 1 });
    judged.push(`controller RSS ${rss.barPrinted} MiB: ${verdictWord(rss.met)}`);
  }
  return judged.join('; ');
}

function printSyncs(print: (s: string) => void, syncs: SyncResult[]): void {
  print(
    markdownTable(
      [
        'setup',
        'objects',
        'first apply s (≤ 60)',
        'objects present',
        'CPU s of the first apply',
        'no-op reconcile p50 / max ms (≤ 2000)',
        'full re-plan p50 / max ms',
        'hand edit undone p50 / max ms',
        'peak RSS MiB (controller ≤ 381)',
        'targets',
      ],
      syncs.map((s) => [
        s.process,
        thousands(s.objects),
        s.firstApply.finished
          ? fixed(s.firstApply.seconds!, 1)
          : `did not finish within ${s.firstApply.cappedAtSeconds}`,
        thousands(s.firstApply.objectsPresent),
        Object.entries(s.firstApply.cpuSeconds)
          .map(([role, sec]) => `${role} ${fixed(sec)}`)
          .join(', '),
        s.noopMs ? `${p50max(s.noopMs)} (${s.setup === 'up' ? 'subresource' : 'interval patch'})` : '—',
        p50max(s.fullReplanMs),
        p50max(s.driftUndoneMs),
        `${fixed(s.peakRss.processMiB)} (${fixed(s.peakRss.atStartMiB)} at start)${s.peakRss.apiserverMiB === undefined ? '' : `; API server ${fixed(s.peakRss.apiserverMiB)}`}`,
        syncVerdicts(s),
      ]),
    ),
  );
}
