// CLI start times, the TypeScript sources through tsx against the build in dist/ (`npm run build`): how long
// `gatehouse --help` takes to exit, and `gatehouse up` to print "Gatehouse is up" on a data directory made by a
// first, unmeasured start (so PGlite's database creation is not counted). Each round runs every variant once,
// alternating, and the report gives the median and range over rounds.
// Usage: npx tsx bench/cli-start.ts [--rounds 10]
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { machineInfo, loadAverage } from './lib/machine.ts';
import { median } from './lib/stats.ts';
import { fixed, markdownTable } from './lib/table.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '10' } } });
const ROUNDS = Number(values.rounds);
const ROOT = new URL('../', import.meta.url).pathname;
// Inside the checkout, so the build resolves its dependencies from the checkout's node_modules.
await mkdir(join(ROOT, '.tmp'), { recursive: true });
const scratch = await mkdtemp(join(ROOT, '.tmp', 'cli-start-'));
const DIST = join(scratch, 'dist');

const VARIANTS: Record<string, string[]> = {
  tsx: ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')],
  dist: [join(DIST, 'cli/main.js')],
};

/** Milliseconds from spawn to exit, or to the first output matching `until` (then the process is stopped). */
function timed(args: string[], until?: RegExp): Promise<number> {
  const started = performance.now();
  const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (until?.test(out)) {
        resolve(performance.now() - started);
        proc.kill('SIGTERM');
      }
    });
    proc.once('exit', (code) => {
      if (!until && code === 0) resolve(performance.now() - started);
      else reject(new Error(`${args.join(' ')} exited with ${code}: ${out}`));
    });
  }).finally(() => (proc.exitCode === null ? new Promise((r) => proc.once('exit', r)) : undefined)) as Promise<number>;
}

await new Promise<void>((resolve, reject) =>
  spawn(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', DIST],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  ).once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tsc exited with ${code}`)))),
);
const ports = ['--api-port', '0', '--gateway-port', '0', '--gateway-internal-port', '0', '--hook-port', '0'];
const upArgs = (variant: string) => ['up', '--data-dir', join(scratch, `data-${variant}`), ...ports];
const READY = /Gatehouse is up\./;
for (const variant of Object.keys(VARIANTS)) await timed([...VARIANTS[variant], ...upArgs(variant)], READY);

const machine = machineInfo();
const samples: Record<string, number[]> = {};
const record = (name: string, ms: number) => (samples[name] ??= []).push(ms);
for (let round = 0; round < ROUNDS; round++) {
  for (const [variant, command] of Object.entries(VARIANTS)) {
    record(`gatehouse --help (${variant})`, await timed([...command, '--help']));
    record(`gatehouse up to ready (${variant})`, await timed([...command, ...upArgs(variant)], READY));
  }
}
await rm(scratch, { recursive: true, force: true });

const rows = Object.entries(samples).map(([name, ms]) => [
  name,
  fixed(median(ms), 0),
  `${fixed(Math.min(...ms), 0)}–${fixed(Math.max(...ms), 0)}`,
]);
console.log(markdownTable(['command', 'median ms', 'range ms'], rows));
console.log(`\n${ROUNDS} rounds; ${machine.nproc} CPUs (${machine.cpuModel}), Node ${machine.node}`);
console.log(`load average at start ${machine.loadAverageAtStart.join(' ')}, at end ${loadAverage().join(' ')}`);
