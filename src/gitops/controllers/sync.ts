// Sync reconciler, one readable walk (Flux's kustomize-controller shape): get the Sync,
// find its source's artifact, build the manifests, validate all of them with a dry run,
// apply what drifted, prune what left Git, and record the outcome in status and Events.
// A revision that does not build or validate applies nothing and keeps the last good state
// serving; Ready=False names the file, object and field. Hand edits of owned objects reach
// this reconciler through watches on them, so drift is undone within a second or two, and
// an Event says what drifted.
//
// A Sync with spec.serviceAccountName is applied, pruned and diffed as that ServiceAccount of its namespace,
// by impersonation (Flux's field): it changes only what the account may change, and a refusal is
// Ready=False AccessDenied naming the 403. Without it, the controller's own identity applies.
//
// A Sync with spec.kubeConfig applies, prunes and diffs in the cluster its kubeconfig Secret describes (targets.ts);
// its status and Events stay here. spec.dependsOn and spec.promotion hold a revision back until other Syncs are Ready,
// or have run it healthy for a while (environments.ts).
//
// A Sync carries a finalizer: deleting a Sync with `prune: true` first deletes the objects of
// its inventory that still carry its labels (Flux's garbage collection), then lets the Sync
// go. With `prune: false`, or while suspended, its objects are left in place.
import { parseDuration } from '../../api/duration.ts';
import { selfSubjectReviewKind } from '../../api/authentication/kinds.ts';
import type { SelfSubjectReview } from '../../api/authentication/types.ts';
import { gitRepositoryKind, type ArtifactSignature, type GitRepository } from '../../api/kinds/git-repository/index.ts';
import type { KubeObject } from '../../api/kind.ts';
import type { RollbackBody } from '../../api/kinds/subresource-request/index.ts';
import { findCondition } from '../../api/status.ts';
import {
  OVERRIDE_REASON_ANNOTATION,
  syncKind,
  type InventoryEntry,
  type Sync,
  type SyncHistoryEntry,
  type SyncOverride,
  type SyncRollback,
  type SyncStatus,
} from '../../api/kinds/sync/index.ts';
import { serviceAccountUsername } from '../../api/core/service-account/names.ts';
import { isStatusError } from '../../client/errors.ts';
import type { KubeClient } from '../../client/rest.ts';
import {
  type EventRecorder,
  markFailed,
  markReady,
  markReconciling,
  REVISION_ANNOTATION,
  SubresourceRefusal,
  writeStatus,
  type Reconciler,
  type Request,
  type Result,
  type RuntimeLogger,
} from '../../controller/runtime/index.ts';
import type { Redactor } from '../redact.ts';
import { AppliedRecords, driftedManifests } from './applied.ts';
import type { ArtifactRevision } from './git-repository.ts';
import { awaitErrorRate } from './error-rate.ts';
import { awaitHealthy, checkedApis } from './health.ts';
import { describeRollback, holds, lastHealthy, rollbackTarget } from './rollback.ts';
import { GateReason, gateOf, recordHealth } from './environments.ts';
import { getOrUndefined } from './read.ts';
import { SyncTargets, TargetError, type Target } from './targets.ts';
import {
  applySet,
  build,
  BuildError,
  describeObject,
  diffSet,
  ParsedTexts,
  ValidationError,
  type ChangeSet,
  type Manifest,
  type ObjectDiff,
  type SkippedObject,
} from '../sync/index.ts';

/** Condition reasons of Sync (a catalogue: tools branch on them). */
export const SyncReason = {
  ReconciliationSucceeded: 'ReconciliationSucceeded',
  Progressing: 'Progressing',
  SourceNotFound: 'SourceNotFound',
  ArtifactNotReady: 'ArtifactNotReady',
  BuildFailed: 'BuildFailed',
  ValidationFailed: 'ValidationFailed',
  ApplyFailed: 'ApplyFailed',
  DriftCorrected: 'DriftCorrected',
  GarbageCollected: 'GarbageCollected',
  GarbageCollectionFailed: 'GarbageCollectionFailed',
  AccessDenied: 'AccessDenied',
  /** spec.kubeConfig's Secret or key is missing, or its kubeconfig is refused (a plugin, a file). */
  KubeConfigFailed: 'KubeConfigFailed',
  ...GateReason,
  Overridden: 'Overridden',
  /** Applied; waiting for the health checks of spec.wait or spec.healthChecks, then spec.rollback's window. */
  HealthCheckPending: 'HealthCheckPending',
  /** The applied revision's APIs were not healthy within spec.timeout, or answered too many 5xx in
   * spec.rollback.window (and there was nothing to roll back to). */
  HealthCheckFailed: 'HealthCheckFailed',
  /** Holding an earlier revision of status.history (status.rolledBackTo). */
  RolledBack: 'RolledBack',
  /** A newer source revision or a resume ended a rollback. */
  RollbackEnded: 'RollbackEnded',
} as const;

/** Held on every Sync this controller reconciles, until its objects are dealt with on deletion. */
export const SYNC_FINALIZER = 'gatehouse.dev/sync';

/** status.history keeps this many entries, newest first. */
export const HISTORY_LIMIT = 10;

export interface SyncReconcilerDeps {
  client: KubeClient;
  events: EventRecorder;
  redactor: Redactor;
  logger: RuntimeLogger;
  /** The directory of a GitRepository's status.artifact, or of an earlier revision `at`, on this replica's disk
   * (fetched by its commit when it lacks it). */
  artifact(repo: GitRepository, at?: ArtifactRevision): Promise<string>;
  /** An owned object as the controller's watch cache holds it, by inventory id. */
  live(id: string): KubeObject | undefined;
}

export interface SyncDiff {
  kind: 'SyncDiff';
  apiVersion: 'gatehouse.dev/v1alpha1';
  revision?: string;
  objects: ObjectDiff[];
}

/** What a reconcile needs from the source, or why it cannot go on. `rollback` is set when the revision is the
 * one a rollback holds the Sync on, instead of the source's. */
type SourceState =
  | {
      ok: true;
      revision: string;
      digest?: string;
      signature?: ArtifactSignature;
      dir: string;
      rollback?: SyncRollback;
      /** The source's own revision (the held one's `from` during a rollback). */
      sourceRevision: string;
    }
  | { ok: false; reason: string; message: string };

export class SyncReconciler implements Reconciler {
  private readonly applied = new AppliedRecords();
  /** Per Sync, what its last build parsed: the next build parses only the files that changed. */
  private readonly parses = new Map<string, ParsedTexts>();
  private readonly targets: SyncTargets;
  /** The user the controller's own requests authenticate as, once asked. */
  private identity: string | undefined;

  constructor(private readonly deps: SyncReconcilerDeps) {
    this.targets = new SyncTargets(deps.client, deps.redactor);
  }

  /** Closes the connections to the clusters of spec.kubeConfig. */
  close(): Promise<void> {
    return this.targets.close();
  }

  async reconcile(request: Request): Promise<Result | undefined> {
    const { client, events } = this.deps;
    // Read from the server, not the informer: the cache may not hold this reconciler's own
    // last status write yet, and a status computed from it would undo that write.
    let found = await getOrUndefined<Sync>(client, syncKind, request);
    if (!found) this.applied.forget(`${request.namespace}/${request.name}`);
    if (!found) this.parses.delete(`${request.namespace}/${request.name}`);
    if (!found) await this.targets.forget(`${request.namespace}/${request.name}`);
    if (!found) return;
    if (found.metadata.deletionTimestamp) {
      await this.finalize(found);
      return;
    }
    if (!found.metadata.finalizers?.includes(SYNC_FINALIZER)) {
      // The resourceVersion makes this a compare-and-swap: a concurrent edit means a retry.
      found = await client.patch<Sync>(
        syncKind,
        found.metadata.name!,
        {
          metadata: {
            resourceVersion: found.metadata.resourceVersion,
            finalizers: [...(found.metadata.finalizers ?? []), SYNC_FINALIZER],
          },
        },
        'merge',
        found.metadata.namespace,
      );
    }
    if (found.spec.suspend) return;
    const sync = structuredClone(found);
    const status: SyncStatus = structuredClone(sync.status ?? {});
    const target = { ...sync, status };
    const interval = { requeueAfterMs: parseDuration(sync.spec.interval) };
    // The entry this reconcile adds to status.history, added again onto the stored history when a status write
    // conflicts: entries another replica wrote meanwhile stay, and a no-op after its apply adds none.
    let added: NewHistoryEntry | undefined;
    const addHistory = (entry: SyncHistoryEntry, changed: boolean | undefined) => {
      added = { entry, changed };
      status.history = withHistory(status.history, added);
    };
    // A rollback recorded by the rollback or resume subresource meanwhile stays, unless this reconcile ended it.
    const rollbackRead = sync.status?.rolledBackTo;
    const report = () =>
      writeStatus(client, syncKind, sync, recordHealth(status, new Date()), (stored) => ({
        ...status,
        history: withHistory(stored?.history, added),
        rolledBackTo: status.rolledBackTo === rollbackRead ? stored?.rolledBackTo : status.rolledBackTo,
      }));

    // 1. The source's artifact, or the earlier revision a rollback holds the Sync on.
    const source = await this.source(sync);
    if (!source.ok) {
      markFailed(target, source.reason, source.message);
      await report();
      return interval;
    }
    if (status.rolledBackTo && !source.rollback) {
      const over = `revision ${source.revision} arrived: the rollback to ${status.rolledBackTo.revision} is over`;
      void events.record(sync, 'Normal', SyncReason.RollbackEnded, over);
      delete status.rolledBackTo;
    }
    // What must hold first: the Syncs of spec.dependsOn Ready (every time, as Flux), and a new revision run healthy
    // long enough by the Sync of spec.promotion. A Sync that waits applies nothing; its last revision keeps serving.
    // A rollback is not held back: it returns to a revision this Sync ran before.
    const readSync = (ref: Request) => getOrUndefined<Sync>(client, syncKind, ref);
    const gate = source.rollback ? undefined : await gateOf(sync, source.revision, readSync, Date.now());
    if (gate) {
      markFailed(target, gate.reason, gate.message);
      await report();
      return { requeueAfterMs: Math.min(gate.requeueAfterMs, interval.requeueAfterMs) };
    }
    const firstAttempt = status.lastAttemptedRevision !== source.revision;
    status.lastAttemptedRevision = source.revision;
    // Events about a revision name it in an annotation: a notification sets that commit's status from them.
    const aboutRevision = { [REVISION_ANNOTATION]: source.revision };
    if (firstAttempt) {
      markReconciling(target, SyncReason.Progressing, `applying revision ${source.revision}`);
      void events.record(sync, 'Normal', SyncReason.Progressing, `applying revision ${source.revision}`, aboutRevision);
    }
    // The API server's GitOps lock lets through the writes of status.appliedBy only: recorded before any write.
    const appliedBy = await this.writerOf(sync);
    const newWriter = status.appliedBy !== appliedBy;
    status.appliedBy = appliedBy;
    if (firstAttempt || newWriter) await report();

    // 2. Build, then validate and apply; a bad revision applies nothing. The same revision
    // again re-applies only what someone else changed since (drift).
    let changes: ChangeSet;
    const key = `${request.namespace}/${request.name}`;
    let destination: Target;
    try {
      destination = await this.targets.of(sync);
    } catch (err) {
      if (!(err instanceof TargetError)) throw err;
      const message = this.deps.redactor.redact(err.message);
      markFailed(target, SyncReason.KubeConfigFailed, message);
      await report();
      void events.record(sync, 'Warning', SyncReason.KubeConfigFailed, message);
      // Retried when the Secret changes (a watch) or at the interval.
      return interval;
    }
    const applier = applierOf(destination.client, sync);
    const where = destination.remote ? ` on ${destination.remote}` : '';
    try {
      const build = buildKey(sync);
      // The drift watches see this API server only: a remote target's drift is found by the full apply's dry run.
      const record =
        status.lastAppliedRevision === source.revision && !destination.remote
          ? this.applied.match(key, source.revision, build)
          : undefined;
      const cached = destination.remote ? undefined : this.deps.live;
      if (record) {
        const drifted = driftedManifests(record, this.deps.live, ownerOf(sync));
        const owner = ownerOf(sync);
        const partial = drifted.length ? await applySet(applier, drifted, { owner, prune: false, cached }) : undefined;
        if (partial) this.applied.update(record, partial);
        changes = withUnchanged(partial, record.manifests.length - drifted.length, status.inventory?.entries ?? []);
      } else {
        let parsed = this.parses.get(key);
        if (!parsed) this.parses.set(key, (parsed = new ParsedTexts()));
        const manifests = await this.build(sync, source.dir, parsed);
        const previousInventory = status.inventory?.entries ?? [];
        const options = { owner: ownerOf(sync), previousInventory, prune: sync.spec.prune, cached };
        changes = await applySet(applier, manifests, options);
        this.applied.record(key, source.revision, build, manifests, changes);
      }
    } catch (err) {
      const refused = accessDenied(err);
      const reason = refused
        ? SyncReason.AccessDenied
        : err instanceof BuildError
          ? SyncReason.BuildFailed
          : err instanceof ValidationError
            ? SyncReason.ValidationFailed
            : SyncReason.ApplyFailed;
      const what =
        refused === 'Unauthorized'
          ? "the API server answered 401 Unauthorized: it does not accept the kubeconfig's credentials"
          : (err as Error).message;
      const message = this.deps.redactor.redact(`revision ${source.revision}${where}: ${what}`);
      markFailed(target, reason, message);
      addHistory(
        {
          revision: source.revision,
          digest: source.digest,
          time: new Date().toISOString(),
          status: 'Failed',
          message: firstLine(message),
        },
        undefined,
      );
      await report();
      void events.record(sync, 'Warning', reason, message, aboutRevision);
      // A revision that does not build or validate, or that the identity applying may not write, will not get
      // better by retrying; the source's next revision (a watch) or the interval brings the next attempt.
      if (reason === SyncReason.ApplyFailed) throw err;
      return interval;
    }

    // 3. Record the outcome.
    const { created, configured, deleted } = changes.counts;
    const changed = created + configured + deleted > 0;
    if (changed && status.lastAppliedRevision === source.revision) {
      // Git did not move, yet objects had to be written: someone edited or deleted them.
      void events.record(sync, 'Warning', SyncReason.DriftCorrected, `drift corrected: ${describeChanges(changes)}`);
    } else if (source.rollback && status.lastAppliedRevision !== source.revision) {
      const { rollback } = source;
      const message = `rolled back to ${rollback.revision} from ${rollback.from}: ${rollback.reason}`;
      void events.record(sync, 'Warning', SyncReason.RolledBack, message, { [REVISION_ANNOTATION]: rollback.from });
    } else if (changed || status.lastAppliedRevision !== source.revision) {
      // A new revision is reported even when it changed no object: its commit status turns to success.
      void events.record(
        sync,
        'Normal',
        SyncReason.ReconciliationSucceeded,
        `applied revision ${source.revision}: ${describeCounts(changes)}`,
        aboutRevision,
      );
    }
    const overrides = changes.overridden.map(overrideOf);
    for (const o of overrides.filter((o) => !status.overrides?.some((known) => sameOverride(known, o)))) {
      const until = `it is left alone until its ${OVERRIDE_REASON_ANNOTATION} annotation is removed`;
      const message = `${describeObject(o)} was changed by hand (${o.reason}); ${until}`;
      void events.record(sync, 'Warning', SyncReason.Overridden, message);
    }
    if (overrides.length) status.overrides = overrides;
    else delete status.overrides;
    const newRevision = status.lastAppliedRevision !== source.revision;
    status.lastAppliedRevision = source.revision;
    status.inventory = { entries: changes.inventory };
    const entry: SyncHistoryEntry = {
      revision: source.revision,
      digest: source.digest,
      time: new Date().toISOString(),
      status: source.rollback ? 'RolledBack' : 'Succeeded',
      message: source.rollback ? `${source.rollback.reason} (${describeCounts(changes)})` : describeCounts(changes),
      ...changes.counts,
      ...(source.signature ? { signature: source.signature } : {}),
    };

    // 4. Health checks of a newly applied revision (a rollback's is not checked: it was healthy before), then
    // with spec.rollback its 5xx share for the window; when they fail, the last healthy revision is held
    // instead, and this revision is not tried again. The reconcile waits for both: timeout + window at most.
    const checked = newRevision && !source.rollback ? checkedApis(sync, changes) : [];
    if (checked.length) {
      const timeout = sync.spec.timeout ?? sync.spec.interval;
      markReconciling(
        target,
        SyncReason.HealthCheckPending,
        `revision ${source.revision}: waiting ${timeout} for ${checked.length} APIs to be healthy`,
      );
      await report();
      const run = { sync, status, target, addHistory, report };
      const problem = await awaitHealthy(checked, this.deps.live, parseDuration(timeout));
      if (problem) return this.rollBack(request, run, entry, `failed its health checks within ${timeout}: ${problem}`);
      const policy = sync.spec.rollback;
      if (policy) {
        const watching = `healthy; watching the 5xx share of ${checked.length} APIs for ${policy.window}`;
        markReconciling(target, SyncReason.HealthCheckPending, `revision ${source.revision}: ${watching}`);
        await report();
        const excess = await awaitErrorRate(checked, this.deps.live, policy);
        if (excess) return this.rollBack(request, run, entry, excess);
      }
    }

    addHistory(entry, changed);
    const left = overrides.map((o) => `${describeObject(o)} (${o.reason})`).join(', ');
    const overridden = left ? `; overridden by hand, left alone: ${left}` : '';
    if (source.rollback?.automatic)
      markFailed(target, SyncReason.RolledBack, describeRollback(source.rollback, sync.metadata.name!));
    else if (source.rollback)
      markReady(target, SyncReason.RolledBack, describeRollback(source.rollback, sync.metadata.name!));
    else markReady(target, SyncReason.ReconciliationSucceeded, `applied revision ${source.revision}${overridden}`);
    await report();
    return interval;
  }

  /** A revision failed its health checks or its error-rate analysis (`failure` says how): records why, holds the
   * Sync on the last healthy revision of its history and reconciles again, which applies that one. Without an
   * earlier healthy revision it stays Ready=False. */
  private async rollBack(
    request: Request,
    run: ReconcileRun,
    entry: SyncHistoryEntry,
    failure: string,
  ): Promise<Result | undefined> {
    const { sync, status, target, addHistory, report } = run;
    const reason = `revision ${entry.revision} ${failure}`;
    const previous = lastHealthy(status.history ?? [], entry.revision);
    addHistory({ ...entry, status: 'Failed', message: reason }, undefined);
    void this.deps.events.record(sync, 'Warning', SyncReason.HealthCheckFailed, reason, {
      [REVISION_ANNOTATION]: entry.revision,
    });
    if (!previous) {
      markFailed(target, SyncReason.HealthCheckFailed, `${reason}; no earlier healthy revision to roll back to`);
      await report();
      return { requeueAfterMs: parseDuration(sync.spec.interval) };
    }
    status.rolledBackTo = {
      revision: previous.revision,
      from: entry.revision,
      time: new Date().toISOString(),
      by: status.appliedBy ?? '',
      reason,
      automatic: true,
    };
    await report();
    return this.reconcile(request);
  }

  /** A Sync being deleted: prunes its inventory when it prunes at all, then releases it. */
  private async finalize(sync: Sync): Promise<void> {
    const { client, events } = this.deps;
    const finalizers = sync.metadata.finalizers ?? [];
    if (!finalizers.includes(SYNC_FINALIZER)) return;
    const inventory = sync.status?.inventory?.entries ?? [];
    if (sync.spec.prune && !sync.spec.suspend && inventory.length) {
      try {
        const options = { owner: ownerOf(sync), previousInventory: inventory, prune: true };
        const changes = await applySet(applierOf((await this.targets.of(sync)).client, sync), [], options);
        const left = changes.skipped.map((k) => `${describeObject(k)} (${k.reason})`);
        void events.record(
          sync,
          'Normal',
          SyncReason.GarbageCollected,
          `Sync deleted: ${changes.counts.deleted} of ${inventory.length} objects deleted${left.length ? `; left: ${left.join('; ')}` : ''}`,
        );
      } catch (err) {
        void events.record(
          sync,
          'Warning',
          SyncReason.GarbageCollectionFailed,
          this.deps.redactor.redact(
            `Sync deleted, but its objects could not all be deleted: ${(err as Error).message}`,
          ),
        );
        // As Flux: without a usable kubeConfig the objects stay where they are, and the Sync goes.
        if (!(err instanceof TargetError)) throw err;
      }
    }
    await client.patch<Sync>(
      syncKind,
      sync.metadata.name!,
      {
        metadata: {
          resourceVersion: sync.metadata.resourceVersion,
          finalizers: finalizers.filter((f) => f !== SYNC_FINALIZER),
        },
      },
      'merge',
      sync.metadata.namespace,
    );
    this.applied.forget(`${sync.metadata.namespace}/${sync.metadata.name}`);
    this.parses.delete(`${sync.metadata.namespace}/${sync.metadata.name}`);
    await this.targets.forget(`${sync.metadata.namespace}/${sync.metadata.name}`);
  }

  /** What the next apply would change, object by object and field by field. */
  /** What applying the source's revision would change. A revision that cannot be applied is
   * refused as Invalid, its message naming each file, object and field at fault; a source
   * without a revision as ServiceUnavailable (NotFound when it does not exist). */
  async diff(request: Request): Promise<SyncDiff> {
    const sync = await this.deps.client.get<Sync>(syncKind, request.name, request.namespace);
    const what = `Sync ${request.namespace}/${request.name}`;
    const source = await this.source(sync);
    if (!source.ok) throw refusalOf(sync, source);
    try {
      const manifests = await this.build(sync, source.dir);
      const previousInventory = sync.status?.inventory?.entries ?? [];
      const options = { owner: ownerOf(sync), previousInventory, prune: sync.spec.prune };
      const objects = await diffSet(applierOf((await this.targets.of(sync)).client, sync), manifests, options);
      return { kind: 'SyncDiff', apiVersion: 'gatehouse.dev/v1alpha1', revision: source.revision, objects };
    } catch (err) {
      if (!(err instanceof BuildError || err instanceof ValidationError || err instanceof TargetError)) throw err;
      throw new SubresourceRefusal('Invalid', `${what}: revision ${source.revision} cannot be applied: ${err.message}`);
    }
  }

  /** The rollback subresource: holds the Sync on the revision of status.history that `body` names, as asked by
   * `user` (refused, naming the field, when there is none), until the source moves past the revision it has now
   * or a resume. Recorded in status.rolledBackTo; the reconcile that follows applies it. */
  async rollback(request: Request, body: RollbackBody, user: string): Promise<void> {
    const { client } = this.deps;
    const sync = await client.get<Sync>(syncKind, request.name, request.namespace);
    const entry = rollbackTarget(sync, body);
    const source = await this.source(sync);
    if (!source.ok) throw refusalOf(sync, source);
    const rolledBackTo: SyncRollback = {
      revision: entry.revision,
      from: source.sourceRevision,
      time: new Date().toISOString(),
      by: user,
      reason: body.reason || `rollback requested by ${user}`,
    };
    await writeStatus(client, syncKind, sync, { ...sync.status, rolledBackTo }, (stored) => ({
      ...stored,
      rolledBackTo,
    }));
  }

  /** The resume subresource: ends a rollback (the reconcile that follows applies the source's revision). */
  async resume(request: Request, user: string): Promise<void> {
    const { client, events } = this.deps;
    const sync = await client.get<Sync>(syncKind, request.name, request.namespace);
    const rollback = sync.status?.rolledBackTo;
    if (!rollback) return;
    const { rolledBackTo: _, ...status } = sync.status ?? {};
    await writeStatus(client, syncKind, sync, status, (stored) => {
      const { rolledBackTo: _, ...rest } = stored ?? {};
      return rest;
    });
    void events.record(
      sync,
      'Normal',
      SyncReason.RollbackEnded,
      `resumed by ${user}: the rollback to ${rollback.revision} is over`,
    );
  }

  /** The user the Sync's writes come from: its ServiceAccount, by impersonation, or the controller itself. */
  private async writerOf(sync: Sync): Promise<string> {
    const name = sync.spec.serviceAccountName;
    if (name) return serviceAccountUsername({ namespace: sync.metadata.namespace ?? 'default', name });
    if (this.identity === undefined) {
      const review = { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: {} };
      const answer = await this.deps.client.create<SelfSubjectReview>(selfSubjectReviewKind, review);
      this.identity = answer.status?.userInfo?.username ?? '';
    }
    return this.identity;
  }

  private async source(sync: Sync): Promise<SourceState> {
    const ref = sync.spec.sourceRef;
    const namespace = ref.namespace ?? sync.metadata.namespace ?? 'default';
    const repo = await getOrUndefined<GitRepository>(this.deps.client, gitRepositoryKind, {
      namespace,
      name: ref.name,
    });
    if (!repo)
      return {
        ok: false,
        reason: SyncReason.SourceNotFound,
        message: `GitRepository ${namespace}/${ref.name} named by spec.sourceRef not found`,
      };
    const artifact = repo.status?.artifact;
    if (!artifact?.path) {
      // Why it has none (a refused credential, an unknown host) is the source's Ready message.
      const ready = findCondition(repo.status, 'Ready');
      const why = ready?.status === 'False' && ready.message ? `: ${ready.message}` : '';
      const message = `GitRepository ${namespace}/${ref.name} has no artifact yet${why}`;
      return { ok: false, reason: SyncReason.ArtifactNotReady, message };
    }
    const rollback = sync.status?.rolledBackTo;
    const held =
      holds(rollback, artifact.revision) && sync.status?.history?.find((e) => e.revision === rollback.revision);
    if (held) {
      const { revision, digest, signature } = held;
      const dir = await this.deps.artifact(repo, { revision, digest });
      return { ok: true, revision, digest, signature, dir, rollback, sourceRevision: artifact.revision };
    }
    const dir = await this.deps.artifact(repo);
    const { revision, digest, signature } = artifact;
    return { ok: true, revision, digest, signature, dir, sourceRevision: revision };
  }

  private build(sync: Sync, dir: string, parsed?: ParsedTexts): Promise<Manifest[]> {
    return build(dir, sync.spec.path, {
      namespace: sync.metadata.namespace ?? 'default',
      targetNamespace: sync.spec.targetNamespace,
      substitute: sync.spec.substitute,
      parsed,
    });
  }
}

/** A subresource's answer when the Sync's source has no artifact: NotFound when it does not exist. */
function refusalOf(sync: Sync, source: { reason: string; message: string }): SubresourceRefusal {
  const reason = source.reason === SyncReason.SourceNotFound ? 'NotFound' : 'ServiceUnavailable';
  return new SubresourceRefusal(reason, `Sync ${sync.metadata.namespace}/${sync.metadata.name}: ${source.message}`);
}

/** A partial apply's change set as if the whole set had been applied: the objects not
 * re-applied are unchanged, and the inventory stays as it was. */
function withUnchanged(partial: ChangeSet | undefined, untouched: number, inventory: InventoryEntry[]): ChangeSet {
  const counts = { created: 0, configured: 0, unchanged: 0, deleted: 0, ...partial?.counts };
  counts.unchanged += untouched;
  return { entries: partial?.entries ?? [], counts, inventory, skipped: [], overridden: partial?.overridden ?? [] };
}

/** The spec fields that decide what a revision builds to and how it is applied; interval
 * or suspend changes leave them alone, so they need no full re-apply (drift is still
 * found object by object). */
function buildKey(sync: Sync): string {
  const { sourceRef, path, targetNamespace, substitute, prune, serviceAccountName } = sync.spec;
  return JSON.stringify([
    sourceRef,
    path,
    targetNamespace ?? null,
    substitute ?? null,
    prune,
    serviceAccountName ?? null,
  ]);
}

/** The client a Sync's objects are read, written and deleted with: as its spec.serviceAccountName, in its
 * namespace, by impersonation (the controller's role may impersonate ServiceAccounts only), else the controller's. */
function applierOf(client: KubeClient, sync: Sync): KubeClient {
  const name = sync.spec.serviceAccountName;
  if (!name) return client;
  return client.impersonating(serviceAccountUsername({ namespace: sync.metadata.namespace ?? 'default', name }));
}

/** How the API server refused the identity applying, if it did: its credentials (401, spec.kubeConfig's) or the
 * identity's rights (403), in the dry run of an object, a write or a delete. */
function accessDenied(err: unknown): 'Unauthorized' | 'Forbidden' | undefined {
  const refusals = ['Unauthorized', 'Forbidden'] as const;
  const reasons =
    err instanceof ValidationError
      ? err.failures.map((f) => f.reason)
      : [err, (err as Error | undefined)?.cause].map((e) => (isStatusError(e) ? e.reason : undefined));
  return refusals.find((r) => reasons.includes(r));
}

function overrideOf({ kind, namespace, name, reason }: SkippedObject): SyncOverride {
  return namespace ? { kind, namespace, name, reason } : { kind, name, reason };
}

function sameOverride(a: SyncOverride, b: SyncOverride): boolean {
  return a.kind === b.kind && a.namespace === b.namespace && a.name === b.name && a.reason === b.reason;
}

function ownerOf(sync: Sync) {
  return { name: sync.metadata.name!, namespace: sync.metadata.namespace ?? 'default' };
}

/** What one reconcile carries from step to step. */
interface ReconcileRun {
  sync: Sync;
  status: SyncStatus;
  target: Sync;
  addHistory(entry: SyncHistoryEntry, changed: boolean | undefined): void;
  report(): Promise<unknown>;
}

interface NewHistoryEntry {
  entry: SyncHistoryEntry;
  /** Whether the apply wrote anything; undefined for a failure. */
  changed: boolean | undefined;
}

/**
 * `history` with `added` prepended, keeping HISTORY_LIMIT entries. A reconcile that changed nothing, or
 * failed the same way again, adds no entry, so the history lists applies and failures, not
 * polls (and a poll writes no status).
 */
function withHistory(history: SyncHistoryEntry[] = [], added: NewHistoryEntry | undefined): SyncHistoryEntry[] {
  if (!added) return history;
  const { entry, changed } = added;
  const newest = history[0];
  const repeat =
    newest &&
    newest.revision === entry.revision &&
    newest.status === entry.status &&
    (entry.status === 'Failed' ? newest.message === entry.message : changed === false);
  return repeat ? history : [entry, ...history].slice(0, HISTORY_LIMIT);
}

function describeCounts(changes: ChangeSet): string {
  const c = changes.counts;
  return `${c.created} created, ${c.configured} configured, ${c.unchanged} unchanged, ${c.deleted} deleted`;
}

function describeChanges(changes: ChangeSet): string {
  return changes.entries
    .filter((e) => e.action !== 'unchanged')
    .map((e) => `${describeObject(e)} ${e.action}${e.fields?.length ? ` (${e.fields.join(', ')})` : ''}`)
    .join('; ');
}

function firstLine(text: string): string {
  const lines = text.split('\n');
  return lines.length > 1
    ? `${lines[0]} ${lines
        .slice(1)
        .map((l) => l.trim())
        .join('; ')}`
    : text;
}
