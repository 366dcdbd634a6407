// kube's authorizer chain (k8s.io/apiserver/pkg/authorization/union): each authorizer allows,
// denies, or has no opinion; the first that allows or denies decides, and a request nobody allows
// is refused with the reasons collected on the way.
import type { AuthorizationDecision, Authorizer } from './auth.ts';

export function unionAuthorizer(...authorizers: Authorizer[]): Authorizer {
  return {
    async authorize(attrs) {
      const reasons: string[] = [];
      for (const authorizer of authorizers) {
        const decision = await authorizer.authorize(attrs);
        if (decision.allowed || decision.denied) return decision;
        if (decision.reason) reasons.push(decision.reason);
      }
      const refused: AuthorizationDecision = { allowed: false };
      if (reasons.length) refused.reason = reasons.join(', ');
      return refused;
    },
  };
}

/** Allows everything to members of the groups (kube's `system:masters` short-cut, which no RBAC policy
 * can take away); no opinion on everyone else. */
export function privilegedGroups(...groups: string[]): Authorizer {
  return {
    authorize: async ({ user }) => ({ allowed: user.groups.some((g) => groups.includes(g)) }),
  };
}
