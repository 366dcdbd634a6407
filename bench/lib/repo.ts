// Where the repository is, and how benchmarks start the real `gatehouse` CLI from it: the
// same entry point `npm run gatehouse` uses, as a plain node process so that its pid is the
// process whose CPU time is measured.
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BENCH_DIR = fileURLToPath(new URL('../', import.meta.url));

/** argv of `gatehouse <args…>`, to run with cwd REPO_ROOT; `nodeFlags` are for node itself (e.g. --cpu-prof). */
export function gatehouseArgv(args: readonly string[], nodeFlags: readonly string[] = []): string[] {
  return [
    process.execPath,
    ...nodeFlags,
    '--import',
    'tsx',
    fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url)),
    ...args,
  ];
}
