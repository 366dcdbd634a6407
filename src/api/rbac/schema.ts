import type { JSONSchema } from '../kind.ts';
import { array, enumeration, map, object, string } from '../schema/build.ts';

const strings = (description: string) => array(description, string(''), { 'x-kubernetes-list-type': 'atomic' });

const policyRule = object(
  'What a role allows: verbs on resources of API groups (optionally by name), or verbs on non-resource URLs.',
  {
    verbs: strings(
      'Verbs the rule allows (get, list, watch, create, update, patch, delete, deletecollection, ' + '…); "*" is all.',
    ),
    apiGroups: strings('API groups of the resources ("" is the core group); "*" is all.'),
    resources: strings('Resources, "resource/subresource" for a subresource; "*" is all, "*/status" every status.'),
    resourceNames: strings('Names the rule is restricted to; empty is every name.'),
    nonResourceURLs: strings('URL paths (ClusterRoles only), e.g. "/healthz"; a trailing "*" matches a prefix.'),
  },
  { required: ['verbs'] },
);

const rules = array('The rules of the role.', policyRule, { 'x-kubernetes-list-type': 'atomic' });

const labelSelector = object('A label query (metav1.LabelSelector): all of matchLabels and matchExpressions.', {
  matchLabels: map('Labels an object must carry with these values.'),
  matchExpressions: array(
    'Requirements on labels.',
    object(
      'A requirement on one label.',
      {
        key: string('The label key.', { minLength: 1 }),
        operator: enumeration('How the key relates to the values.', ['In', 'NotIn', 'Exists', 'DoesNotExist']),
        values: strings('Values for In and NotIn; empty for Exists and DoesNotExist.'),
      },
      { required: ['key', 'operator'] },
    ),
  ),
});

export const roleSchema: JSONSchema = object(
  'Role (rbac.authorization.k8s.io/v1) is a namespaced set of rules, granted by RoleBindings in its namespace.',
  { rules },
);

export const clusterRoleSchema: JSONSchema = object(
  'ClusterRole (rbac.authorization.k8s.io/v1) is a cluster-wide set of rules, granted by ClusterRoleBindings, or in ' +
    'one namespace by RoleBindings.',
  {
    rules,
    aggregationRule: object(
      'Makes this role the union of the ClusterRoles its selectors match; the server keeps ' + 'rules up to date.',
      {
        clusterRoleSelectors: array('Selectors of the ClusterRoles whose rules are aggregated.', labelSelector),
      },
    ),
  },
);

const subjects = array(
  'Who the binding grants the role to.',
  object(
    'A User, Group or ServiceAccount.',
    {
      kind: enumeration('Kind of subject.', ['User', 'Group', 'ServiceAccount']),
      apiGroup: string('rbac.authorization.k8s.io for User and Group (the default), "" for ServiceAccount.'),
      name: string('Name of the subject.', { minLength: 1 }),
      namespace: string('Namespace of a ServiceAccount subject.'),
    },
    { required: ['kind', 'name'] },
  ),
  { 'x-kubernetes-list-type': 'atomic' },
);

const roleRef = object(
  'The role granted; cannot change after creation.',
  {
    apiGroup: string('Always rbac.authorization.k8s.io.', { default: 'rbac.authorization.k8s.io' }),
    kind: enumeration('Role (RoleBindings only) or ClusterRole.', ['Role', 'ClusterRole']),
    name: string('Name of the role.', { minLength: 1 }),
  },
  { required: ['kind', 'name'] },
);

export const roleBindingSchema: JSONSchema = object(
  "RoleBinding (rbac.authorization.k8s.io/v1) grants a Role, or a ClusterRole's rules, in its namespace.",
  { subjects, roleRef },
  { required: ['roleRef'] },
);

export const clusterRoleBindingSchema: JSONSchema = object(
  'ClusterRoleBinding (rbac.authorization.k8s.io/v1) grants a ClusterRole in every namespace and at the cluster ' +
    'scope.',
  { subjects, roleRef },
  { required: ['roleRef'] },
);
