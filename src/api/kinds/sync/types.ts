import type { KubeObject } from '../../kind.ts';
import type { CommonStatus } from '../../status.ts';

export interface SourceReference {
  kind: 'GitRepository';
  name: string;
  /** Defaults to the Sync's namespace. */
  namespace?: string;
}

export interface SyncSpec {
  sourceRef: SourceReference;
  path: string;
  interval: string;
  prune: boolean;
  suspend: boolean;
  targetNamespace?: string;
  substitute?: Record<string, string>;
  /** The ServiceAccount of the Sync's namespace it applies and prunes as (Flux's field); absent, the
   * controller's own identity. */
  serviceAccountName?: string;
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
  status: 'Succeeded' | 'Failed';
  message?: string;
  /** What the apply did (absent when it failed before writing). */
  created?: number;
  configured?: number;
  unchanged?: number;
  deleted?: number;
}

export interface SyncStatus extends CommonStatus {
  lastAppliedRevision?: string;
  lastAttemptedRevision?: string;
  inventory?: { entries: InventoryEntry[] };
  history?: SyncHistoryEntry[];
}

export interface Sync extends KubeObject {
  spec: SyncSpec;
  status?: SyncStatus;
}
