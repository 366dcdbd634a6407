// The answer of authorization.k8s.io/v1 SelfSubjectRulesReview: the rules RBAC grants the user the request
// acts as (after impersonation) in spec.namespace, cluster-wide ones included.
import { AUTHORIZATION_GROUP } from '../api/authorization/types.ts';
import type { SelfSubjectRulesReview } from '../api/authorization/rules-review.ts';
import type { UserInfo } from './auth/auth.ts';
import type { RulesReviewStatus } from './auth/rbac/rules-review.ts';
import type { CreateOnlyAnswerer } from './http/handler.ts';

type RulesFor = (user: UserInfo, namespace: string) => RulesReviewStatus;

export function rulesReviewAnswerer(rulesFor: RulesFor): CreateOnlyAnswerer {
  return {
    group: AUTHORIZATION_GROUP,
    plural: 'selfsubjectrulesreviews',
    answer: (obj, user) => ({ ...obj, status: rulesFor(user, (obj as SelfSubjectRulesReview).spec.namespace ?? '') }),
  };
}
