// The GitOps controller process: informers on GitRepositories, Syncs, Receivers, Secrets and
// every kind a Sync may own; one controller per reconciler, the readiness controllers of
// Receivers, Consumers, ApiKeys and SecurityPolicies; the webhook listener. Owned objects
// are watched through the sync-name label, so a hand edit or delete enqueues its Sync at
// once — drift is undone by watch, not at the next interval.
//
// Several replicas elect one leader on a Lease (controller-runtime's leader election): every
// replica keeps its informers' caches warm, only the holder reconciles, answers the reconcile,
// diff, rollback and resume subresources and hands Receiver calls to its controllers; a standby forwards a Receiver
// call to the holder through the reconcile subresource. A holder that loses the Lease stops
// reconciling for good and says so (onLostLeadership): its process exits, as controller-runtime's
// do, and a supervisor starts it again as a standby.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { KindDefinition, KubeObject } from '../api/kind.ts';
import { secretKind, type Secret } from '../api/core/secret/index.ts';
import { gitRepositoryKind, type GitRepository } from '../api/kinds/git-repository/index.ts';
import { receiverKind, type Receiver } from '../api/kinds/receiver/index.ts';
import type { ReconcileBody, RollbackBody } from '../api/kinds/subresource-request/index.ts';
import { syncKind, type Sync } from '../api/kinds/sync/index.ts';
import { allKinds } from '../api/kinds.ts';
import { Informer } from '../client/informer.ts';
import { LeaderElector } from '../client/leader-election.ts';
import { loadClientConfig } from '../client/in-cluster.ts';
import { KubeClient } from '../client/rest.ts';
import {
  contentChanged,
  Controller,
  ControllerStoppedError,
  EventRecorder,
  generationChanged,
  SubresourceResponder,
  type BackoffOptions,
  type Request,
} from '../controller/runtime/index.ts';
import { GitRepositoryReconciler } from './controllers/git-repository.ts';
import { notificationControllers, type NotificationOptions } from './notify/index.ts';
import { readinessChanged } from './controllers/environments.ts';
import { SyncReconciler, type SyncDiff } from './controllers/sync.ts';
import { readinessControllers } from './readiness.ts';
import { indexBy, naming } from './references.ts';
import { Redactor } from './redact.ts';
import { parseId, SYNC_NAME_LABEL, SYNC_NAMESPACE_LABEL } from './sync/index.ts';
import { startWebhookServer, type WebhookServer } from './webhook/server.ts';
import { readToken } from './webhook/token.ts';
import type { LeaderElectionSettings } from './leader-election.ts';

export { CONTROLLER_LEADER_ELECTION, type LeaderElectionSettings } from './leader-election.ts';

export interface ControllerOptions {
  /** The kubeconfig of the API server; absent, the in-cluster configuration (client/in-cluster.ts). */
  kubeconfig?: string;
  /** Artifacts and Git caches live here. */
  dataDir: string;
  /** Webhook listener port; absent runs no listener, 0 picks a free port. */
  hookPort?: number;
  host?: string;
  logger: Logger;
  /** Reconciles at once per controller. */
  concurrency?: number;
  /** Retry delays of failed reconciles; default 100 ms doubling up to 5 minutes. */
  backoff?: BackoffOptions;
  /** Reconcile only while holding this Lease; absent, this process reconciles at once (the only replica). */
  leaderElection?: LeaderElectionSettings;
  /** Told once when this replica lost the Lease it held: it reconciles no more; close() is still the caller's. */
  onLostLeadership?(): void;
  /** Retries and rate limit of notifications (Providers and Alerts). */
  notifications?: NotificationOptions;
}

export interface GitOpsController {
  /** URL of the webhook listener, when one runs. */
  hookUrl?: string;
  /** Names this replica in the Lease's holderIdentity. */
  identity: string;
  /** Whether this replica reconciles now. */
  readonly leading: boolean;
  reconcileSource(namespace: string, name: string): Promise<GitRepository>;
  reconcileSync(namespace: string, name: string, withSource: boolean): Promise<Sync>;
  diffSync(namespace: string, name: string): Promise<SyncDiff>;
  close(): Promise<void>;
}

/** Kinds a Sync may create, watched for drift: every kind the server serves but the
 * controller's own, Events, Leases and the API server's SubresourceRequests. */
const NOT_OWNED = ['GitRepository', 'Sync', 'Receiver', 'Event', 'Lease', 'SubresourceRequest'];
const OWNED_KINDS: KindDefinition[] = allKinds.filter((k) => !NOT_OWNED.includes(k.kind));

export async function startController(options: ControllerOptions): Promise<GitOpsController> {
  const { logger } = options;
  const config = await loadClientConfig(options.kubeconfig);
  const client = new KubeClient(config);
  const redactor = new Redactor();
  const events = new EventRecorder(client, 'gatehouse-controller', logger, {
    redact: (m) => redactor.redact(m),
    instance: hostname(),
  });
  const artifacts = join(options.dataDir, 'artifacts');
  const watchError = (kind: string) => (err: unknown) =>
    logger.warn({ err: redactor.redact(String(err)), kind }, 'watch failed; retrying');

  const sources = new Informer<GitRepository>(client, gitRepositoryKind, { onError: watchError('GitRepository') });
  const syncs = new Informer<Sync>(client, syncKind, { onError: watchError('Sync') });
  const receivers = new Informer<Receiver>(client, receiverKind, { onError: watchError('Receiver') });
  const secrets = new Informer<Secret>(client, secretKind, { onError: watchError('Secret') });
  const owned = OWNED_KINDS.map((kind) => ({
    kind,
    informer: new Informer<KubeObject>(client, kind, {
      labelSelector: SYNC_NAME_LABEL,
      onError: watchError(kind.kind),
    }),
  }));
  // Transport credentials and trusted signing keys: either Secret's change is worth a fetch at once.
  const sourcesBySecret = indexBy(sources, (repo) =>
    [repo.spec.secretRef, repo.spec.verify?.secretRef].filter((ref) => ref !== undefined),
  );
  const { concurrency, backoff } = options;
  const onError = watchError;
  const readiness = readinessControllers({
    client,
    logger,
    concurrency,
    backoff,
    secrets,
    sources,
    receivers,
    onError,
  });
  let leading = false;
  const notifications = notificationControllers({
    client,
    logger,
    redactor,
    concurrency,
    backoff,
    secrets,
    onError,
    leading: () => leading,
    ...options.notifications,
  });

  const sourceReconciler = new GitRepositoryReconciler({ client, events, redactor, logger, dataDir: artifacts });
  const sourceController = new Controller({
    name: 'gitrepository',
    reconciler: sourceReconciler,
    logger,
    concurrency: options.concurrency,
    backoff: options.backoff,
    // A reconciler's own status writes must not enqueue it again: primaries pass only
    // generation changes. A GitRepository's new artifact is status, and Syncs watch it unfiltered.
  })
    .watch(sources, undefined, generationChanged)
    // A fixed Secret is tried at once, not after the backoff of the failures it caused.
    .watch(secrets, naming(sourcesBySecret));

  const syncReconciler = new SyncReconciler({
    client,
    events,
    redactor,
    logger,
    artifact: (repo, at) => sourceReconciler.artifactDir(repo, at),
    live: liveOwned(owned),
  });
  // A Sync waits for the Syncs of its dependsOn and promotion.from, and reads its kubeConfig Secret.
  const syncsBySync = indexBy(syncs, (s) => [
    ...(s.spec.dependsOn ?? []),
    ...(s.spec.promotion ? [s.spec.promotion.from] : []),
  ]);
  const syncsBySecret = indexBy(syncs, (s) => (s.spec.kubeConfig ? [s.spec.kubeConfig.secretRef] : []));
  const syncController = new Controller({ name: 'sync', reconciler: syncReconciler, logger, concurrency, backoff })
    .watch(syncs, undefined, generationChanged)
    .watch(syncs, naming(syncsBySync), readinessChanged)
    .watch(secrets, naming(syncsBySecret))
    .watch(sources, (repo) => syncsOf(syncs, repo));
  for (const { informer } of owned) {
    // Status written by others (the gateway's ApiDefinition conditions) is not drift.
    syncController.watch(
      informer,
      (obj) => {
        const name = obj.metadata.labels?.[SYNC_NAME_LABEL];
        const namespace = obj.metadata.labels?.[SYNC_NAMESPACE_LABEL];
        return name && namespace ? [{ namespace, name }] : [];
      },
      contentChanged,
    );
  }

  const informers = [
    sources,
    syncs,
    receivers,
    secrets,
    ...owned.map((o) => o.informer),
    ...readiness.informers,
    ...notifications.informers,
  ];
  for (const informer of informers) informer.start();
  // Standbys too: their caches are warm when they take over.
  await Promise.all(informers.map((i) => i.synced));

  let webhook: WebhookServer | undefined;
  if (options.hookPort !== undefined) {
    webhook = await startWebhookServer({
      host: options.host ?? '127.0.0.1',
      port: options.hookPort,
      deps: {
        receiver: (namespace, name) => receivers.get(namespace, name),
        token: (namespace, name) => {
          const read = readToken(secrets.get(namespace, name), namespace, name);
          if (read.ok) redactor.remember(read.token);
          return read;
        },
        trigger: (namespace, name) => {
          // The Syncs follow through the source watch once the new artifact is recorded.
          const reconcile = leading
            ? sourceController.trigger({ namespace, name })
            : client.subresource(gitRepositoryKind, name, 'reconcile', namespace, {});
          reconcile.catch(() => undefined);
        },
        logger,
      },
    });
  }

  /** Runs one reconcile now and returns the object as stored afterwards; a failed
   * reconcile is reported in the object's status, not as an error of this call. */
  const reconcileNow = async <T extends KubeObject>(
    controller: Controller,
    kind: KindDefinition,
    request: Request,
  ): Promise<T> => {
    await client.get<T>(kind, request.name, request.namespace);
    try {
      await controller.trigger(request);
    } catch (err) {
      if (err instanceof ControllerStoppedError) throw err;
    }
    return client.get<T>(kind, request.name, request.namespace);
  };

  const reconcileSource = (namespace: string, name: string) =>
    reconcileNow<GitRepository>(sourceController, gitRepositoryKind, { namespace, name });
  const reconcileSync = async (namespace: string, name: string, withSource: boolean) => {
    const sync = await client.get<Sync>(syncKind, name, namespace);
    if (withSource) {
      const ref = sync.spec.sourceRef;
      await reconcileSource(ref.namespace ?? namespace, ref.name);
    }
    return reconcileNow<Sync>(syncController, syncKind, { namespace, name });
  };
  const diffSync = (namespace: string, name: string) => syncReconciler.diff({ namespace, name });

  // The reconcile, diff, rollback and resume subresources, called on whichever API server replica, reach
  // the leader as SubresourceRequests.
  const responder = new SubresourceResponder({
    client,
    responder: 'controller',
    logger,
    handlers: {
      'gitrepositories/reconcile': (r) => reconcileSource(r.metadata.namespace!, r.spec.target.name),
      'syncs/reconcile': (r) => {
        const withSource = Boolean((r.spec.body as ReconcileBody | undefined)?.withSource);
        return reconcileSync(r.metadata.namespace!, r.spec.target.name, withSource);
      },
      'syncs/diff': (r) => diffSync(r.metadata.namespace!, r.spec.target.name),
      // A rollback or resume is recorded in the Sync's status, then applied by a reconcile run now.
      'syncs/rollback': async (r) => {
        const request = { namespace: r.metadata.namespace!, name: r.spec.target.name };
        await syncReconciler.rollback(request, r.spec.body as RollbackBody, r.spec.user ?? '');
        return reconcileSync(request.namespace, request.name, false);
      },
      'syncs/resume': async (r) => {
        const request = { namespace: r.metadata.namespace!, name: r.spec.target.name };
        await syncReconciler.resume(request, r.spec.user ?? '');
        return reconcileSync(request.namespace, request.name, false);
      },
    },
  });

  const controllers = [sourceController, syncController, ...readiness.controllers, ...notifications.controllers];
  let closing = false;
  const lead = () => {
    leading = true;
    responder.start();
    void Promise.all(controllers.map((c) => c.start()));
  };
  // Reconciles asked for and not yet run are answered ServiceUnavailable by the stop.
  const standDown = async () => {
    leading = false;
    await Promise.all(controllers.map((c) => c.stop()));
    await responder.stop();
  };
  const identity = `${hostname()}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const election = options.leaderElection && {
    ...options.leaderElection,
    namespace: options.leaderElection.namespace ?? config.namespace,
  };
  const lease = election && `${election.namespace}/${election.name}`;
  const elector =
    election &&
    new LeaderElector({
      client,
      ...election,
      identity,
      onStartedLeading: () => {
        logger.info({ lease, identity }, 'leading: reconciling');
        lead();
      },
      onStoppedLeading: () => {
        if (closing) return;
        logger.error({ lease, identity }, 'lost the lease: reconciling no more');
        void standDown().then(() => options.onLostLeadership?.());
      },
      onError: (err) => logger.warn({ err: redactor.redact(String(err)), lease }, 'leader election failed; retrying'),
    });
  if (elector) elector.start();
  else lead();

  return {
    hookUrl: webhook?.url,
    identity,
    get leading() {
      return leading;
    },
    reconcileSource,
    reconcileSync,
    diffSync,
    async close() {
      closing = true;
      await webhook?.close();
      await standDown();
      await syncReconciler.close();
      await notifications.notifier.close();
      // Released only once nothing reconciles here any more, so the next leader never overlaps with this one.
      await elector?.stop();
      await Promise.all(informers.map((i) => i.stop()));
      await events.flush();
      await client.close();
    },
  };
}

function syncsOf(syncs: Informer<Sync>, repo: GitRepository): Request[] {
  const namespace = repo.metadata.namespace ?? 'default';
  return syncs
    .items()
    .filter(
      (s) =>
        s.spec.sourceRef.name === repo.metadata.name &&
        (s.spec.sourceRef.namespace ?? s.metadata.namespace) === namespace,
    )
    .map((s) => ({ namespace: s.metadata.namespace ?? 'default', name: s.metadata.name! }));
}

/** A lookup of owned objects in the drift watches' caches by inventory id; called for every
 * object of a Sync on each reconcile, so the kind is found by key, not by scanning. */
function liveOwned(
  owned: Array<{ kind: KindDefinition; informer: Informer<KubeObject> }>,
): (id: string) => KubeObject | undefined {
  const byKind = new Map(owned.map(({ kind, informer }) => [`${kind.group}/${kind.kind}`, informer]));
  return (id) => {
    const identity = parseId(id);
    return identity && byKind.get(`${identity.group}/${identity.kind}`)?.get(identity.namespace, identity.name);
  };
}
