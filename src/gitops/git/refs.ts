// spec.ref as Flux reads it, and what `git ls-remote` says about it. Pure functions: the
// network part is in resolve.ts.
import semver from 'semver';
import type { GitRepositoryRef } from '../../api/kinds/git-repository/types.ts';
import { GitError } from './errors.ts';

/** What spec.ref asks for, after Flux's precedence: commit, then semver, then tag, then
 * branch; with none of them, the remote's default branch (its HEAD). */
export type RefTarget =
  | { kind: 'commit'; commit: string; branch?: string }
  | { kind: 'semver'; range: string }
  | { kind: 'tag'; tag: string }
  | { kind: 'branch'; branch: string }
  | { kind: 'default' };

/** Throws INVALID_REF naming the spec.ref field. */
export function refTarget(ref: GitRepositoryRef | undefined): RefTarget {
  const fail = (field: string, value: string, reason: string): never => {
    throw new GitError('INVALID_REF', `spec.ref.${field} "${value}": ${reason}`);
  };
  const name = (field: 'branch' | 'tag', value: string): string =>
    isValidRefName(value) ? value : fail(field, value, 'not a valid Git ref name');
  if (ref?.commit) {
    if (!/^[0-9a-f]{40}$/i.test(ref.commit)) fail('commit', ref.commit, 'must be a full 40-character SHA-1');
    const commit = ref.commit.toLowerCase();
    return ref.branch ? { kind: 'commit', commit, branch: name('branch', ref.branch) } : { kind: 'commit', commit };
  }
  if (ref?.semver) {
    if (semver.validRange(ref.semver) === null) fail('semver', ref.semver, 'not a valid SemVer range');
    return { kind: 'semver', range: ref.semver };
  }
  if (ref?.tag) return { kind: 'tag', tag: name('tag', ref.tag) };
  if (ref?.branch) return { kind: 'branch', branch: name('branch', ref.branch) };
  return { kind: 'default' };
}

/** For messages: `branch "main"`, `SemVer range ">=1.0.0"`, … */
export function describeTarget(target: RefTarget): string {
  switch (target.kind) {
    case 'commit':
      return target.branch ? `commit ${target.commit} on branch "${target.branch}"` : `commit ${target.commit}`;
    case 'semver':
      return `a tag matching SemVer range "${target.range}"`;
    case 'tag':
      return `tag "${target.tag}"`;
    case 'branch':
      return `branch "${target.branch}"`;
    case 'default':
      return 'the default branch (HEAD)';
  }
}

/** The rules of `git check-ref-format` for a branch or tag name, plus no leading "-" (it
 * would read as an option). */
export function isValidRefName(name: string): boolean {
  if (
    name === '' ||
    name === '@' ||
    name.startsWith('-') ||
    name.startsWith('/') ||
    name.endsWith('/') ||
    name.endsWith('.')
  )
    return false;
  if (name.includes('..') || name.includes('//') || name.includes('@{')) return false;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: git check-ref-format refuses control characters, space and DEL in a ref name
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return false;
  return name.split('/').every((part) => !part.startsWith('.') && !part.endsWith('.lock'));
}

export interface LsRemote {
  /** Ref name → commit; for annotated tags the commit they point to (the peeled `^{}` line). */
  refs: Map<string, string>;
  /** Symbolic ref → target (`HEAD` → `refs/heads/main`), with `--symref`. */
  symrefs: Map<string, string>;
}

export function parseLsRemote(output: string): LsRemote {
  const refs = new Map<string, string>();
  const peeled = new Map<string, string>();
  const symrefs = new Map<string, string>();
  for (const line of output.split('\n')) {
    const [left, name] = line.split('\t');
    if (!name) continue;
    if (left.startsWith('ref: ')) symrefs.set(name, left.slice('ref: '.length));
    else if (name.endsWith('^{}')) peeled.set(name.slice(0, -3), left);
    else refs.set(name, left);
  }
  for (const [name, sha] of peeled) refs.set(name, sha);
  return { refs, symrefs };
}

/** The tag with the highest version satisfying `range` (tags are SemVer with an optional
 * "v"; prereleases match only ranges that name a prerelease, as in Flux). Ties between
 * tags of equal version ("v1.0.0", "1.0.0") go to the first in byte order. */
export function selectSemverTag(refs: Map<string, string>, range: string): { tag: string; commit: string } | undefined {
  const candidates: { tag: string; version: string; commit: string }[] = [];
  for (const [name, commit] of refs) {
    if (!name.startsWith('refs/tags/')) continue;
    const tag = name.slice('refs/tags/'.length);
    const version = semver.valid(tag);
    if (version && semver.satisfies(version, range)) candidates.push({ tag, version, commit });
  }
  candidates.sort((a, b) => semver.rcompare(a.version, b.version) || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  return candidates[0] && { tag: candidates[0].tag, commit: candidates[0].commit };
}

/** Flux's revision: `<branch or tag>@sha1:<commit>`, or `sha1:<commit>` for a bare commit. */
export function formatRevision(name: string | undefined, commit: string): string {
  return name ? `${name}@sha1:${commit}` : `sha1:${commit}`;
}
