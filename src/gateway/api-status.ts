// The status a gateway reports for one ApiDefinition, computed from the config it serves:
//   Ready            whether the config routes the API (reason: the outcome, see api-outcome.ts)
//   UpstreamHealthy  what the active health checks say of its targets
// Conditions are set with metav1.Condition semantics (lastTransitionTime moves only when a
// condition's status does), so computing the same status twice yields an equal object and
// writeStatus writes nothing.
import type { ApiDefinition, ApiDefinitionStatus } from '../api/kinds/api-definition/index.ts';
import { ConditionType, setCondition, type ConditionInput } from '../controller/runtime/conditions.ts';
import type { ApiOutcome } from './api-outcome.ts';
import type { TargetHealth } from './upstream.ts';

export const UPSTREAM_HEALTHY = 'UpstreamHealthy';

/** Reasons of UpstreamHealthy. */
export const UpstreamReason = {
  /** Every target passes its checks. */
  Healthy: 'Healthy',
  /** Some targets fail their checks; the others carry the traffic. */
  Degraded: 'Degraded',
  /** Every target fails its checks (the gateway then still sends to them: it fails open). */
  Unhealthy: 'Unhealthy',
  NoHealthCheck: 'NoHealthCheck',
  /** Every target has weight 0. */
  NoTargets: 'NoTargets',
  /** The gateway does not compile the API (inactive or left out), so checks nothing. */
  NotServed: 'NotServed',
  /** Some targets have not passed a check yet, nor failed enough of them to be called down. */
  Checking: 'Checking',
} as const;

/**
 * The status `api` should have. `api` is the object as last read (its conditions are the
 * base); `generation` is the one the config was compiled from; `targets` is the health of
 * its targets, absent when the config does not compile the API.
 */
export function apiStatus(
  api: ApiDefinition,
  generation: number | undefined,
  outcome: ApiOutcome,
  targets: TargetHealth[] | undefined,
  now?: Date,
): ApiDefinitionStatus {
  const ready: ConditionInput = {
    type: ConditionType.Ready,
    status: outcome.reason === 'Served' ? 'True' : 'False',
    reason: outcome.reason,
    message: outcome.message,
  };
  let conditions = setCondition(api.status?.conditions, ready, generation, now);
  conditions = setCondition(conditions, upstreamHealthy(api, targets), generation, now);
  return { ...api.status, observedGeneration: generation, conditions };
}

function upstreamHealthy(api: ApiDefinition, targets: TargetHealth[] | undefined): ConditionInput {
  const unknown = (reason: string, message: string): ConditionInput => ({
    type: UPSTREAM_HEALTHY,
    status: 'Unknown',
    reason,
    message,
  });
  if (!targets)
    return unknown(UpstreamReason.NotServed, 'the gateway does not serve the API, so it checks none of its targets');
  const check = api.spec.upstream.healthCheck;
  if (!check)
    return unknown(UpstreamReason.NoHealthCheck, 'spec.upstream.healthCheck is not set: targets are not checked');
  if (targets.length === 0) return unknown(UpstreamReason.NoTargets, 'every upstream target has weight 0');
  const failing = targets.filter((t) => !t.healthy).map((t) => t.url);
  const unjudged = targets.filter((t) => t.healthy && !t.judged).length;
  if (failing.length === 0 && unjudged > 0)
    return unknown(
      UpstreamReason.Checking,
      `${unjudged} of ${targets.length} targets not yet judged by the check of ${check.path}`,
    );
  if (failing.length === 0)
    return {
      type: UPSTREAM_HEALTHY,
      status: 'True',
      reason: UpstreamReason.Healthy,
      message: `${targets.length} of ${targets.length} targets pass the check of ${check.path}`,
    };
  const reason = failing.length === targets.length ? UpstreamReason.Unhealthy : UpstreamReason.Degraded;
  return {
    type: UPSTREAM_HEALTHY,
    status: 'False',
    reason,
    message: `${failing.length} of ${targets.length} targets fail the check of ${check.path}: ${failing.join(', ')}`,
  };
}
