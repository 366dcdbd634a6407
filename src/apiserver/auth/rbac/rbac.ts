// RBAC for the API server, put together: the bootstrap policy reconciled, the policy index fed by
// watches, the aggregation controller on the same watches, the authorizer answering from the index,
// and the escalation check the handler admits RBAC writes with.
import { RBAC_GROUP } from '../../../api/rbac/types.ts';
import type { Registry } from '../../registry/registry.ts';
import type { ResourceStore } from '../../registry/store.ts';
import type { Authorizer, UserInfo } from '../auth.ts';
import { AggregationController } from './aggregation.ts';
import { rbacAuthorizer } from './authorizer.ts';
import { EscalationCheck } from './escalation.ts';
import { feedPolicyIndex } from './feed.ts';
import { PolicyIndex } from './policy-index.ts';
import { reconcileBootstrapPolicy } from './reconcile.ts';
import { rulesReview, type RulesReviewStatus } from './rules-review.ts';

export interface Rbac {
  /** Allows what RBAC grants; no opinion otherwise (put it in a union). */
  authorizer: Authorizer;
  /** The rules `user` holds in `namespace` (cluster-wide ones included), as SelfSubjectRulesReview answers. */
  rulesFor(user: UserInfo, namespace: string): RulesReviewStatus;
  /** The escalation check, asking `authorizer` (the server's whole chain) whether a user may escalate or bind. */
  escalationCheck(authorizer: Authorizer): EscalationCheck;
  /** Stops the watches and the aggregation controller. */
  close(): void;
}

/** Resolves once the bootstrap policy is in storage and the index holds every RBAC object, so the first
 * request is answered from complete policy. */
export async function startRbac(registry: Registry, onError: (err: unknown, role: string) => void): Promise<Rbac> {
  await reconcileBootstrapPolicy(registry);
  const index = new PolicyIndex();
  const stop = new AbortController();
  const clusterRoles = registry.store(RBAC_GROUP, 'clusterroles') as ResourceStore;
  const aggregation = new AggregationController(index, clusterRoles, onError);
  await feedPolicyIndex(registry, index, stop.signal, (kind) => {
    if (kind === 'ClusterRole') aggregation.changed();
  });
  return {
    authorizer: rbacAuthorizer(index),
    rulesFor: (user, namespace) => rulesReview(index, user, namespace),
    escalationCheck: (authorizer) => new EscalationCheck(index, authorizer),
    close() {
      stop.abort();
      aggregation.stop();
    },
  };
}
