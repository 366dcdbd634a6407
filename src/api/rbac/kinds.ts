// The four kinds of rbac.authorization.k8s.io/v1, with kube-apiserver's validation and printer columns.
import { ageColumn, column } from '../columns.ts';
import type { KindDefinition, KubeObject, PrinterColumn } from '../kind.ts';
import { clusterRoleBindingSchema, clusterRoleSchema, roleBindingSchema, roleSchema } from './schema.ts';
import { RBAC_GROUP, type RoleBinding, type SubjectKind } from './types.ts';
import {
  bindingErrors,
  defaultSubjects,
  pathSegmentNameProblems,
  roleRefUnchanged,
  rulesErrors,
} from './validation.ts';

type Names = Pick<KindDefinition, 'kind' | 'listKind' | 'plural' | 'singular'>;

type Common = Omit<KindDefinition, 'strategy' | 'printerColumns'>;

function rbacKind(names: Names, namespaced: boolean, schema: KindDefinition['schema']): Common {
  return {
    builtIn: true,
    group: RBAC_GROUP,
    version: 'v1',
    ...names,
    shortNames: [],
    categories: [],
    namespaced,
    statusSubresource: false,
    generation: false,
    schema,
    description: schema.description!,
    nameProblems: pathSegmentNameProblems,
  };
}

const createdAt = column('Created At', 'When the role was created.', (o) => o.metadata.creationTimestamp ?? '');

function subjectsOf(kind: SubjectKind) {
  return (o: KubeObject) =>
    ((o as RoleBinding).subjects ?? [])
      .filter((s) => s.kind === kind)
      .map((s) => (kind === 'ServiceAccount' ? `${s.namespace ?? ''}/${s.name}` : s.name))
      .join(', ');
}

const bindingColumns: PrinterColumn[] = [
  column('Role', 'The role granted.', (o) => `${(o as RoleBinding).roleRef.kind}/${(o as RoleBinding).roleRef.name}`),
  ageColumn(),
  column('Users', 'User subjects.', subjectsOf('User'), { wide: true }),
  column('Groups', 'Group subjects.', subjectsOf('Group'), { wide: true }),
  column('ServiceAccounts', 'ServiceAccount subjects.', subjectsOf('ServiceAccount'), { wide: true }),
];

export const roleKind: KindDefinition = {
  ...rbacKind({ kind: 'Role', listKind: 'RoleList', plural: 'roles', singular: 'role' }, true, roleSchema),
  printerColumns: [createdAt],
  strategy: { validate: (obj) => rulesErrors(obj, true) },
};

export const clusterRoleKind: KindDefinition = {
  ...rbacKind(
    { kind: 'ClusterRole', listKind: 'ClusterRoleList', plural: 'clusterroles', singular: 'clusterrole' },
    false,
    clusterRoleSchema,
  ),
  printerColumns: [createdAt],
  strategy: { validate: (obj) => rulesErrors(obj, false) },
};

function bindingStrategy(namespaced: boolean): KindDefinition['strategy'] {
  return {
    prepareForCreate: defaultSubjects,
    prepareForUpdate: defaultSubjects,
    validate: (obj) => bindingErrors(obj, namespaced),
    validateUpdate: roleRefUnchanged,
  };
}

export const roleBindingKind: KindDefinition = {
  ...rbacKind(
    { kind: 'RoleBinding', listKind: 'RoleBindingList', plural: 'rolebindings', singular: 'rolebinding' },
    true,
    roleBindingSchema,
  ),
  printerColumns: bindingColumns,
  strategy: bindingStrategy(true),
};

export const clusterRoleBindingKind: KindDefinition = {
  ...rbacKind(
    {
      kind: 'ClusterRoleBinding',
      listKind: 'ClusterRoleBindingList',
      plural: 'clusterrolebindings',
      singular: 'clusterrolebinding',
    },
    false,
    clusterRoleBindingSchema,
  ),
  printerColumns: bindingColumns,
  strategy: bindingStrategy(false),
};

export const rbacKinds = [roleKind, clusterRoleKind, roleBindingKind, clusterRoleBindingKind];

export type * from './types.ts';
