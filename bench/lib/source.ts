// Which code a benchmark measured: the commit checked out and the files changed since.
// Figures move with the code, and several people change it at once, so every report
// records this (read-only git commands; no Git repository gives "unknown").
import { execFileSync } from 'node:child_process';
import { REPO_ROOT } from './repo.ts';

export interface SourceState {
  commit: string;
  /** The commit as `git rev-parse --short` names it. */
  short: string;
  /** Files under the given paths that differ from the commit (modified, added or untracked). */
  uncommitted: string[];
}

/** The commit of `root` and what differs from it under `paths` (a dirty tree measures code no commit holds). */
export function sourceState(paths: readonly string[] = ['src'], root = REPO_ROOT): SourceState {
  // Only the end is trimmed: a porcelain line starts with its two status columns, often a space.
  const git = (args: string[]) =>
    execFileSync('git', ['-C', root, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trimEnd();
  try {
    const status = git(['status', '--porcelain', '--', ...paths]);
    return {
      commit: git(['rev-parse', 'HEAD']),
      short: git(['rev-parse', '--short', 'HEAD']),
      uncommitted: status ? status.split('\n').map((line) => line.slice(3)) : [],
    };
  } catch {
    return { commit: 'unknown', short: 'unknown', uncommitted: [] };
  }
}
