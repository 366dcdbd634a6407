import type { KubeObject } from '../../kind.ts';
import type { CommonStatus } from '../../status.ts';

export interface ApiKeySpec {
  /** Name of the Consumer, in the same namespace, the key authenticates as. */
  consumer: string;
  /** SecurityPolicies applied instead of the consumer's; absent uses the consumer's. */
  policies?: string[];
  /** RFC 3339 time after which the key is refused. */
  expires?: string;
  /** Server-owned: `sha256:<hex>` of the key. */
  hash: string;
  /** Server-owned: first characters of the key, to tell keys apart. */
  prefix: string;
}

export type ApiKeyStatus = CommonStatus;

export interface ApiKey extends KubeObject {
  spec: ApiKeySpec;
  status?: ApiKeyStatus;
}
