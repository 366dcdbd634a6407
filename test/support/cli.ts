// Runs the real `gatehouse` command as a child process, as a user runs it.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const SOURCES = new URL('../../src/', import.meta.url).pathname;
const COMPILED = new URL('../../dist/', import.meta.url).pathname;

/** Modification times of the files under `dir` whose names end with `suffix`, tests left out. */
function modified(dir: string, suffix: string): number[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((file) => file.endsWith(suffix) && !file.endsWith(`.test${suffix}`))
    .map((file) => statSync(join(dir, file)).mtimeMs);
}

/** dist/ holds what `npm run build` made of the sources as they are now: no source is newer
 * than the oldest compiled file. A stale build would test code that is no longer there. */
function compiledIsCurrent(): boolean {
  if (!existsSync(join(COMPILED, 'cli', 'main.js'))) return false;
  return Math.max(...modified(SOURCES, '.ts')) <= Math.min(...modified(COMPILED, '.js'));
}

/** dist/ when it is current (`npm test` builds it before the tests run), else undefined. */
export const CURRENT_BUILD: string | undefined = compiledIsCurrent() ? COMPILED : undefined;

/** Node's arguments that run the CLI: the compiled dist/ when it is current (a process starts
 * seconds sooner than through tsx, which compiles every module it loads), else the sources. */
export const GATEHOUSE: readonly string[] = CURRENT_BUILD
  ? [join(CURRENT_BUILD, 'cli', 'main.js')]
  : ['--import', 'tsx', join(SOURCES, 'cli', 'main.ts')];

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `gatehouse ARGS` to its end with `env` added to this process's environment; bounded,
 * so a command that hangs fails the test. */
export function gatehouse(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const options = { env: { ...process.env, ...env }, timeout: 120_000 };
    execFile(process.execPath, [...GATEHOUSE, ...args], options, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Generous: a child compiles the CLI with tsx on a loaded machine before it logs. */
const START_TIMEOUT_MS = 120_000;

export interface GatehouseProcess {
  /** Fields of the log line the process announced itself with. */
  fields: Record<string, unknown>;
  /** SIGTERM (a clean stop) unless it has exited; resolves once it has. */
  stop(): Promise<void>;
  /** SIGKILL: no shutdown at all; resolves once it has exited. */
  kill(): Promise<void>;
}

/** Starts a long-running `gatehouse ARGS` and resolves once it logs `ready` (JSON log lines:
 * stdout is no terminal); rejects with its output if it exits or stays silent first. */
export function startGatehouse(args: string[], ready: string): Promise<GatehouseProcess> {
  const proc = spawn(process.execPath, [...GATEHOUSE, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'info' },
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const signal = async (name: NodeJS.Signals) => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(name);
    await exited;
  };
  const stop = () => signal('SIGTERM');
  return new Promise<GatehouseProcess>((resolve, reject) => {
    let out = '';
    let pending = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`gatehouse ${args[0]} did not log "${ready}" in time: ${out}`));
    }, START_TIMEOUT_MS);
    proc.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      pending += d.toString();
      let newline = pending.indexOf('\n');
      for (; newline >= 0; newline = pending.indexOf('\n')) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        try {
          const fields = JSON.parse(line) as Record<string, unknown>;
          if (fields.msg === ready) {
            clearTimeout(timer);
            resolve({ fields, stop, kill: () => signal('SIGKILL') });
          }
        } catch {
          // not a log line
        }
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`gatehouse ${args[0]} exited: ${out}`));
    });
  });
}

/** `gatehouse apiserver` as one of several replicas: its own data dir `dir/name`, a free port, and what replicas
 * share — the storage, the token file and the serving certificate kept in `dir/tls` (ensureSelfSignedCert). */
export function apiServerReplicaArgs(dir: string, name: string, storage: string, tokenFile: string): string[] {
  const tls = join(dir, 'tls');
  return [
    'apiserver',
    '--storage',
    storage,
    '--data-dir',
    join(dir, name),
    '--port',
    '0',
    '--token-file',
    tokenFile,
    '--tls-cert-file',
    join(tls, 'apiserver.crt'),
    '--tls-private-key-file',
    join(tls, 'apiserver.key'),
  ];
}
