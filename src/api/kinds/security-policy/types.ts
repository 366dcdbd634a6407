import type { KubeObject } from '../../kind.ts';
import type { CommonStatus } from '../../status.ts';
import type { RateLimit } from '../shared.ts';

export interface AccessRight {
  /** ApiDefinition name. */
  name: string;
  /** ApiDefinition namespace; defaults to the policy's own namespace. */
  namespace?: string;
  /** Allowed methods; empty allows all. */
  methods?: string[];
  /** Allowed path prefixes below the API's listenPath; empty allows all. */
  paths?: string[];
}

export interface Quota {
  max: number;
  per: string;
}

export interface SecurityPolicySpec {
  apis: AccessRight[];
  rateLimit?: RateLimit;
  quota?: Quota;
}

export type SecurityPolicyStatus = CommonStatus;

export interface SecurityPolicy extends KubeObject {
  spec: SecurityPolicySpec;
  status?: SecurityPolicyStatus;
}
