// The answers of authentication.k8s.io/v1 TokenReview and SelfSubjectReview (api/authentication). A
// TokenReview puts its token to the server's token authenticators (token file, ServiceAccount tokens) for
// the audiences it names, as kube-apiserver does for a webhook token authenticator calling it; a
// SelfSubjectReview tells the caller whom the request acts as (after impersonation, as kube).
import { AUTHENTICATION_GROUP, type ReviewedUser, type TokenReview } from '../api/authentication/types.ts';
import type { KubeObject } from '../api/kind.ts';
import type { TokenAuthenticator, UserInfo } from './auth/auth.ts';
import { withAuthenticatedGroup } from './auth/authenticator-union.ts';
import type { CreateOnlyAnswerer } from './http/handler.ts';

function reviewed(user: UserInfo): ReviewedUser {
  const { name: username, uid, groups, extra } = user;
  return { username, uid, groups, ...(extra ? { extra } : {}) };
}

async function reviewToken(
  tokens: TokenAuthenticator,
  apiAudiences: readonly string[],
  review: TokenReview,
): Promise<KubeObject> {
  const asked = review.spec.audiences?.length ? review.spec.audiences : undefined;
  const user = await tokens.authenticateToken(review.spec.token as string, asked);
  const status: TokenReview['status'] = user
    ? { authenticated: true, user: reviewed(withAuthenticatedGroup(user)), audiences: [...(asked ?? apiAudiences)] }
    : { authenticated: false, error: 'the token is unknown, expired, revoked or meant for another audience' };
  return { ...review, status };
}

export function authenticationReviewAnswerers(
  tokens: TokenAuthenticator,
  apiAudiences: readonly string[],
): CreateOnlyAnswerer[] {
  return [
    {
      group: AUTHENTICATION_GROUP,
      plural: 'tokenreviews',
      answer: (obj) => reviewToken(tokens, apiAudiences, obj as TokenReview),
    },
    {
      group: AUTHENTICATION_GROUP,
      plural: 'selfsubjectreviews',
      answer: (obj, user) => ({ ...obj, status: { userInfo: reviewed(user) } }),
    },
  ];
}
