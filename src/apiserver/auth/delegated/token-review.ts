// kube's webhook token authenticator as delegated servers use it: a bearer token is asked of the cluster by
// TokenReview (authentication.k8s.io/v1), and the answer, either way, is kept for a while (kube's
// --authentication-token-webhook-cache-ttl, 10 s), keyed by a hash of the token so no token is held in
// memory. When the cluster cannot be reached the token does not authenticate (401, as kube) and the failure
// is reported; a cached answer is still used.
import { createHash } from 'node:crypto';
import type { KubeClient } from '../../../client/rest.ts';
import type { TokenAuthenticator, UserInfo } from '../auth.ts';
import { ExpiringCache } from './expiring-cache.ts';

const TOKEN_REVIEWS = '/apis/authentication.k8s.io/v1/tokenreviews';

export interface TokenReviewOptions {
  client: KubeClient;
  ttlMs: number;
  /** Bound of one TokenReview request. */
  timeoutMs: number;
  /** The audiences a token must be meant for (kube's --api-audiences); none asks for the cluster's own. */
  audiences?: readonly string[];
  maxEntries?: number;
  onError?(err: unknown): void;
}

interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  audiences?: string[];
}

function userOf(status: TokenReviewStatus, audiences: readonly string[]): UserInfo | undefined {
  if (!status.authenticated || !status.user?.username) return undefined;
  // As kube's webhook: a review that asked for audiences must name one of them in its answer.
  if (audiences.length && !status.audiences?.some((a) => audiences.includes(a))) return undefined;
  const { username, uid, groups, extra } = status.user;
  return { name: username, uid: uid ?? '', groups: groups ?? [], ...(extra ? { extra } : {}) };
}

export function tokenReviewAuthenticator(options: TokenReviewOptions): TokenAuthenticator {
  const cache = new ExpiringCache<UserInfo | null>(options.maxEntries);
  return {
    async authenticateToken(token, audiences = options.audiences ?? []) {
      const key = createHash('sha256').update(token).update('\0').update(audiences.join('\0')).digest('base64');
      const cached = cache.get(key);
      if (cached !== undefined) return cached ?? undefined;
      const spec = audiences.length ? { token, audiences } : { token };
      let review: { status?: TokenReviewStatus };
      try {
        const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec };
        review = await options.client.post(TOKEN_REVIEWS, body, AbortSignal.timeout(options.timeoutMs));
      } catch (err) {
        options.onError?.(err);
        return undefined;
      }
      const user = userOf(review.status ?? {}, audiences);
      cache.set(key, user ?? null, options.ttlMs);
      return user;
    },
  };
}
