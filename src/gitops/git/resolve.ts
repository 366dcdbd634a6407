// The cheap half of a poll: ask the remote with `git ls-remote` (ref advertisement only, no
// objects) which commit spec.ref names now. A pinned commit needs no question at all.
import { GitError } from './errors.ts';
import { describeTarget, parseLsRemote, selectSemverTag, type RefTarget } from './refs.ts';
import type { GitSession } from './session.ts';
import { redactUrl } from './url.ts';

export interface WantedRef {
  /** Branch or tag for the revision; undefined for a bare commit. */
  name: string | undefined;
  /** The commit the remote names now (or the pinned one). */
  commit: string;
  /** The full ref to fetch (`refs/heads/main`, `refs/tags/v1`), or the commit itself. */
  fetch: string;
}

export async function resolveRef(session: GitSession, target: RefTarget): Promise<WantedRef> {
  const url = session.url.url;
  const lsRemote = async (args: string[]) => parseLsRemote(await session.git(['ls-remote', ...args]));
  const notFound = (): never => {
    throw new GitError('REF_NOT_FOUND', `git ls-remote ${redactUrl(url)}: ${describeTarget(target)} not found`);
  };
  switch (target.kind) {
    case 'commit':
      return { name: target.branch, commit: target.commit, fetch: target.commit };
    case 'branch': {
      const ref = `refs/heads/${target.branch}`;
      const commit = (await lsRemote([url, ref])).refs.get(ref) ?? notFound();
      return { name: target.branch, commit, fetch: ref };
    }
    case 'tag': {
      const ref = `refs/tags/${target.tag}`;
      // The `^{}` pattern brings the peeled line: the commit an annotated tag points to.
      const commit = (await lsRemote([url, ref, `${ref}^{}`])).refs.get(ref) ?? notFound();
      return { name: target.tag, commit, fetch: ref };
    }
    case 'semver': {
      const best = selectSemverTag((await lsRemote(['--tags', url])).refs, target.range) ?? notFound();
      return { name: best.tag, commit: best.commit, fetch: `refs/tags/${best.tag}` };
    }
    case 'default': {
      const { refs, symrefs } = await lsRemote(['--symref', url, 'HEAD']);
      const commit = refs.get('HEAD') ?? notFound();
      const head = symrefs.get('HEAD');
      // A remote whose HEAD is detached has no branch to name: the revision says HEAD.
      return head?.startsWith('refs/heads/')
        ? { name: head.slice('refs/heads/'.length), commit, fetch: head }
        : { name: 'HEAD', commit, fetch: 'HEAD' };
    }
  }
}
