// checkout: make the artifact of the commit a GitRepository's spec names now. The
// GitRepository reconciler calls it every interval with plain inputs (no API objects):
//
//   1. resolve: `git ls-remote` for the wanted ref (nothing for a pinned commit);
//   2. when that commit's artifact is already on disk, stop: nothing is fetched;
//   3. otherwise fetch that one ref (depth 1) into scratch space, verify its signatures
//      (spec.verify; a revision verified before is not checked again), read the commit's author and
//      subject, and write the artifact;
//   4. keep the new artifact and the previous one, delete the rest.
//
// Any failure leaves the existing artifacts as they were. Checkouts of the same workDir
// run one at a time within this process; one process per workDir is the caller's contract.
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ArtifactSignature, GitRepositoryRef } from '../../api/kinds/git-repository/types.ts';
import { artifactPath, collectGarbage, digestDirectory, hasArtifact, markNewest, writeArtifact } from './artifact.ts';
import type { GitAuth } from './credentials.ts';
import { FETCHED, fetchCommit } from './fetch.ts';
import { formatRevision, refTarget } from './refs.ts';
import { resolveRef } from './resolve.ts';
import { withGitSession, type GitSession } from './session.ts';
import { parseGitUrl } from './url.ts';
import { verifySignatures, type VerifyOptions } from './verify.ts';

export interface CheckoutOptions {
  /** spec.url */
  url: string;
  /** spec.ref */
  ref?: GitRepositoryRef;
  /** The Secret of spec.secretRef, decoded; required for ssh. */
  auth?: GitAuth;
  /** spec.timeout: bounds the whole checkout; the processes still running are killed. */
  timeoutMs: number;
  /** This repository's data directory; holds `artifacts/` and, during a fetch, `fetch.git`. */
  workDir: string;
  /** status.artifact.revision from the last success. */
  lastRevision?: string;
  /** spec.verify with its Secret's keys; `verifiedRevision` is a revision already verified (no check again). */
  verify?: VerifyOptions & { verifiedRevision?: string };
}

export interface CheckoutResult {
  /** `<branch>@sha1:<sha>`, `<tag>@sha1:<sha>`, or `sha1:<sha>` for a pinned commit (Flux's form). */
  revision: string;
  commit: string;
  /** `sha256:<hex>` of the artifact (see digestDirectory). */
  digest: string;
  /** Absolute path of the artifact directory, `<workDir>/artifacts/<sha>`. */
  path: string;
  /** The revision differs from lastRevision. */
  changed: boolean;
  /** The signature verified now (with `verify`); undefined when none was checked. */
  signature?: ArtifactSignature;
  /** The commit's author and subject, read when it was fetched now; undefined when it was on disk. */
  commitInfo?: CommitInfo;
}

export interface CommitInfo {
  /** `Name <email>` */
  author: string;
  subject: string;
}

export async function checkout(options: CheckoutOptions): Promise<CheckoutResult> {
  if (!(options.timeoutMs > 0 && Number.isFinite(options.timeoutMs)))
    throw new RangeError(`checkout: timeoutMs must be a positive number of milliseconds, got ${options.timeoutMs}`);
  const url = parseGitUrl(options.url);
  const target = refTarget(options.ref);
  const workDir = resolve(options.workDir);
  return exclusive(workDir, () =>
    withGitSession(url, options.auth, options.timeoutMs, async (session) => {
      const wanted = await resolveRef(session, target);
      let commit = wanted.commit;
      let signature: ArtifactSignature | undefined;
      let commitInfo: CommitInfo | undefined;
      const verify = options.verify;
      const unverified = verify && formatRevision(wanted.name, commit) !== verify.verifiedRevision;
      // A pinned commit on a branch was checked against that branch only if the last
      // revision named both; anything else on disk is the commit's tree and needs no fetch.
      const verified =
        target.kind !== 'commit' || !target.branch || formatRevision(wanted.name, commit) === options.lastRevision;
      if (!verified || unverified || !(await hasArtifact(workDir, commit))) {
        const gitDir = join(workDir, 'fetch.git');
        try {
          // The fetched commit wins over ls-remote's: the branch may have moved in between.
          commit = await fetchCommit(session, gitDir, target, wanted);
          if (verify) {
            const tagged = target.kind === 'tag' || target.kind === 'semver';
            const tag = { tagRef: tagged ? FETCHED : undefined, tagName: `tag "${wanted.name}"` };
            const signal = AbortSignal.timeout(options.timeoutMs);
            signature = await verifySignatures(verify, { gitDir, commit, ...tag }, signal);
          }
          commitInfo = await describeCommit(session, gitDir, commit);
          if (!(await hasArtifact(workDir, commit))) await writeArtifact(session, gitDir, commit, workDir);
        } finally {
          await rm(gitDir, { recursive: true, force: true });
        }
      }
      await markNewest(workDir, commit);
      await collectGarbage(workDir, commit);
      const path = artifactPath(workDir, commit);
      const revision = formatRevision(wanted.name, commit);
      return {
        revision,
        commit,
        digest: await digestDirectory(path),
        path,
        changed: revision !== options.lastRevision,
        ...(signature ? { signature } : {}),
        ...(commitInfo ? { commitInfo } : {}),
      };
    }),
  );
}

async function describeCommit(session: GitSession, gitDir: string, commit: string): Promise<CommitInfo> {
  const out = await session.git(['log', '-1', '--format=%an <%ae>%x00%s', commit], { cwd: gitDir });
  const [author, subject = ''] = out.replace(/\n$/, '').split('\0');
  return { author, subject };
}

const running = new Map<string, Promise<unknown>>();

/** Runs `fn` after every earlier call for the same key has settled. */
async function exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const current = (running.get(key) ?? Promise.resolve()).catch(() => undefined).then(fn);
  running.set(key, current);
  try {
    return await current;
  } finally {
    if (running.get(key) === current) running.delete(key);
  }
}
