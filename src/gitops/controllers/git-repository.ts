// GitRepository reconciler: resolve the ref on the remote, fetch when it moved, keep the
// tree as an artifact, and report it in status. A failed fetch keeps the previous artifact
// and status.artifact as they were, so nothing downstream is removed or changed; only the
// Ready condition tells what went wrong (the message names the host, the fingerprint
// offered, the ref — never a credential).
//
// An artifact is reproducible from its revision: a replica that lacks the one status.artifact
// names (another replica fetched it before this one took over) fetches that commit again and
// checks it against status.artifact.digest (artifactDir), so artifacts need no shared disk.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { secretKind, type Secret } from '../../api/core/secret/index.ts';
import { parseDuration } from '../../api/duration.ts';
import {
  gitRepositoryKind,
  type ArtifactSignature,
  type GitRepository,
  type GitRepositoryStatus,
} from '../../api/kinds/git-repository/index.ts';
import { findCondition } from '../../api/status.ts';
import { isStatusError } from '../../client/errors.ts';
import type { KubeClient } from '../../client/rest.ts';
import {
  ConditionType,
  type EventRecorder,
  markFailed,
  markReady,
  markStalled,
  TerminalError,
  writeStatus,
  type Reconciler,
  type Request,
  type Result,
  type RuntimeLogger,
} from '../../controller/runtime/index.ts';
import {
  authFromSecretData,
  checkout,
  GitError,
  type CheckoutOptions,
  type GitAuth,
  type GitErrorCode,
} from '../git/index.ts';
import type { Redactor } from '../redact.ts';
import { getOrUndefined } from './read.ts';

/** Condition reasons of GitRepository (a catalogue: tools branch on them). */
export const SourceReason = {
  Succeeded: 'Succeeded',
  GitOperationFailed: 'GitOperationFailed',
  AuthenticationFailed: 'AuthenticationFailed',
  HostKeyMismatch: 'HostKeyMismatch',
  SecretNotFound: 'SecretNotFound',
  InvalidSpec: 'InvalidSpec',
  /** spec.verify: the new revision is unsigned or signed by an untrusted key; the last verified one stays. */
  SourceVerificationFailed: 'SourceVerificationFailed',
} as const;

/** Reasons of the Normal Events of a GitRepository (Warnings carry a SourceReason). */
export const SourceEventReason = {
  /** A new revision (or a changed artifact) is stored. */
  NewArtifact: 'NewArtifact',
  /** Fetching works again after a failure, and the revision did not change meanwhile. */
  Recovered: 'Recovered',
} as const;

const REASON_OF: Partial<Record<GitErrorCode, string>> = {
  AUTH_FAILED: SourceReason.AuthenticationFailed,
  MISSING_CREDENTIALS: SourceReason.AuthenticationFailed,
  INVALID_CREDENTIALS: SourceReason.AuthenticationFailed,
  HOST_KEY_MISMATCH: SourceReason.HostKeyMismatch,
  HOST_KEY_UNKNOWN: SourceReason.HostKeyMismatch,
  INVALID_URL: SourceReason.InvalidSpec,
  INVALID_REF: SourceReason.InvalidSpec,
  VERIFICATION_FAILED: SourceReason.SourceVerificationFailed,
};

export interface GitRepositoryReconcilerDeps {
  client: KubeClient;
  events: EventRecorder;
  redactor: Redactor;
  logger: RuntimeLogger;
  /** Root of every artifact; status.artifact.path is relative to it. */
  dataDir: string;
}

export class GitRepositoryReconciler implements Reconciler {
  constructor(private readonly deps: GitRepositoryReconcilerDeps) {}

  async reconcile(request: Request): Promise<Result | undefined> {
    const { client, events, dataDir } = this.deps;
    // From the server, not the informer: see SyncReconciler.
    const found = await getOrUndefined<GitRepository>(client, gitRepositoryKind, request);
    if (!found || found.metadata.deletionTimestamp) return;
    if (found.spec.suspend) return;
    const repo = structuredClone(found);
    const interval = parseDuration(repo.spec.interval);
    const id = `${request.namespace}/${request.name}`;
    const previous = repo.status?.artifact;
    const readyBefore = findCondition(repo.status, ConditionType.Ready);
    const status: GitRepositoryStatus = structuredClone(repo.status ?? {});
    const target = { ...repo, status };
    const report = async () => {
      const { object } = await writeStatus(client, gitRepositoryKind, repo, status);
      return object ?? target;
    };

    let auth: GitAuth | undefined;
    let verify: CheckoutOptions['verify'];
    try {
      auth = await this.credentials(repo);
      const spec = repo.spec.verify;
      if (spec) {
        const keys = { secret: spec.secretRef.name, data: await this.secretData(repo, spec.secretRef.name, 'verify.') };
        // A revision stored with a signature was verified against this spec's keys or earlier ones: a change of
        // keys is checked at the next revision (Flux does the same).
        verify = { mode: spec.mode, keys, verifiedRevision: previous?.signature ? previous.revision : undefined };
      }
    } catch (err) {
      markFailed(target, SourceReason.SecretNotFound, this.deps.redactor.redact((err as Error).message));
      await report();
      void events.record(repo, 'Warning', SourceReason.SecretNotFound, (err as Error).message);
      throw err;
    }

    const workDir = workDirOf(dataDir, repo);
    try {
      const result = await checkout({
        url: repo.spec.url,
        ref: repo.spec.ref,
        auth,
        timeoutMs: parseDuration(repo.spec.timeout),
        workDir,
        lastRevision: previous?.revision,
        verify,
      });
      const signature = result.signature ?? (verify ? previous?.signature : undefined);
      // A revision whose artifact was on disk was not fetched: what was read when it was fetched stays.
      const { author, subject } = result.commitInfo ?? (previous?.revision === result.revision ? previous : {});
      const signed = signature ? `, signed by ${describeSignature(signature)}` : '';
      if (
        result.changed ||
        !previous ||
        previous.digest !== result.digest ||
        JSON.stringify(previous.signature) !== JSON.stringify(signature)
      ) {
        status.artifact = {
          revision: result.revision,
          digest: result.digest,
          path: relativeTo(dataDir, result.path),
          lastUpdateTime: new Date().toISOString(),
          ...(signature ? { signature } : {}),
          ...(author ? { author } : {}),
          ...(subject ? { subject } : {}),
        };
        const message = `stored artifact for revision ${result.revision}${signed}`;
        void events.record(repo, 'Normal', SourceEventReason.NewArtifact, message);
      } else if (readyBefore?.status === 'False') {
        const message =
          `fetching works again (it failed with ${readyBefore.reason}); ` + `revision ${result.revision} is unchanged`;
        void events.record(repo, 'Normal', SourceEventReason.Recovered, message);
      }
      markReady(target, SourceReason.Succeeded, `stored artifact for revision ${result.revision}${signed}`);
      await report();
      return { requeueAfterMs: interval };
    } catch (err) {
      if (!(err instanceof GitError)) throw err;
      const reason = REASON_OF[err.code] ?? SourceReason.GitOperationFailed;
      const message = this.deps.redactor.redact(err.message);
      if (reason === SourceReason.InvalidSpec) {
        markStalled(target, reason, message);
        await report();
        void events.record(repo, 'Warning', reason, message);
        throw new TerminalError(`GitRepository ${id}: ${message}`);
      }
      markFailed(target, reason, message);
      await report();
      void events.record(repo, 'Warning', reason, message);
      // Poll again at the interval at the latest; the backoff retries sooner.
      throw new Error(`GitRepository ${id}: ${message}`);
    }
  }

  /** The directory of `repo`'s status.artifact, or of an earlier revision `at` (a Sync's rollback), on this
   * replica's disk, fetched again by its commit when this replica lacks it. Throws when it cannot be fetched, or
   * when what was fetched is not the digest recorded. Only the current and the previous artifact are kept, so
   * an earlier revision is reproduced from Git by its sha, not stored. */
  async artifactDir(repo: GitRepository, at?: ArtifactRevision): Promise<string> {
    const artifact = at ?? repo.status?.artifact;
    if (!artifact) throw new Error(`GitRepository ${repo.metadata.namespace}/${repo.metadata.name} has no artifact`);
    const id = `GitRepository ${repo.metadata.namespace}/${repo.metadata.name}`;
    const commit = /sha1:([0-9a-f]{40})$/.exec(artifact.revision)?.[1];
    if (!commit) throw new Error(`${id}: revision "${artifact.revision}" names no commit`);
    const dir = join(workDirOf(this.deps.dataDir, repo), 'artifacts', commit);
    if (
      await stat(dir).then(
        (s) => s.isDirectory(),
        () => false,
      )
    )
      return dir;
    const result = await checkout({
      url: repo.spec.url,
      ref: { commit },
      auth: await this.credentials(repo),
      timeoutMs: parseDuration(repo.spec.timeout),
      workDir: workDirOf(this.deps.dataDir, repo),
      lastRevision: artifact.revision,
    });
    if (artifact.digest && result.digest !== artifact.digest)
      throw new Error(
        `${id}: revision ${artifact.revision} fetched again has digest ${result.digest}, not ${artifact.digest}`,
      );
    return result.path;
  }

  /** The transport credentials from spec.secretRef, remembered for redaction. */
  private async credentials(repo: GitRepository): Promise<GitAuth | undefined> {
    const ref = repo.spec.secretRef;
    if (!ref) return undefined;
    return authFromSecretData(await this.secretData(repo, ref.name, ''), ref.name);
  }

  /** The decoded data of the Secret `name` that spec.`field`secretRef names, remembered for redaction. */
  private async secretData(repo: GitRepository, name: string, field: string): Promise<Record<string, string>> {
    let secret: Secret;
    try {
      secret = await this.deps.client.get<Secret>(secretKind, name, repo.metadata.namespace);
    } catch (err) {
      if (isStatusError(err, 'NotFound'))
        throw new Error(`Secret ${repo.metadata.namespace}/${name} named by spec.${field}secretRef not found`);
      throw err;
    }
    const data: Record<string, string> = {};
    for (const [key, value] of Object.entries(secret.data ?? {})) {
      data[key] = Buffer.from(value, 'base64').toString('utf8');
      this.deps.redactor.remember(data[key]);
    }
    return data;
  }
}

/** A revision whose artifact can be made again: its commit is in the revision, its digest checks the result. */
export interface ArtifactRevision {
  revision: string;
  digest?: string;
}

function describeSignature(signature: ArtifactSignature): string {
  return `${signature.type} key ${signature.key}${signature.signer ? ` (${signature.signer})` : ''}`;
}

function workDirOf(dataDir: string, repo: GitRepository): string {
  return join(dataDir, 'gitrepositories', repo.metadata.namespace ?? 'default', repo.metadata.name ?? '');
}

function relativeTo(root: string, path: string): string {
  return path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
}
