import type { KubeObject } from '../kind.ts';

export const AUTHORIZATION_GROUP = 'authorization.k8s.io';

/** What a resource request would be: the attributes an authorizer decides on. */
export interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

/** A request for a path that is not a resource (`/apis`, `/healthz`). */
export interface NonResourceAttributes {
  path?: string;
  verb?: string;
}

/** SelfSubjectAccessReview's spec: the question, asked for the caller. */
export interface SelfSubjectAccessReviewSpec {
  resourceAttributes?: ResourceAttributes;
  nonResourceAttributes?: NonResourceAttributes;
}

/** SubjectAccessReview's and LocalSubjectAccessReview's spec: the question, asked for someone. */
export interface SubjectAccessReviewSpec extends SelfSubjectAccessReviewSpec {
  user?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
  uid?: string;
}

/** The answer, kube's SubjectAccessReviewStatus. `denied` is only set by an authorizer that denies outright. */
export interface SubjectAccessReviewStatus {
  allowed: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

export interface AccessReview extends KubeObject {
  spec: SubjectAccessReviewSpec;
  status?: SubjectAccessReviewStatus;
}
