// One command for the figures docs/benchmarks.md reports: the API server, gateway and GitOps
// benchmarks run one after the other, each as its own process within a time budget (the whole
// run stays within 20 minutes on a 2-core machine), and each one's tables are written with the
// command that reproduces them, the date, the commit (flagged when the tree is dirty) and the
// machine's load average: a figure without them is not a result.
// Usage: npm run bench:report [-- --docs --quick --out FILE --budget-scale K --only STEP,…], steps apiserver-memory,
//   apiserver-postgres, apiserver-pglite, gateway, gitops-push, gitops-sync, gitops-push-large.
//   --docs replaces the generated part of docs/benchmarks.md with this run's report;
//   --quick is a smoke run of the same steps with small sizes (9 minutes at most).
// Output: the report (markdown) on stdout and in bench/results/ or FILE; progress on stderr.
// Bounded: a benchmark still running when its budget ends gets SIGTERM (it stops every process
// it started), then SIGKILL of its process group; the report says which figures are missing.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { loadAverage, machineInfo } from './lib/machine.ts';
import { BENCH_DIR, REPO_ROOT } from './lib/repo.ts';
import {
  duration,
  replaceGeneratedBlock,
  type RunRecord,
  setupLine,
  underLoad,
  utcMinute,
  wrapProse,
} from './lib/report.ts';
import { say } from './lib/say.ts';
import { sourceState } from './lib/source.ts';

/** The files that make up the code measured: a change to any of them is a dirty tree. */
const MEASURED = ['src', 'bench', 'bin', 'package.json', 'package-lock.json'];
const STOP_GRACE_MS = 30_000;
const LOAD_SAMPLE_MS = 5_000;

interface Step {
  id: string;
  title: string;
  /** The npm script of the benchmark, e.g. bench:gateway. */
  script: string;
  /** What the step measures, for the reader of the report. */
  about: string;
  args: string[];
  quickArgs: string[];
  budgetSeconds: number;
  quickBudgetSeconds: number;
}

/** One API server step per storage driver: a driver that runs out of its budget loses only its own figures. */
const apiServerStep = (storage: string, label: string, budgetSeconds: number): Step => ({
  id: `apiserver-${storage}`,
  title: `API server, ${label}`,
  script: 'bench:apiserver',
  about: 'creates, lists, watches and writes (see [below](#api-server--npm-run-benchapiserver))',
  args: ['--storage', storage],
  quickArgs: ['--storage', storage, '--count', '1000', '--watchers', '10', '--updates', '20', '--writes', '100'],
  budgetSeconds,
  quickBudgetSeconds: 60,
});

const GITOPS_ABOUT = 'API server, controller and gateway as processes (see [below](#gitops--npm-run-benchgitops))';

// Budgets: 20 minutes in all, shared out by what each step took on 2 cores at load average 17–22.
const STEPS: Step[] = [
  apiServerStep('memory', 'memory storage', 90),
  apiServerStep('postgres', 'PostgreSQL', 180),
  apiServerStep('pglite', 'PGlite on disk', 190),
  {
    id: 'gateway',
    title: 'Gateway',
    script: 'bench:gateway',
    about: 'the gateway beside its peers and change-to-live (see [below](#gateway--npm-run-benchgateway))',
    args: ['--rounds', '3', '--duration', '5', '--light-duration', '2', '--warmup', '2'],
    quickArgs: [
      '--duration',
      '2',
      '--light-duration',
      '1',
      '--rounds',
      '1',
      '--warmup',
      '1',
      '--apis',
      '500',
      '--changes',
      '20',
    ],
    budgetSeconds: 260,
    quickBudgetSeconds: 150,
  },
  {
    id: 'gitops-push',
    title: 'GitOps: push-to-live in a Sync of 10 APIs',
    script: 'bench:gitops',
    about: GITOPS_ABOUT,
    args: ['--phases', 'push', '--pushes', '20', '--poll-pushes', '0'],
    quickArgs: ['--phases', 'push', '--pushes', '5', '--poll-pushes', '0'],
    budgetSeconds: 70,
    quickBudgetSeconds: 60,
  },
  {
    id: 'gitops-sync',
    title: 'GitOps: one Sync of N objects',
    script: 'bench:gitops',
    about: GITOPS_ABOUT,
    args: ['--phases', 'sync', '--objects', '1000,10000', '--setups', 'separate', '--rounds', '1', '--timeout', '150'],
    quickArgs: ['--phases', 'sync', '--objects', '500', '--setups', 'separate', '--rounds', '1', '--timeout', '60'],
    budgetSeconds: 230,
    quickBudgetSeconds: 90,
  },
  {
    id: 'gitops-push-large',
    title: 'GitOps: push-to-live in a large Sync',
    script: 'bench:gitops',
    about: GITOPS_ABOUT,
    args: ['--phases', 'push', '--push-catalogue', '10000', '--pushes', '5', '--poll-pushes', '0'],
    quickArgs: ['--phases', 'push', '--push-catalogue', '500', '--pushes', '3', '--poll-pushes', '0'],
    budgetSeconds: 180,
    quickBudgetSeconds: 60,
  },
];

const { values } = parseArgs({
  options: {
    docs: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string' },
    'budget-scale': { type: 'string', default: '1' },
  },
});
// On a machine busy with other work a step may need more than its budget: a scale of 2 gives every
// step twice its time (and the whole run up to 40 minutes), so that it finishes and its figures say so.
const budgetScale = Number(values['budget-scale']);
if (!(budgetScale > 0)) throw new Error('--budget-scale must be a positive number');
const budgetOf = (step: Step) => (values.quick ? step.quickBudgetSeconds : step.budgetSeconds) * budgetScale;
const wanted = values.only?.split(',') ?? STEPS.map((s) => s.id);
const unknown = wanted.filter((id) => !STEPS.some((s) => s.id === id));
if (unknown.length) throw new Error(`--only: no step ${unknown.join(', ')} (${STEPS.map((s) => s.id).join(', ')})`);
const steps = STEPS.filter((s) => wanted.includes(s.id));

let running: ChildProcess | undefined;
const onSignal = (signal: NodeJS.Signals) => {
  say(`${signal}: stopping the benchmark that runs`);
  void (running ? stopGroup(running) : Promise.resolve()).finally(() => process.exit(130));
};
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(s, onSignal);

const started = new Date().toISOString();
const host = machineInfo();
const total = steps.reduce((n, s) => n + budgetOf(s), 0);
say(`${steps.length} benchmarks, at most ${duration(total)}; load average ${host.loadAverageAtStart.join(' ')}`);
const sections: string[] = [];
for (const step of steps) sections.push(await runStep(step));
const source = sourceState(MEASURED);
// The command as it reproduces the figures: where the report was written is not part of it.
const argv = process.argv
  .slice(2)
  .filter((arg, i, all) => arg !== '--out' && !arg.startsWith('--out=') && all[i - 1] !== '--out');
const command = ['npm run bench:report', ...(argv.length ? ['--', ...argv] : [])].join(' ');
const took = duration((Date.now() - Date.parse(started)) / 1000);
const busy = underLoad(host.loadAverageAtStart, host.nproc) ? ' (**a busy machine**)' : '';
const head = [
  `Generated by \`${command}\` from ${utcMinute(started)} (${took}),`,
  `node ${host.node}, nproc ${host.nproc}, ${host.cpuModel}, Linux ${host.kernel}; load average at the start`,
  `${host.loadAverageAtStart.join(' / ')}${busy}.`,
  `Each benchmark's own line names its command, start, commit and load. Verdicts are computed by the benchmarks`,
  `on the figures as printed.${values.quick ? ' **A smoke run (--quick): small sizes, not figures to quote.**' : ''}`,
  source.uncommitted.length ? `At the end the tree was dirty (${source.uncommitted.length} files).` : '',
]
  .filter(Boolean)
  .join(' ');
const report = wrapProse(`${head}\n\n${sections.join('\n\n')}\n`);
const out = values.out ?? join(BENCH_DIR, 'results', `report-${started.replace(/[:.]/g, '-')}.md`);
await mkdir(join(out, '..'), { recursive: true });
await writeFile(out, report);
process.stdout.write(report);
say(`report: ${out}`);
if (values.docs) {
  const page = join(REPO_ROOT, 'docs', 'benchmarks.md');
  await writeFile(page, replaceGeneratedBlock(await readFile(page, 'utf8'), report));
  say(`docs/benchmarks.md: the generated part replaced`);
}

async function runStep(step: Step): Promise<string> {
  const args = values.quick ? step.quickArgs : step.args;
  const budget = budgetOf(step);
  const startedAt = new Date().toISOString();
  const loadAtStart = loadAverage();
  let loadPeak = loadAtStart[0];
  const sampler = setInterval(() => (loadPeak = Math.max(loadPeak, loadAverage()[0])), LOAD_SAMPLE_MS);
  const source = sourceState(MEASURED);
  say(`${step.id}: npm run ${step.script} -- ${args.join(' ')} (budget ${duration(budget)})`);
  // Its own process group, so that the budget's end stops whatever it started too.
  const script = join(BENCH_DIR, `${step.script.replace('bench:', '')}.ts`);
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  running = child;
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  let overBudget = false;
  const budgetTimer = setTimeout(() => {
    overBudget = true;
    say(`${step.id}: its ${duration(budget)} budget ended: stopping it`);
    void stopGroup(child);
  }, budget * 1000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('exit', (c, s) => resolve([c, s])),
  );
  clearTimeout(budgetTimer);
  clearInterval(sampler);
  running = undefined;
  const seconds = (Date.now() - Date.parse(startedAt)) / 1000;
  const failure = overBudget
    ? `stopped at the end of its ${duration(budget)} budget`
    : code === 0
      ? undefined
      : `ended with ${signal ?? `exit code ${code}`}`;
  const record: RunRecord = {
    command: `npm run ${step.script} -- ${args.join(' ')}`,
    startedAt,
    seconds,
    source,
    loadAtStart,
    loadPeak: Math.round(loadPeak * 100) / 100,
    nproc: host.nproc,
    failure,
  };
  // The JSON file's path is this machine's, not the page's.
  const tables = stdout
    .split('\n')
    .filter((line) => !line.startsWith('JSON: '))
    .join('\n')
    .trim();
  return `### ${step.title}\n\n${setupLine(record)} Measures ${step.about}.\n\n${tables || '(no figures)'}`;
}

/** SIGTERM to the group (each benchmark stops what it started), then SIGKILL to what is left after a grace period. */
async function stopGroup(child: ChildProcess): Promise<void> {
  const kill = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // the group is gone
    }
  };
  const exited =
    child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, 'exit').then(() => {});
  kill('SIGTERM');
  await Promise.race([exited, sleep(STOP_GRACE_MS, undefined, { ref: false })]);
  kill('SIGKILL');
}
