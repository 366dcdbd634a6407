// kube's webhook authorizer as delegated servers use it: each request is asked of the cluster by
// SubjectAccessReview (authorization.k8s.io/v1), and the answer kept, allowed for 5 minutes and refused for
// 30 s by default (--authorization-webhook-cache-authorized-ttl / -unauthorized-ttl). When the cluster
// cannot be reached and no answer is cached, the request is refused with 503 ServiceUnavailable naming
// what failed, within the request's bound: never a hang, and never allowed by default.
import type { KubeClient } from '../../../client/rest.ts';
import { errors } from '../../errors.ts';
import type { AuthorizationAttributes, AuthorizationDecision, Authorizer } from '../auth.ts';
import { ExpiringCache } from './expiring-cache.ts';

const SUBJECT_ACCESS_REVIEWS = '/apis/authorization.k8s.io/v1/subjectaccessreviews';

export interface SubjectAccessReviewOptions {
  client: KubeClient;
  allowedTtlMs: number;
  deniedTtlMs: number;
  /** Bound of one SubjectAccessReview request. */
  timeoutMs: number;
  maxEntries?: number;
  onError?(err: unknown): void;
}

interface SubjectAccessReviewStatus {
  allowed?: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

/** The review's spec, as kube's webhook authorizer fills it from the request's attributes. */
export function reviewSpec(attrs: AuthorizationAttributes): Record<string, unknown> {
  const { user } = attrs;
  const subject = { user: user.name, uid: user.uid, groups: user.groups, ...(user.extra ? { extra: user.extra } : {}) };
  if (attrs.isResourceRequest === false)
    return { ...subject, nonResourceAttributes: { path: attrs.path, verb: attrs.verb } };
  const { verb, group, resource, subresource, namespace, name } = attrs;
  return { ...subject, resourceAttributes: { namespace, verb, group, resource, subresource, name } };
}

export function subjectAccessReviewAuthorizer(options: SubjectAccessReviewOptions): Authorizer {
  const cache = new ExpiringCache<AuthorizationDecision>(options.maxEntries);
  return {
    async authorize(attrs) {
      const spec = reviewSpec(attrs);
      const key = JSON.stringify(spec);
      const cached = cache.get(key);
      if (cached) return cached;
      let status: SubjectAccessReviewStatus;
      try {
        const body = { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec };
        const review = await options.client.post<{ status?: SubjectAccessReviewStatus }>(
          SUBJECT_ACCESS_REVIEWS,
          body,
          AbortSignal.timeout(options.timeoutMs),
        );
        status = review.status ?? {};
      } catch (err) {
        options.onError?.(err);
        const why = err instanceof Error ? err.message : String(err);
        throw errors.unavailable(
          `authorization of User "${attrs.user.name}" is unavailable: SubjectAccessReview at ` +
            `${options.client.config.server} failed: ${why}`,
        );
      }
      const decision: AuthorizationDecision = { allowed: status.allowed === true };
      if (status.denied) decision.denied = true;
      if (status.reason) decision.reason = status.reason;
      cache.set(key, decision, decision.allowed ? options.allowedTtlMs : options.deniedTtlMs);
      return decision;
    },
  };
}
