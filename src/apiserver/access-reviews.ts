// The answers of authorization.k8s.io/v1 SubjectAccessReview, LocalSubjectAccessReview and
// SelfSubjectAccessReview (api/authorization): the review's question is put to the server's authorizer
// as the attributes of a request, and its decision written to status. A SelfSubjectAccessReview asks for
// the user the request acts as (after impersonation, so `kubectl auth can-i --as` asks for the other
// user); the others name their subject in spec.
import { AUTHORIZATION_GROUP, type AccessReview, type SubjectAccessReviewStatus } from '../api/authorization/types.ts';
import type { KubeObject } from '../api/kind.ts';
import type { AuthorizationAttributes, Authorizer, UserInfo } from './auth/auth.ts';
import type { CreateOnlyAnswerer } from './http/handler.ts';

/** The request a review asks about, as the authorizer's attributes. */
function attributesOf(review: AccessReview, user: UserInfo): AuthorizationAttributes {
  const { resourceAttributes: res, nonResourceAttributes: nonRes } = review.spec;
  if (nonRes) {
    const { verb = '', path = '' } = nonRes;
    return { user, verb, isResourceRequest: false, path, group: '', resource: '' };
  }
  return {
    user,
    verb: res?.verb ?? '',
    group: res?.group ?? '',
    resource: res?.resource ?? '',
    subresource: res?.subresource || undefined,
    namespace: res?.namespace || undefined,
    name: res?.name || undefined,
  };
}

function subjectOf(review: AccessReview): UserInfo {
  const { user, uid, groups, extra } = review.spec;
  return { name: user ?? '', uid: uid ?? '', groups: groups ?? [], ...(extra ? { extra } : {}) };
}

async function answer(authorizer: Authorizer, review: AccessReview, user: UserInfo): Promise<KubeObject> {
  const decision = await authorizer.authorize(attributesOf(review, user));
  const status: SubjectAccessReviewStatus = { allowed: decision.allowed };
  if (decision.denied) status.denied = true;
  if (decision.reason) status.reason = decision.reason;
  return { ...review, status };
}

export function accessReviewAnswerers(authorizer: Authorizer): CreateOnlyAnswerer[] {
  const bySpec = (obj: KubeObject) => answer(authorizer, obj as AccessReview, subjectOf(obj as AccessReview));
  return [
    { group: AUTHORIZATION_GROUP, plural: 'subjectaccessreviews', answer: bySpec },
    { group: AUTHORIZATION_GROUP, plural: 'localsubjectaccessreviews', answer: bySpec },
    {
      group: AUTHORIZATION_GROUP,
      plural: 'selfsubjectaccessreviews',
      answer: (obj, user) => answer(authorizer, obj as AccessReview, user),
    },
  ];
}
