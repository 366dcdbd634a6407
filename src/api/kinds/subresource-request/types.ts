import type { KubeObject } from '../../kind.ts';
import type { CommonStatus } from '../../status.ts';

/** The component that answers a delegated subresource. */
export type Responder = 'controller' | 'gateway';

/** Label naming the responder, so each component watches only its own requests. */
export const RESPONDER_LABEL = 'gatehouse.dev/responder';

export interface SubresourceTarget {
  /** Plural of the gatehouse.dev kind the subresource belongs to (`syncs`). */
  resource: string;
  /** Name of the object, in the request's namespace. */
  name: string;
}

export interface SubresourceRequestSpec {
  responder: Responder;
  target: SubresourceTarget;
  /** Name of the subresource (`reconcile`, `diff`, `probe`). */
  subresource: string;
  /** The body the subresource was called with; absent for a GET. */
  body?: Record<string, unknown>;
  /** The user who called it, as the API server authenticated them (a rollback records who asked). */
  user?: string;
}

/** A refusal, as the subresource answers it: a Status reason and a message. */
export interface SubresourceFailure {
  reason: string;
  message: string;
}

export interface SubresourceRequestStatus extends CommonStatus {
  /** The component instance that took the request; set once, guarded by resourceVersion. */
  claimedBy?: string;
  /** The answer, as the subresource returns it. */
  response?: Record<string, unknown>;
  failure?: SubresourceFailure;
}

export interface SubresourceRequest extends KubeObject {
  spec: SubresourceRequestSpec;
  status?: SubresourceRequestStatus;
}

/** Body of `gitrepositories/NAME/reconcile` and `syncs/NAME/reconcile`. */
export interface ReconcileBody {
  /** For a Sync: reconcile its GitRepository first. */
  withSource?: boolean;
}

/** Body of `syncs/NAME/rollback`: exactly one of `revision` and `steps`. */
export interface RollbackBody {
  /** A revision of the Sync's status.history, `main@sha1:…`. */
  revision?: string;
  /** How many revisions back from the one applied now (1: the one before). */
  steps?: number;
  /** Recorded in status.rolledBackTo. */
  reason?: string;
}

/** Body of `apidefinitions/NAME/probe`. */
export interface ProbeBody {
  method?: string;
  /** Below the API's listenPath, starting with "/"; may carry a query. */
  path?: string;
  headers?: Record<string, string>;
}
