// Runs one system program (git, ssh-keyscan, ssh) with a given environment and a deadline.
// The program gets its own process group, so that on abort the whole group — git and the
// ssh or remote helper it started — is killed, not just git.
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

export interface RunOptions {
  /** The complete environment; nothing of this process's environment is added. */
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Aborting kills the process group. */
  signal: AbortSignal;
  /** Written to stdin, which is then closed; stdin is empty without it. */
  input?: string;
  /** Consumes stdout as a stream (with backpressure) instead of collecting it. A failure
   * of the consumer kills the process and is rethrown. */
  consume?: (stdout: Readable) => Promise<void>;
}

export interface RunResult {
  exitCode: number | null;
  /** Collected stdout ('' with `consume`). */
  stdout: string;
  /** The last 64 KiB of stderr. */
  stderr: string;
  /** The signal aborted the process. */
  aborted: boolean;
}

const STDERR_LIMIT = 64 * 1024;

/** An environment made only of `vars`, PATH (to find the programs) and the C locale (so
 * that messages are the English ones `classify` reads). Nothing else is inherited: no
 * GIT_*, SSH_AUTH_SOCK, proxy or CA settings of the host leak into a command. */
export function programEnv(vars: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', LANGUAGE: '', ...vars };
}

/** Resolves when the process has ended, whatever its exit code; rejects when it cannot be
 * started (ENOENT for a missing program) or when `consume` fails. */
export function run(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  return new Promise<RunResult>((resolve, reject) => {
    if (options.signal.aborted) return resolve({ exitCode: null, stdout: '', stderr: '', aborted: true });
    const child = spawn(file, args, {
      env: options.env,
      cwd: options.cwd,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let aborted = false;
    let consumerError: unknown;
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const onAbort = () => {
      aborted = true;
      killGroup();
    };
    options.signal.addEventListener('abort', onAbort, { once: true });

    const stdout: Buffer[] = [];
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_LIMIT);
    });
    const consumed = options.consume
      ? options.consume(child.stdout).catch((err: unknown) => {
          consumerError = err;
          killGroup();
        })
      : new Promise<void>((done) => {
          child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
          child.stdout.on('end', done);
        });
    child.stdin.on('error', () => {
      // The program may exit without reading its input; its exit code tells what happened.
    });
    child.stdin.end(options.input ?? '');

    child.on('error', (err) => {
      options.signal.removeEventListener('abort', onAbort);
      reject(err);
    });
    child.on('close', (exitCode) => {
      options.signal.removeEventListener('abort', onAbort);
      void consumed.then(() => {
        if (consumerError !== undefined && !aborted) return reject(consumerError);
        resolve({ exitCode, stdout: Buffer.concat(stdout).toString('utf8'), stderr, aborted });
      });
    });
  });
}
