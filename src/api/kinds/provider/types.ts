import type { KubeObject } from '../../kind.ts';
import type { CommonStatus, LocalObjectReference } from '../../status.ts';

/** How a notification is encoded and where it goes (Flux notification-controller's Provider types). */
export type ProviderType = 'generic' | 'generic-hmac' | 'slack' | 'msteams' | 'github' | 'gitlab';

export interface ProviderSpec {
  type: ProviderType;
  /** Webhook URL, or for github and gitlab the repository's URL; the Secret's `address` key wins over it. */
  address?: string;
  /** Slack channel the message is posted to. */
  channel?: string;
  /** Slack bot name; absent, the controller that recorded the event. */
  username?: string;
  /** Secret in the provider's namespace: `address`, `token` (API token, or the generic-hmac key) and
   * `headers` (a YAML map of extra HTTP headers). */
  secretRef?: LocalObjectReference;
  /** Secret in the provider's namespace whose `ca.crt` key holds the CA that signs the receiver's certificate. */
  certSecretRef?: LocalObjectReference;
  /** Longest wait for one request to the receiver, a Go duration. */
  timeout: string;
  /** Sends nothing while true. */
  suspend: boolean;
}

export interface Provider extends KubeObject {
  spec: ProviderSpec;
  status?: CommonStatus;
}
