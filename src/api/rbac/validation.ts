// RBAC's semantic checks, as kube-apiserver's pkg/apis/rbac/validation: rules, subjects and the
// roleRef a binding may never change.
import { isDeepStrictEqual } from 'node:util';
import type { FieldError, KubeObject } from '../kind.ts';
import { invalid, quote, required } from '../schema/object-meta.ts';
import { isPlainObject } from '../schema/walk.ts';
import { RBAC_GROUP, type ClusterRole, type PolicyRule, type RoleBinding, type Subject } from './types.ts';

function notSupported(field: string, value: unknown, supported: string[]): FieldError {
  const values = supported.map(quote).join(', ');
  const message = `Unsupported value: ${quote(value)}: supported values: ${values}`;
  return { type: 'FieldValueNotSupported', field, message };
}

/** kube's ValidateRBACName (path.IsValidPathSegmentName): RBAC names may hold ':' (gatehouse:view). */
export function pathSegmentNameProblems(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  const problems: string[] = [];
  for (const c of ['/', '%']) if (name.includes(c)) problems.push(`may not contain '${c}'`);
  return problems;
}

function ruleErrors(rule: PolicyRule, namespaced: boolean, field: string): FieldError[] {
  const errors: FieldError[] = [];
  if (!rule.verbs?.length) errors.push(required(`${field}.verbs`, 'verbs must contain at least one value'));
  if (rule.nonResourceURLs?.length) {
    const urls = rule.nonResourceURLs;
    const urlsField = `${field}.nonResourceURLs`;
    if (namespaced) errors.push(invalid(urlsField, urls, 'namespaced rules cannot apply to non-resource URLs'));
    if (rule.apiGroups?.length || rule.resources?.length || rule.resourceNames?.length) {
      errors.push(invalid(urlsField, urls, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return errors;
  }
  if (!rule.apiGroups?.length) {
    errors.push(required(`${field}.apiGroups`, 'resource rules must supply at least one api group'));
  }
  if (!rule.resources?.length) {
    errors.push(required(`${field}.resources`, 'resource rules must supply at least one resource'));
  }
  return errors;
}

export function rulesErrors(obj: KubeObject, namespaced: boolean): FieldError[] {
  const errors = ((obj as ClusterRole).rules ?? []).flatMap((r, i) => ruleErrors(r, namespaced, `rules[${i}]`));
  const aggregation = (obj as ClusterRole).aggregationRule;
  if (aggregation && !aggregation.clusterRoleSelectors?.length) {
    const detail = 'at least one clusterRoleSelector required if aggregationRule is non-nil';
    errors.push(required('aggregationRule.clusterRoleSelectors', detail));
  }
  return errors;
}

function subjectErrors(subject: Subject, namespaced: boolean, field: string): FieldError[] {
  switch (subject.kind) {
    case 'ServiceAccount': {
      const errors = pathSegmentNameProblems(subject.name).map((p) => invalid(`${field}.name`, subject.name, p));
      if (subject.apiGroup) errors.push(notSupported(`${field}.apiGroup`, subject.apiGroup, ['']));
      if (!namespaced && !subject.namespace) errors.push(required(`${field}.namespace`));
      return errors;
    }
    case 'User':
    case 'Group':
      if (subject.apiGroup === RBAC_GROUP) return [];
      return [notSupported(`${field}.apiGroup`, subject.apiGroup ?? '', [RBAC_GROUP])];
    default:
      return [notSupported(`${field}.kind`, subject.kind, ['ServiceAccount', 'User', 'Group'])];
  }
}

export function bindingErrors(obj: KubeObject, namespaced: boolean): FieldError[] {
  const { roleRef, subjects = [] } = obj as RoleBinding;
  const errors: FieldError[] = [];
  if (roleRef.apiGroup !== RBAC_GROUP) errors.push(notSupported('roleRef.apiGroup', roleRef.apiGroup, [RBAC_GROUP]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(roleRef.kind)) errors.push(notSupported('roleRef.kind', roleRef.kind, kinds));
  errors.push(...pathSegmentNameProblems(roleRef.name).map((p) => invalid('roleRef.name', roleRef.name, p)));
  for (const [i, s] of subjects.entries()) errors.push(...subjectErrors(s, namespaced, `subjects[${i}]`));
  return errors;
}

export function roleRefUnchanged(obj: KubeObject, old: KubeObject): FieldError[] {
  const { roleRef } = obj as RoleBinding;
  if (isDeepStrictEqual(roleRef, (old as RoleBinding).roleRef)) return [];
  return [invalid('roleRef', roleRef, 'cannot change roleRef')];
}

/** kube's v1 defaults: a User or Group subject is in the RBAC group, a ServiceAccount in the core one. */
export function defaultSubjects(obj: KubeObject): undefined {
  // Subjects of another shape are validation's to refuse, unchanged.
  const { subjects } = obj as { subjects?: unknown };
  if (!Array.isArray(subjects)) return;
  for (const s of subjects as unknown[]) {
    if (isPlainObject(s)) s.apiGroup ??= s.kind === 'ServiceAccount' ? '' : RBAC_GROUP;
  }
}
