// The RBAC authorizer (kube's plugin/pkg/auth/authorizer/rbac): allows a request when a rule granted to
// the user in the request's namespace, or cluster-wide, matches it; otherwise no opinion, so a later
// authorizer of a union may still allow it.
import type { RoleBinding } from '../../../api/rbac/types.ts';
import type { Authorizer } from '../auth.ts';
import type { PolicyIndex } from './policy-index.ts';
import { ruleAllows } from './rules.ts';

function describeBinding(binding: RoleBinding): string {
  const kind = binding.metadata.namespace ? 'RoleBinding' : 'ClusterRoleBinding';
  const where = binding.metadata.namespace ? `${binding.metadata.namespace}/` : '';
  return `${kind} "${where}${binding.metadata.name}" of ${binding.roleRef.kind} "${binding.roleRef.name}"`;
}

export function rbacAuthorizer(index: PolicyIndex): Authorizer {
  return {
    async authorize(attrs) {
      const errors: string[] = [];
      let allowedBy: RoleBinding | undefined;
      index.visit(attrs.user, attrs.namespace, (rule, source) => {
        if (source.missing) errors.push(source.missing);
        else if (ruleAllows(attrs, rule)) allowedBy = source.binding;
        return allowedBy !== undefined;
      });
      if (allowedBy) return { allowed: true, reason: `RBAC: allowed by ${describeBinding(allowedBy)}` };
      return errors.length ? { allowed: false, reason: `RBAC: ${errors.join(', ')}` } : { allowed: false };
    },
  };
}
