import type { KubeObject } from '../../kind.ts';
import type { CommonStatus } from '../../status.ts';
import type { ArtifactSignature } from '../git-repository/types.ts';

export interface SourceReference {
  kind: 'GitRepository';
  name: string;
  /** Defaults to the Sync's namespace. */
  namespace?: string;
}

/** Another Sync, by name (Flux's dependsOn entries). */
export interface SyncReference {
  name: string;
  /** Defaults to the Sync's namespace. */
  namespace?: string;
}

/** The Secret of the Sync's namespace that holds a kubeconfig (Flux's spec.kubeConfig). */
export interface KubeConfigReference {
  secretRef: {
    name: string;
    /** Absent: `value`, else `value.yaml` (Flux's keys). */
    key?: string;
  };
}

/** The Sync a revision must have run healthy on, and for how long, before this Sync applies it. */
export interface Promotion {
  from: SyncReference & { healthyFor: string };
}

export interface SyncSpec {
  sourceRef: SourceReference;
  /** Apply to the cluster this kubeconfig describes instead of the controller's own API server. */
  kubeConfig?: KubeConfigReference;
  /** Syncs that must be Ready before this one applies. */
  dependsOn?: SyncReference[];
  /** Apply a revision only once another Sync has run it healthy for `from.healthyFor`. */
  promotion?: Promotion;
  path: string;
  interval: string;
  prune: boolean;
  suspend: boolean;
  targetNamespace?: string;
  substitute?: Record<string, string>;
  /** The ServiceAccount of the Sync's namespace it applies and prunes as (Flux's field); absent, the
   * controller's own identity. */
  serviceAccountName?: string;
  /** Whether the API server refuses writes to the Sync's objects by anyone but the Sync (default true). */
  lock?: boolean;
  /** Wait after an apply for every applied ApiDefinition to be healthy (Flux's field). */
  wait?: boolean;
  /** Wait after an apply for these ApiDefinitions to be healthy (Flux's health assessment). */
  healthChecks?: HealthCheckReference[];
  /** How long the health checks wait after an apply; absent, spec.interval (Flux's default). */
  timeout?: string;
  /** After the health checks pass, the 5xx share the checked APIs may reach before the revision is rolled back. */
  rollback?: RollbackPolicy;
}

/** The error-rate analysis of a newly applied revision (as Flagger's or Argo Rollouts' analysis). */
export interface RollbackPolicy {
  /** Share of 5xx answers (0..1) above which the revision is rolled back. */
  maxErrorRate: number;
  /** How long the share is watched after the health checks pass. */
  window: string;
}

/** An object whose health an apply waits for. */
export interface HealthCheckReference {
  kind: 'ApiDefinition';
  name: string;
  /** Defaults to the Sync's namespace (or spec.targetNamespace). */
  namespace?: string;
}

/** One applied object, as Flux's inventory records it. */
export interface InventoryEntry {
  /** `<namespace>_<name>_<group>_<kind>`. */
  id: string;
  /** API version the object was applied with. */
  v: string;
}

export interface SyncHistoryEntry {
  revision: string;
  digest?: string;
  /** When this revision was applied or its apply failed. */
  time: string;
  /** Failed: the revision did not apply, or applied and failed its health checks. RolledBack: an earlier
   * revision re-applied by a rollback; `message` says why. */
  status: 'Succeeded' | 'Failed' | 'RolledBack';
  message?: string;
  /** What the apply did (absent when it failed before writing). */
  created?: number;
  configured?: number;
  unchanged?: number;
  deleted?: number;
  /** The source's verified signature of this revision (status.artifact.signature of its GitRepository). */
  signature?: ArtifactSignature;
}

/** An object of the Sync's inventory a user changed by hand with the break-glass annotation. */
export interface SyncOverride {
  kind: string;
  namespace?: string;
  name: string;
  /** The value of the gatehouse.dev/override-reason annotation. */
  reason: string;
}

/** A rollback in force: the Sync applies `revision` instead of its source's `from` until the source moves on
 * or someone resumes it. */
export interface SyncRollback {
  /** The revision of status.history re-applied. */
  revision: string;
  /** The source revision held back: a source revision other than this one ends the rollback. */
  from: string;
  /** When the rollback was asked for or decided. */
  time: string;
  /** Who asked (the user of the rollback subresource call), or the Sync's writer for an automatic rollback. */
  by: string;
  reason: string;
  /** Whether the controller rolled back by itself, after failed health checks. */
  automatic?: boolean;
}

export interface SyncStatus extends CommonStatus {
  /** The user the Sync's writes come from (its ServiceAccount's, or the controller's): the lock lets it write. */
  appliedBy?: string;
  /** Objects the Sync leaves alone while they carry the override annotation. */
  overrides?: SyncOverride[];
  /** The applied revision and since when the Sync has been Ready at it, without a break: promotion gates read it. */
  healthy?: { revision: string; since: string };
  lastAppliedRevision?: string;
  lastAttemptedRevision?: string;
  inventory?: { entries: InventoryEntry[] };
  history?: SyncHistoryEntry[];
  rolledBackTo?: SyncRollback;
}

export interface Sync extends KubeObject {
  spec: SyncSpec;
  status?: SyncStatus;
}
