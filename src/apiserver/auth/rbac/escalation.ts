// Escalation prevention (kube's pkg/registry/rbac/*/policybased and ConfirmNoEscalation): a user may
// only write a Role or ClusterRole granting rules the user already holds where it applies, unless
// allowed to `escalate` on it; and may only bind a role whose rules the user holds, unless allowed to
// `bind` it. system:masters may do both, as kube's EscalationAllowed.
import { isDeepStrictEqual } from 'node:util';
import type { KindDefinition, KubeObject } from '../../../api/kind.ts';
import { RBAC_GROUP, type ClusterRole, type PolicyRule, type RoleBinding } from '../../../api/rbac/types.ts';
import { errors } from '../../errors.ts';
import type { Authorizer, UserInfo } from '../auth.ts';
import type { PolicyIndex } from './policy-index.ts';
import { compactString, uncovered } from './rules.ts';

/** What may hold any rule: everything, on every resource and every URL. */
const FULL_AUTHORITY: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

/** A write about to be stored, as validating admission sees it (`old` on update). */
export interface AdmissionRequest {
  user: UserInfo;
  def: KindDefinition;
  obj: KubeObject;
  old?: KubeObject;
}

/** Merges rules that differ only in verbs (kube's CompactRules), so a refusal lists each resource once. */
function compact(rules: PolicyRule[]): PolicyRule[] {
  const merged = new Map<string, PolicyRule>();
  const others: PolicyRule[] = [];
  for (const rule of rules) {
    if (rule.nonResourceURLs?.length) {
      others.push(rule);
      continue;
    }
    const key = JSON.stringify([rule.apiGroups, rule.resources, rule.resourceNames]);
    const seen = merged.get(key);
    if (seen) seen.verbs = [...new Set([...seen.verbs, ...rule.verbs])];
    else merged.set(key, { ...rule, verbs: [...rule.verbs] });
  }
  return [...others, ...merged.values()];
}

/** What the garbage collector changes (kube's IsOnlyMutatingGCFields) and the server's own bookkeeping. A
 * label is not among them: it may enter a ClusterRole into an aggregation. */
function withoutGcFields(obj: KubeObject): KubeObject {
  const { finalizers: _f, ownerReferences: _o, resourceVersion: _r, managedFields: _m, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/** Only finalizers or owners changed: no rule or grant is written, and the garbage collector needs no rights. */
function onlyGcFieldsChanged(obj: KubeObject, old: KubeObject | undefined): boolean {
  return old !== undefined && isDeepStrictEqual(withoutGcFields(obj), withoutGcFields(old));
}

export class EscalationCheck {
  constructor(
    private readonly index: PolicyIndex,
    private readonly authorizer: Authorizer,
  ) {}

  /** Throws Forbidden when the write would grant what its author does not hold. */
  async admit({ user, def, obj, old }: AdmissionRequest): Promise<void> {
    if (def.group !== RBAC_GROUP || user.groups.includes('system:masters') || onlyGcFieldsChanged(obj, old)) return;
    if (def.kind === 'Role' || def.kind === 'ClusterRole') await this.admitRole(user, def, obj, old);
    else await this.admitBinding(user, def, obj as RoleBinding);
  }

  private async allowed(user: UserInfo, verb: string, resource: string, namespace?: string, name?: string) {
    return (await this.authorizer.authorize({ user, verb, group: RBAC_GROUP, resource, namespace, name })).allowed;
  }

  private async admitRole(user: UserInfo, def: KindDefinition, obj: KubeObject, old: KubeObject | undefined) {
    const { namespace, name } = obj.metadata;
    if (await this.allowed(user, 'escalate', def.plural, namespace, old ? name : undefined)) return;
    this.confirmHeld(user, def, obj, (obj as ClusterRole).rules ?? []);
    const aggregation = (obj as ClusterRole).aggregationRule;
    if (aggregation && !isDeepStrictEqual(aggregation, (old as ClusterRole | undefined)?.aggregationRule)) {
      // An aggregation rule may gather any rule, so setting one takes every right.
      if (uncovered(this.index.rulesFor(user, namespace).rules, FULL_AUTHORITY).length) {
        throw this.refusal(def, obj, 'must have cluster-admin privileges to use the aggregationRule');
      }
    }
  }

  private async admitBinding(user: UserInfo, def: KindDefinition, binding: RoleBinding) {
    const { roleRef } = binding;
    const resource = roleRef.kind === 'ClusterRole' ? 'clusterroles' : 'roles';
    if (await this.allowed(user, 'bind', resource, binding.metadata.namespace, roleRef.name)) return;
    const { rules, missing } = this.index.rulesOf(binding);
    if (missing) throw this.refusal(def, binding, missing);
    this.confirmHeld(user, def, binding, rules);
  }

  private confirmHeld(user: UserInfo, def: KindDefinition, obj: KubeObject, rules: PolicyRule[]): void {
    const held = this.index.rulesFor(user, obj.metadata.namespace);
    const missing = uncovered(held.rules, rules);
    if (!missing.length) return;
    const groups = `[${user.groups.map((g) => JSON.stringify(g)).join(' ')}]`;
    const lines = [...new Set(compact(missing).map(compactString))].sort();
    let message =
      `user ${JSON.stringify(user.name)} (groups=${groups}) is attempting to grant RBAC permissions not ` +
      `currently held:\n${lines.join('\n')}`;
    if (held.errors.length) message += `; resolution errors: [${held.errors.join(', ')}]`;
    throw this.refusal(def, obj, message);
  }

  private refusal(def: KindDefinition, obj: KubeObject, why: string) {
    const name = obj.metadata.name ?? '';
    const ref = { group: RBAC_GROUP, resource: def.plural };
    return errors.forbidden(`${def.plural}.${RBAC_GROUP} "${name}" is forbidden: ${why}`, ref, name);
  }
}
