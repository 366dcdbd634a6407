// The expensive half: bring one commit's objects into a fresh bare repository. A ref is
// fetched shallowly (depth 1). The repository is scratch space for one checkout, not a
// cache: a shallow fetch of one ref gains little from earlier objects, and a throwaway
// repository never carries stale lock files or shallow boundaries into the next poll.
import { rm } from 'node:fs/promises';
import { GitError, isGitError } from './errors.ts';
import { describeTarget, type RefTarget } from './refs.ts';
import type { WantedRef } from './resolve.ts';
import type { GitSession } from './session.ts';
import { redactUrl } from './url.ts';

/** The ref a branch or tag is fetched to: for an annotated tag, the tag object itself. */
export const FETCHED = 'refs/gatehouse/fetched';

/** Fetches `wanted` into a new bare repository at `gitDir`; resolves with the commit
 * fetched, which for a branch may be newer than the one ls-remote saw. */
export async function fetchCommit(
  session: GitSession,
  gitDir: string,
  target: RefTarget,
  wanted: WantedRef,
): Promise<string> {
  await rm(gitDir, { recursive: true, force: true });
  await session.git(['init', '--quiet', '--bare', gitDir]);
  const url = session.url.url;
  const ref = describeTarget(target);
  const inRepo = { cwd: gitDir };
  const fetch = (args: string[]) =>
    session.git(['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', ...args], { ...inRepo, ref });
  const notFound = (): never => {
    throw new GitError('REF_NOT_FOUND', `git fetch ${redactUrl(url)}: ${ref} not found`);
  };

  if (target.kind !== 'commit') {
    await fetch(['--depth=1', url, `+${wanted.fetch}:${FETCHED}`]);
    return (await session.git(['rev-parse', '--verify', `${FETCHED}^{commit}`], inRepo)).trim();
  }
  if (target.branch) {
    // The commit must be on the branch (Flux's rule): fetch the branch's history and look.
    await fetch([url, `+refs/heads/${target.branch}:${FETCHED}`]);
    if (!(await session.succeeds(['merge-base', '--is-ancestor', target.commit, FETCHED], inRepo))) notFound();
    return target.commit;
  }
  try {
    await fetch(['--depth=1', url, target.commit]);
  } catch (err) {
    if (!isGitError(err, 'REF_NOT_FOUND')) throw err;
    // Servers without protocol v2 refuse a want for an object no ref advertises; every
    // branch and tag, fetched in full, holds it if it is reachable at all.
    await fetch([url, '+refs/heads/*:refs/gatehouse/heads/*', '+refs/tags/*:refs/gatehouse/tags/*']);
  }
  if (!(await session.succeeds(['cat-file', '-e', `${target.commit}^{commit}`], inRepo))) notFound();
  return target.commit;
}
