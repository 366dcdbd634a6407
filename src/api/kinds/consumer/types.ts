import type { KubeObject } from '../../kind.ts';
import type { CommonStatus } from '../../status.ts';

export interface ConsumerSpec {
  /** SecurityPolicy names in the consumer's namespace. */
  policies: string[];
  jwtSubjects: string[];
  description?: string;
}

export type ConsumerStatus = CommonStatus;

export interface Consumer extends KubeObject {
  spec: ConsumerSpec;
  status?: ConsumerStatus;
}
