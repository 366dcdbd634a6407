import type { KubeObject } from '../../kind.ts';
import type { CommonStatus, LocalObjectReference } from '../../status.ts';

/** How a webhook call proves it comes from the Git host (Flux's Receiver types). */
export type ReceiverType = 'github' | 'gitlab' | 'generic-hmac';

export interface ReceiverResource {
  kind: 'GitRepository';
  name: string;
}

export interface ReceiverSpec {
  type: ReceiverType;
  /** Secret in the receiver's namespace whose `token` key holds the shared secret. */
  secretRef: LocalObjectReference;
  /** Sources reconciled when a call is accepted; same namespace as the receiver. */
  resources: ReceiverResource[];
  /** GitHub/GitLab event names accepted; empty accepts every event. */
  events: string[];
}

export interface ReceiverStatus extends CommonStatus {
  /** Path on the controller's hook listener that this receiver answers. */
  webhookPath?: string;
}

export interface Receiver extends KubeObject {
  spec: ReceiverSpec;
  status?: ReceiverStatus;
}

/** The hook path of a receiver: stable and derived from its name, so it can be configured
 * at the Git host before the controller has seen the receiver. The shared secret, not the
 * path, is what authenticates a call. */
export function receiverPath(namespace: string, name: string): string {
  return `/hook/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
}
