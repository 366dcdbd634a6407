// Which code a benchmark measured: the commit checked out and the source files changed
// since. Figures move with the code, and several people change it at once, so every report
// records this (read-only git commands; no Git repository gives "unknown").
import { execFileSync } from 'node:child_process';
import { REPO_ROOT } from './repo.ts';

export interface SourceState {
  commit: string;
  /** Files under src/ that differ from the commit (modified, added or untracked). */
  uncommittedSrcFiles: string[];
}

export function sourceState(): SourceState {
  // Only the end is trimmed: a porcelain line starts with its two status columns, often a space.
  const git = (args: string[]) =>
    execFileSync('git', ['-C', REPO_ROOT, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trimEnd();
  try {
    const status = git(['status', '--porcelain', '--', 'src']);
    return {
      commit: git(['rev-parse', 'HEAD']),
      uncommittedSrcFiles: status ? status.split('\n').map((line) => line.slice(3)) : [],
    };
  } catch {
    return { commit: 'unknown', uncommittedSrcFiles: [] };
  }
}
