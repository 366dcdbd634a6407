// Installs the peers the benchmarks compare with. Debian packages (nginx, wrk) are found
// on PATH (and the sbin directories, where nginx lives), else installed with apt-get when
// running as root; npm packages come from bench/package.json, installed with `npm ci` into
// bench/node_modules (never the root's). Every step is said on stderr; a peer that cannot
// be had is reported and skipped, never fatal.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Processes } from './processes.ts';
import { say } from './say.ts';

export function findCommand(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

let listsUpdated = false;

/** Path of `command`, installing the first of `packages` that apt-get can install if it is missing. */
export async function ensureCommand(
  processes: Processes,
  command: string,
  packages: readonly string[],
): Promise<string | undefined> {
  const found = findCommand(command);
  if (found) return found;
  if (process.getuid?.() !== 0 || !findCommand('apt-get')) {
    say(`${command} is not installed and cannot be installed here (needs root and apt-get); continuing without it`);
    return undefined;
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const pkg of packages) {
    say(`${command} is not installed: apt-get install -y --no-install-recommends ${pkg}`);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await processes.run(`apt-get install ${pkg}`, ['apt-get', 'install', '-y', '--no-install-recommends', pkg], {
          env,
        });
        const path = findCommand(command);
        if (path) return path;
        break;
      } catch (err) {
        // A fresh machine may have no package lists yet: fetch them once and try again.
        if (attempt > 0 || listsUpdated) {
          say(`could not install ${pkg}: ${lastLine(err)}`);
          break;
        }
        say('apt-get update (package lists may be missing or stale)');
        listsUpdated = true;
        await processes
          .run('apt-get update', ['apt-get', 'update'], { env })
          .catch((e: unknown) => say(`apt-get update failed: ${lastLine(e)}`));
      }
    }
  }
  say(`${command} could not be installed; continuing without it`);
  return undefined;
}

/** Whether bench/node_modules holds bench/package.json's dependencies, running `npm ci` when `probe` is missing. */
export async function ensureBenchModules(processes: Processes, benchDir: string, probe: string): Promise<boolean> {
  if (existsSync(join(benchDir, 'node_modules', probe))) return true;
  say(`bench/node_modules has no ${probe}: npm ci in bench/`);
  try {
    await processes.run('npm ci', ['npm', 'ci', '--no-audit', '--no-fund'], { cwd: benchDir });
  } catch (err) {
    say(`npm ci in bench/ failed: ${lastLine(err)}; continuing without the npm peers`);
    return false;
  }
  return existsSync(join(benchDir, 'node_modules', probe));
}

/** First line a command prints about its version (nginx -v and wrk -v print on stderr; wrk then exits 1). */
export function commandVersion(argv: readonly string[]): string {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0];
}

/** Version of a package installed in bench/node_modules. */
export function benchPackageVersion(benchDir: string, name: string): string {
  return (JSON.parse(readFileSync(join(benchDir, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
    .version;
}

function lastLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).trim().split('\n').pop() ?? '';
}
