import type { KubeObject } from '../kind.ts';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** rbacv1.PolicyRule: what a role allows. Resource rules name apiGroups and resources (`pods`,
 * `pods/log`, `*`, `*\/status`), optionally restricted to resourceNames; non-resource rules name URL
 * paths (a trailing `*` matches a prefix). `*` in verbs, apiGroups or resources matches everything. */
export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** metav1.LabelSelector. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export interface AggregationRule {
  clusterRoleSelectors?: LabelSelector[];
}

export interface Role extends KubeObject {
  rules?: PolicyRule[];
}

export interface ClusterRole extends KubeObject {
  rules?: PolicyRule[];
  aggregationRule?: AggregationRule;
}

export type SubjectKind = 'User' | 'Group' | 'ServiceAccount';

export interface Subject {
  kind: SubjectKind;
  /** rbac.authorization.k8s.io for User and Group, "" for ServiceAccount. */
  apiGroup?: string;
  name: string;
  /** ServiceAccount subjects only; in a RoleBinding it defaults to the binding's namespace. */
  namespace?: string;
}

export interface RoleRef {
  apiGroup: string;
  kind: 'Role' | 'ClusterRole';
  name: string;
}

export interface RoleBinding extends KubeObject {
  subjects?: Subject[];
  roleRef: RoleRef;
}

export type ClusterRoleBinding = RoleBinding;
