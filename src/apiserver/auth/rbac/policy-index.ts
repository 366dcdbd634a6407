// The RBAC policy in memory: roles by name and bindings by subject, kept current from watches of the
// four kinds (see feed.ts), so answering a request reads no storage. kube's RBAC authorizer reads the
// same objects from informer caches; here bindings are also filed by subject, so a request visits only
// the bindings that name its user, its groups or its service account.
import type { KubeObject } from '../../../api/kind.ts';
import type { ClusterRole, PolicyRule, Role, RoleBinding, Subject } from '../../../api/rbac/types.ts';
import type { UserInfo } from '../auth.ts';
import { serviceAccountOf } from '../../../api/core/service-account/names.ts';

export type RbacKind = 'Role' | 'ClusterRole' | 'RoleBinding' | 'ClusterRoleBinding';

/** Where a rule came from, for the reason of a decision ("allowed by ClusterRoleBinding …"). */
export interface RuleSource {
  binding: RoleBinding;
  /** Set when the binding's role is missing: its rules grant nothing and the reason says why. */
  missing?: string;
}

/** Told of each rule granted and where it comes from; returns true to stop. */
export type RuleVisitor = (rule: PolicyRule, source: RuleSource) => boolean;

/** The keys a user's subjects are filed under: its name, each group, and its service account. */
export function subjectKeysOf(user: UserInfo): string[] {
  const keys = [`User:${user.name}`, ...user.groups.map((g) => `Group:${g}`)];
  const serviceAccount = serviceAccountOf(user.name);
  if (serviceAccount) keys.push(`ServiceAccount:${serviceAccount.namespace}/${serviceAccount.name}`);
  return keys;
}

/** A ServiceAccount subject without a namespace means the binding's own; in a ClusterRoleBinding it names
 * nobody (kube's appliesToUser). */
function subjectKey(subject: Subject, bindingNamespace: string): string | undefined {
  if (subject.kind !== 'ServiceAccount') return `${subject.kind}:${subject.name}`;
  const namespace = subject.namespace || bindingNamespace;
  return namespace ? `ServiceAccount:${namespace}/${subject.name}` : undefined;
}

/** Bindings of one scope (the cluster, or one namespace) by name and by subject key. */
class BindingSet {
  readonly byName = new Map<string, RoleBinding>();
  private readonly bySubject = new Map<string, Set<string>>();

  set(binding: RoleBinding): void {
    this.delete(binding.metadata.name as string);
    this.byName.set(binding.metadata.name as string, binding);
    for (const key of this.keysOf(binding)) {
      let names = this.bySubject.get(key);
      if (!names) this.bySubject.set(key, (names = new Set()));
      names.add(binding.metadata.name as string);
    }
  }

  delete(name: string): void {
    const old = this.byName.get(name);
    if (!old) return;
    this.byName.delete(name);
    for (const key of this.keysOf(old)) {
      const names = this.bySubject.get(key);
      names?.delete(name);
      if (names?.size === 0) this.bySubject.delete(key);
    }
  }

  /** Bindings naming any of `keys`, each once, in name order (so reasons do not depend on arrival). */
  matching(keys: string[]): RoleBinding[] {
    const names = new Set<string>();
    for (const key of keys) for (const name of this.bySubject.get(key) ?? []) names.add(name);
    return [...names].sort().map((n) => this.byName.get(n) as RoleBinding);
  }

  get size(): number {
    return this.byName.size;
  }

  private keysOf(binding: RoleBinding): string[] {
    const namespace = binding.metadata.namespace ?? '';
    return (binding.subjects ?? []).flatMap((s) => subjectKey(s, namespace) ?? []);
  }
}

export class PolicyIndex {
  private readonly roles = new Map<string, Role>();
  private readonly clusterRoles = new Map<string, ClusterRole>();
  private readonly clusterBindings = new BindingSet();
  private readonly roleBindings = new Map<string, BindingSet>();

  /** Applies an object as a watch reports it (ADDED and MODIFIED set, DELETED removes). */
  apply(kind: RbacKind, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject): void {
    const name = obj.metadata.name as string;
    const namespace = obj.metadata.namespace ?? '';
    const deleted = type === 'DELETED';
    switch (kind) {
      case 'Role':
        if (deleted) this.roles.delete(`${namespace}/${name}`);
        else this.roles.set(`${namespace}/${name}`, obj as Role);
        return;
      case 'ClusterRole':
        if (deleted) this.clusterRoles.delete(name);
        else this.clusterRoles.set(name, obj as ClusterRole);
        return;
      case 'ClusterRoleBinding':
        if (deleted) this.clusterBindings.delete(name);
        else this.clusterBindings.set(obj as RoleBinding);
        return;
      case 'RoleBinding': {
        let set = this.roleBindings.get(namespace);
        if (!set) this.roleBindings.set(namespace, (set = new BindingSet()));
        if (deleted) set.delete(name);
        else set.set(obj as RoleBinding);
        if (set.size === 0) this.roleBindings.delete(namespace);
      }
    }
  }

  /** Replaces every object of `kind` with `objects` (a watch's initial state, after a restart too). */
  reset(kind: RbacKind, objects: KubeObject[]): void {
    if (kind === 'Role') this.roles.clear();
    else if (kind === 'ClusterRole') this.clusterRoles.clear();
    else if (kind === 'RoleBinding') this.roleBindings.clear();
    else for (const name of [...this.clusterBindings.byName.keys()]) this.clusterBindings.delete(name);
    for (const obj of objects) this.apply(kind, 'ADDED', obj);
  }

  clusterRole(name: string): ClusterRole | undefined {
    return this.clusterRoles.get(name);
  }

  allClusterRoles(): IterableIterator<ClusterRole> {
    return this.clusterRoles.values();
  }

  /** The rules a binding's roleRef grants, or why it grants nothing. */
  rulesOf(binding: RoleBinding): { rules: PolicyRule[]; missing?: string } {
    const { roleRef } = binding;
    const role =
      roleRef.kind === 'ClusterRole'
        ? this.clusterRoles.get(roleRef.name)
        : this.roles.get(`${binding.metadata.namespace ?? ''}/${roleRef.name}`);
    if (role) return { rules: role.rules ?? [] };
    const resource = roleRef.kind === 'ClusterRole' ? 'clusterrole' : 'role';
    return { rules: [], missing: `${resource}.rbac.authorization.k8s.io "${roleRef.name}" not found` };
  }

  /** Calls `visit` with each rule granted to `user` in `namespace` (cluster-wide bindings first, as kube),
   * until it returns true. Returns whether a visit did. */
  visit(user: UserInfo, namespace: string | undefined, visit: RuleVisitor): boolean {
    const keys = subjectKeysOf(user);
    const sets = [this.clusterBindings, ...(namespace ? [this.roleBindings.get(namespace)] : [])];
    for (const set of sets) {
      for (const binding of set?.matching(keys) ?? []) {
        const { rules, missing } = this.rulesOf(binding);
        if (missing) visit({ verbs: [] }, { binding, missing });
        for (const rule of rules) if (visit(rule, { binding })) return true;
      }
    }
    return false;
  }

  /** Every rule granted to `user` in `namespace` (cluster-wide ones included), and the bindings whose role
   * is missing — kube's RulesFor, which the escalation check and SelfSubjectRulesReview read. */
  rulesFor(user: UserInfo, namespace: string | undefined): { rules: PolicyRule[]; errors: string[] } {
    const rules: PolicyRule[] = [];
    const errors: string[] = [];
    this.visit(user, namespace, (rule, source) => {
      if (source.missing) errors.push(source.missing);
      else rules.push(rule);
      return false;
    });
    return { rules, errors };
  }
}
