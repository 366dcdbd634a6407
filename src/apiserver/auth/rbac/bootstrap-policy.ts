// The roles and bindings every Gatehouse API server has, as kube-apiserver's bootstrap policy
// (plugin/pkg/auth/authorizer/rbac/bootstrappolicy): kube's cluster-admin, admin, edit and view,
// discovery for every authenticated user, and Gatehouse's own roles. gatehouse:admin, gatehouse:edit
// and gatehouse:view carry the aggregate-to-admin|edit|view labels, so admin, edit and view hold
// Gatehouse's rights here and in any Kubernetes cluster that aggregates them.
import {
  RBAC_GROUP,
  type ClusterRole,
  type PolicyRule,
  type Role,
  type RoleBinding,
  type Subject,
} from '../../../api/rbac/types.ts';

/** Objects annotated "false" are left as they are at start; any other value (or none) is reconciled. */
export const AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate';
export const AGGREGATE_TO = (role: 'admin' | 'edit' | 'view') => `rbac.authorization.k8s.io/aggregate-to-${role}`;

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete', 'deletecollection'];
const ALL_VERBS = [...READ, ...WRITE];
const GATEHOUSE = 'gatehouse.dev';

/** Gatehouse kinds users manage, with the status each one's controller writes. */
const GATEHOUSE_KINDS = [
  'apidefinitions',
  'securitypolicies',
  'consumers',
  'apikeys',
  'gitrepositories',
  'syncs',
  'receivers',
  'providers',
  'alerts',
];
const withStatus = (plurals: string[]) => plurals.flatMap((p) => [p, `${p}/status`]);

const rule = (apiGroups: string[], resources: string[], verbs: string[], resourceNames?: string[]): PolicyRule =>
  resourceNames ? { apiGroups, resources, verbs, resourceNames } : { apiGroups, resources, verbs };

/** kube's view, for what Gatehouse serves: reads everything namespaced but Secrets and RBAC. */
const VIEW_RULES: PolicyRule[] = [
  rule([''], ['configmaps', 'events', 'serviceaccounts', 'namespaces', 'namespaces/status'], READ),
  rule([GATEHOUSE], [...withStatus(GATEHOUSE_KINDS), 'subresourcerequests', 'subresourcerequests/status'], READ),
  // The diff of a Sync is a read: it shows what applying would change, Secret data masked. An ApiDefinition's
  // history shows its generations, header values the gateway sets masked.
  rule([GATEHOUSE], ['syncs/diff', 'apidefinitions/history'], ['get']),
];

/** kube's edit: view, plus writes of namespaced objects (Secrets included), not of RBAC or status. */
const EDIT_RULES: PolicyRule[] = [
  ...VIEW_RULES,
  rule([''], ['secrets'], ALL_VERBS),
  rule([''], ['configmaps', 'serviceaccounts'], WRITE),
  rule([''], ['serviceaccounts'], ['impersonate']),
  rule([''], ['serviceaccounts/token'], ['create']),
  rule([GATEHOUSE], GATEHOUSE_KINDS, WRITE),
  rule(
    [GATEHOUSE],
    ['apidefinitions/probe', 'gitrepositories/reconcile', 'syncs/reconcile', 'syncs/rollback', 'syncs/resume'],
    ['create'],
  ),
];

/** kube's admin: edit, plus Roles and RoleBindings of the namespace and LocalSubjectAccessReviews, and breaking
 * the GitOps lock: `override` lets a write of an object a Sync owns through when it sets the override-reason
 * annotation (apiserver/gitops-lock.ts). */
const ADMIN_RULES: PolicyRule[] = [
  ...EDIT_RULES,
  rule([RBAC_GROUP], ['roles', 'rolebindings'], ALL_VERBS),
  rule(['authorization.k8s.io'], ['localsubjectaccessreviews'], ['create']),
  rule([GATEHOUSE], GATEHOUSE_KINDS, ['override']),
  rule([''], ['configmaps', 'secrets', 'serviceaccounts'], ['override']),
];

/** The lease the gateways elect their status writer with, and its namespace (gateway/status-reporter.ts). */
export const GATEWAY_LEASE_NAMESPACE = 'default';
export const GATEWAY_STATUS_LEASE = 'gatehouse-gateway-status';

/** What a gateway reads to build its config and does while serving: ApiDefinition status by its elected
 * writer, Events on ApiDefinitions, answers to probes, shared limit counts. Its Lease is a Role in
 * GATEWAY_LEASE_NAMESPACE. No Secrets: the gateway reads each Secret an API refers to by name, which the
 * namespace's owner grants with a Role limited to that name (docs/access.md), so it never holds one that
 * no API refers to (a Git deploy key). */
const GATEWAY_RULES: PolicyRule[] = [
  rule([GATEHOUSE], ['apidefinitions', 'securitypolicies', 'consumers', 'apikeys', 'subresourcerequests'], READ),
  rule([GATEHOUSE], ['apidefinitions/status', 'subresourcerequests/status'], ['patch']),
  rule([''], ['events'], ['create', 'patch']),
  rule([GATEHOUSE], ['counters'], ['create']),
];

/** As kube's leader-election roles: creating a Lease cannot be limited by name (a create has none), the reads
 * and writes after it are limited to the status Lease. A gateway serving one namespace or selector elects over
 * a Lease of its own name, granted by a Role of its own (docs/operations.md). */
/** The Lease GitOps controller replicas elect their leader on (gitops/manager.ts). */
export const CONTROLLER_LEASE = 'gatehouse-controller';

const GATEWAY_LEASE_RULES: PolicyRule[] = [
  rule(['coordination.k8s.io'], ['leases'], ['create']),
  rule(['coordination.k8s.io'], ['leases'], ['get', 'update'], [GATEWAY_STATUS_LEASE]),
];

/** The GitOps controller reads its sources' credentials and applies Syncs: every namespaced kind, RBAC's
 * only to read (it watches what Syncs applied for drift; a Sync writes RBAC as a ServiceAccount allowed to),
 * statuses of Gatehouse kinds, Events, the answers of reconcile and diff requests. */
const CONTROLLER_RULES: PolicyRule[] = [
  rule([GATEHOUSE], [...withStatus(GATEHOUSE_KINDS), 'subresourcerequests', 'subresourcerequests/status'], ALL_VERBS),
  rule([''], ['namespaces', 'secrets', 'configmaps', 'serviceaccounts', 'events'], ALL_VERBS),
  // Its replicas' leader election Lease only (a create cannot be limited to a name).
  rule(['coordination.k8s.io'], ['leases'], ['create']),
  rule(['coordination.k8s.io'], ['leases'], ['get', 'update'], [CONTROLLER_LEASE]),
  rule([RBAC_GROUP], ['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'], READ),
  // A Sync with spec.serviceAccountName is applied as that ServiceAccount.
  rule([''], ['serviceaccounts'], ['impersonate']),
];

const labelled = (role: 'admin' | 'edit' | 'view') => ({ [AGGREGATE_TO(role)]: 'true' });

function clusterRole(
  name: string,
  rules: PolicyRule[],
  labels: Record<string, string> = {},
  aggregateFrom?: string,
): ClusterRole {
  const role: ClusterRole = {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRole',
    metadata: {
      name,
      labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults', ...labels },
      annotations: { [AUTOUPDATE_ANNOTATION]: 'true' },
    },
    rules,
  };
  if (aggregateFrom) role.aggregationRule = { clusterRoleSelectors: [{ matchLabels: { [aggregateFrom]: 'true' } }] };
  return role;
}

const group = (name: string): Subject => ({ kind: 'Group', apiGroup: RBAC_GROUP, name });
const serviceAccount = (name: string): Subject => ({ kind: 'ServiceAccount', name, namespace: SYSTEM_NAMESPACE });

/** Where the ServiceAccounts Gatehouse's own components run as live (`gatehouse up` creates them). */
export const SYSTEM_NAMESPACE = 'gatehouse-system';
export const GATEWAY_SERVICE_ACCOUNT = 'gatehouse-gateway';
export const CONTROLLER_SERVICE_ACCOUNT = 'gatehouse-controller';

function binding(
  kind: 'ClusterRoleBinding' | 'RoleBinding',
  name: string,
  role: string,
  subjects: Subject[],
  namespace?: string,
): RoleBinding {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind,
    metadata: {
      name,
      ...(namespace ? { namespace } : {}),
      labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
      annotations: { [AUTOUPDATE_ANNOTATION]: 'true' },
    },
    roleRef: { apiGroup: RBAC_GROUP, kind: kind === 'RoleBinding' ? 'Role' : 'ClusterRole', name: role },
    subjects,
  };
}

export const BOOTSTRAP_CLUSTER_ROLES: ClusterRole[] = [
  clusterRole('cluster-admin', [rule(['*'], ['*'], ['*']), { verbs: ['*'], nonResourceURLs: ['*'] }]),
  // kube's aggregated roles: rules are the union of the labelled ClusterRoles (aggregation.ts).
  clusterRole('admin', [], {}, AGGREGATE_TO('admin')),
  clusterRole('edit', [], labelled('admin'), AGGREGATE_TO('edit')),
  clusterRole('view', [], labelled('edit'), AGGREGATE_TO('view')),
  clusterRole('system:discovery', [
    {
      verbs: ['get'],
      nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/openapi', '/openapi/*', '/version', '/version/'],
    },
  ]),
  clusterRole('system:basic-user', [
    rule(['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], ['create']),
    rule(['authentication.k8s.io'], ['selfsubjectreviews'], ['create']),
  ]),
  clusterRole('gatehouse:admin', ADMIN_RULES, labelled('admin')),
  clusterRole('gatehouse:edit', EDIT_RULES, labelled('edit')),
  clusterRole('gatehouse:view', VIEW_RULES, labelled('view')),
  clusterRole('gatehouse:gateway', GATEWAY_RULES),
  clusterRole('gatehouse:controller', CONTROLLER_RULES),
];

const statusLease = clusterRole('gatehouse:gateway:status-lease', GATEWAY_LEASE_RULES);
export const BOOTSTRAP_ROLES: Role[] = [
  { ...statusLease, kind: 'Role', metadata: { ...statusLease.metadata, namespace: GATEWAY_LEASE_NAMESPACE } },
];

export const BOOTSTRAP_CLUSTER_ROLE_BINDINGS: RoleBinding[] = [
  binding('ClusterRoleBinding', 'cluster-admin', 'cluster-admin', [group('system:masters')]),
  binding('ClusterRoleBinding', 'system:discovery', 'system:discovery', [group('system:authenticated')]),
  binding('ClusterRoleBinding', 'system:basic-user', 'system:basic-user', [group('system:authenticated')]),
  // The groups of token files written before RBAC keep what they could do, viewers without Secrets.
  binding('ClusterRoleBinding', 'gatehouse:admins', 'gatehouse:admin', [group('gatehouse:admins')]),
  binding('ClusterRoleBinding', 'gatehouse:admins:cluster-admin', 'cluster-admin', [group('gatehouse:admins')]),
  binding('ClusterRoleBinding', 'gatehouse:viewers', 'gatehouse:view', [group('gatehouse:viewers')]),
  binding('ClusterRoleBinding', 'gatehouse:gateways', 'gatehouse:gateway', [group('gatehouse:gateways')]),
  // The components' own ServiceAccounts hold their roles and nothing more.
  binding('ClusterRoleBinding', 'gatehouse:gateway', 'gatehouse:gateway', [serviceAccount(GATEWAY_SERVICE_ACCOUNT)]),
  binding('ClusterRoleBinding', 'gatehouse:controller', 'gatehouse:controller', [
    serviceAccount(CONTROLLER_SERVICE_ACCOUNT),
  ]),
];

export const BOOTSTRAP_ROLE_BINDINGS: RoleBinding[] = [
  binding(
    'RoleBinding',
    'gatehouse:gateways:status-lease',
    'gatehouse:gateway:status-lease',
    [group('gatehouse:gateways'), serviceAccount(GATEWAY_SERVICE_ACCOUNT)],
    GATEWAY_LEASE_NAMESPACE,
  ),
];
