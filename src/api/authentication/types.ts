import type { KubeObject } from '../kind.ts';

export const AUTHENTICATION_GROUP = 'authentication.k8s.io';

/** Who a credential authenticates as (authentication.k8s.io/v1 UserInfo). */
export interface ReviewedUser {
  username: string;
  uid: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface TokenReview extends KubeObject {
  spec: { token?: string; audiences?: string[] };
  status?: { authenticated: boolean; user?: ReviewedUser; audiences?: string[]; error?: string };
}

export interface SelfSubjectReview extends KubeObject {
  status?: { userInfo: ReviewedUser };
}
