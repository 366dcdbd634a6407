// The child processes and temporary directories of one benchmark run, undone at the end
// whatever happens: on success, on a thrown error, and on SIGINT/SIGTERM/SIGHUP (then the
// run exits with 128 + the signal number). Children get SIGTERM, and SIGKILL if they are
// still there after a grace period. Only a SIGKILL of the benchmark itself leaves them.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';

const GRACE_MS = 10_000;
const TAIL_LINES = 30;

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Set once the process has exited (code or signal name). */
  exitedWith?: string;
  /** The last lines it wrote to stdout/stderr, for error messages. */
  tail(): string;
}

export interface StartOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Where stdout goes: 'pipe' (kept as a tail, the default), 'ignore', or an open file descriptor. */
  stdout?: 'pipe' | 'ignore' | number;
  /** Where stderr goes: 'pipe' (kept as a tail, the default) or 'inherit' (this terminal). */
  stderr?: 'pipe' | 'inherit';
}

export class Processes {
  private readonly children = new Set<Child>();
  private readonly dirs = new Set<string>();
  /** Set when a signal is stopping the run. */
  interrupted = false;

  /** Starts `argv` (command first) and keeps it until stop() or stopAll(). */
  start(name: string, argv: readonly string[], options: StartOptions = {}): Child {
    const stdio: StdioOptions = ['ignore', options.stdout ?? 'pipe', options.stderr ?? 'pipe'];
    const proc = spawn(argv[0], argv.slice(1), { cwd: options.cwd, env: options.env, stdio });
    if (proc.pid === undefined) throw new Error(`could not start ${name} (${argv[0]})`);
    const lines: string[] = [];
    const keep = (chunk: Buffer) => {
      lines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((l) => l !== ''),
      );
      if (lines.length > TAIL_LINES) lines.splice(0, lines.length - TAIL_LINES);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    const child: Child = { name, proc, pid: proc.pid, tail: () => lines.join('\n') };
    proc.once('exit', (code, signal) => {
      child.exitedWith = signal ?? `exit code ${code}`;
    });
    this.children.add(child);
    return child;
  }

  /** Runs `argv` to completion and resolves with its stdout; rejects on a non-zero exit. */
  async run(name: string, argv: readonly string[], options: Omit<StartOptions, 'stdout'> = {}): Promise<string> {
    const child = this.start(name, argv, options);
    let out = '';
    child.proc.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    const [code, signal] = await exitOf(child.proc);
    this.children.delete(child);
    if (code !== 0) throw new Error(`${name} ended with ${signal ?? `exit code ${code}`}:\n${child.tail()}`);
    return out;
  }

  async tempDir(prefix: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    this.dirs.add(dir);
    return dir;
  }

  /** Throws when a child that should be serving has died, naming it and its last output. */
  assertAlive(...children: Child[]): void {
    for (const c of children)
      if (c.exitedWith) throw new Error(`${c.name} (pid ${c.pid}) died: ${c.exitedWith}\n${c.tail()}`);
  }

  async stop(child: Child): Promise<void> {
    this.children.delete(child);
    if (child.exitedWith) return;
    const exited = exitOf(child.proc);
    child.proc.kill('SIGTERM');
    const killer = setTimeout(() => child.proc.kill('SIGKILL'), GRACE_MS);
    await exited;
    clearTimeout(killer);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.children].map((c) => this.stop(c)));
    await Promise.all([...this.dirs].map((d) => rm(d, { recursive: true, force: true })));
    this.dirs.clear();
  }
}

/** Runs `body` with a Processes whose children and directories are cleaned up however it ends. */
export async function withProcesses<T>(body: (processes: Processes) => Promise<T>): Promise<T> {
  const processes = new Processes();
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const onSignal = (signal: (typeof signals)[number]) => {
    processes.interrupted = true;
    process.stderr.write(`\n${signal}: stopping every process the benchmark started\n`);
    void processes.stopAll().finally(() => process.exit(128 + constants.signals[signal]));
  };
  for (const s of signals) process.once(s, onSignal);
  try {
    return await body(processes);
  } catch (err) {
    // After a signal, failures are the consequence of stopping the children: the signal
    // handler exits once everything is stopped, so wait for that instead of reporting them.
    if (processes.interrupted) await new Promise<never>(() => {});
    throw err;
  } finally {
    for (const s of signals) process.off(s, onSignal);
    await processes.stopAll();
  }
}

function exitOf(proc: ChildProcess): Promise<[number | null, NodeJS.Signals | null]> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve([proc.exitCode, proc.signalCode]);
  return new Promise((resolve) => proc.once('exit', (code, signal) => resolve([code, signal])));
}

/** Resolves with the first match of `pattern` in the child's stdout; rejects when it exits first or `timeoutMs` passes. */
export function waitForOutput(child: Child, pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const m = pattern.exec(seen);
      if (m) finish(() => resolve(m));
    };
    const onExit = () =>
      finish(() =>
        reject(
          new Error(
            `${child.name} exited (${child.exitedWith ?? 'unknown'}) before printing ${pattern}:\n${child.tail()}`,
          ),
        ),
      );
    const timer = setTimeout(
      () =>
        finish(() => reject(new Error(`${child.name} printed no ${pattern} within ${timeoutMs} ms:\n${child.tail()}`))),
      timeoutMs,
    );
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      child.proc.stdout?.off('data', onData);
      child.proc.off('exit', onExit);
      settle();
    };
    child.proc.stdout?.on('data', onData);
    child.proc.once('exit', onExit);
  });
}
