// What SelfSubjectRulesReview answers (authorization.k8s.io/v1 SubjectRulesReviewStatus): the rules a
// user holds in a namespace, split into resource and non-resource rules, as kubectl auth can-i --list
// prints them. Members of system:masters hold everything, as kube's privileged-groups authorizer says.
import type { PolicyRule } from '../../../api/rbac/types.ts';
import type { UserInfo } from '../auth.ts';
import type { PolicyIndex } from './policy-index.ts';

export interface RulesReviewStatus {
  resourceRules: { verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[] }[];
  nonResourceRules: { verbs: string[]; nonResourceURLs?: string[] }[];
  /** True when some rules could not be resolved (a binding names a missing role). */
  incomplete: boolean;
  evaluationError?: string;
}

const MASTERS_RULES: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

export function rulesReview(index: PolicyIndex, user: UserInfo, namespace: string): RulesReviewStatus {
  const { rules, errors } = index.rulesFor(user, namespace || undefined);
  const all = user.groups.includes('system:masters') ? [...MASTERS_RULES, ...rules] : rules;
  const status: RulesReviewStatus = {
    resourceRules: all
      .filter((r) => !r.nonResourceURLs?.length)
      .map(({ verbs, apiGroups = [], resources = [], resourceNames }) => ({
        verbs,
        apiGroups,
        resources,
        ...(resourceNames?.length ? { resourceNames } : {}),
      })),
    nonResourceRules: all
      .filter((r) => r.nonResourceURLs?.length)
      .map(({ verbs, nonResourceURLs }) => ({ verbs, nonResourceURLs })),
    incomplete: errors.length > 0,
  };
  if (errors.length) status.evaluationError = errors.join(', ');
  return status;
}
