// Runs the real `gatehouse` command as a child process, as a user runs it.
import { execFile } from 'node:child_process';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

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
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], options, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
