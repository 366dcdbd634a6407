// Health assessment after an apply (Flux's `wait` and `healthChecks`): the ApiDefinitions a Sync applied
// must be served by the gateway (Ready=True) with their upstream passing its active checks (UpstreamHealthy
// True), both observed for the generation just applied, or a later one. The gateway writes both conditions
// into the ApiDefinition's status; the controller reads them from its watch cache, so waiting costs no
// requests. An API without spec.upstream.healthCheck (UpstreamHealthy Unknown, NoHealthCheck) is judged by
// Ready alone; a target its check has not judged yet (Unknown, Checking) is not healthy yet.
import type { KubeObject } from '../../api/kind.ts';
import type { Sync } from '../../api/kinds/sync/index.ts';
import { findCondition, type Condition, type CommonStatus } from '../../api/status.ts';
import { describeObject, parseId, type ChangeSet } from '../sync/index.ts';

const API_GROUP = 'gatehouse.dev';
const API_KIND = 'ApiDefinition';
/** How often the watch cache is looked at while waiting. */
const POLL_MS = 200;

/** An object a health check waits for: its inventory id, and the generation the apply stored, when it applied it. */
export interface CheckedObject {
  id: string;
  generation?: number;
}

/** The ApiDefinitions `sync` checks after the apply `changes`: its healthChecks, or with spec.wait every
 * ApiDefinition it applied; empty when it checks nothing. spec.rollback without healthChecks implies wait: its
 * error rate is judged on APIs found healthy first. */
export function checkedApis(sync: Sync, changes: ChangeSet): CheckedObject[] {
  const generations = new Map(changes.entries.map((e) => [e.id, e.generation]));
  const ids = new Set<string>();
  const defaultNamespace = sync.spec.targetNamespace ?? sync.metadata.namespace ?? 'default';
  for (const ref of sync.spec.healthChecks ?? []) {
    ids.add(`${ref.namespace ?? defaultNamespace}_${ref.name}_${API_GROUP}_${API_KIND}`);
  }
  if (sync.spec.wait || (sync.spec.rollback && !sync.spec.healthChecks?.length)) {
    for (const { id } of changes.inventory) {
      const identity = parseId(id);
      if (identity?.group === API_GROUP && identity.kind === API_KIND) ids.add(id);
    }
  }
  return [...ids].map((id) => ({ id, generation: generations.get(id) }));
}

/** Why `checked` is not healthy, as `live` (its object in the watch cache) says, or undefined when it is. */
export function unhealthy(checked: CheckedObject, live: KubeObject | undefined): string | undefined {
  const what = describeObject(parseId(checked.id) ?? { kind: API_KIND, name: checked.id });
  if (!live) return `${what} does not exist`;
  const status = live.status as CommonStatus | undefined;
  // Conditions of an older generation than the one applied speak of the config before it.
  const generation = Math.max(checked.generation ?? 0, live.metadata.generation ?? 0);
  const current = (c: Condition | undefined) => c && (c.observedGeneration ?? 0) >= generation;
  const why = (c: Condition | undefined) => (c?.message ? ` (${c.reason}: ${c.message})` : '');
  const ready = findCondition(status, 'Ready');
  if (!current(ready) || ready?.status !== 'True') return `${what} is not Ready${why(ready)}`;
  const upstream = findCondition(status, 'UpstreamHealthy');
  const judged = upstream?.status === 'True' || upstream?.reason === 'NoHealthCheck';
  if (!current(upstream) || !judged) return `${what} is not UpstreamHealthy${why(upstream)}`;
  return undefined;
}

/** Waits until every object of `checked` is healthy, for at most `timeoutMs`; resolves with what was still
 * wrong then (objects joined by "; "), or undefined when all were healthy. */
export async function awaitHealthy(
  checked: CheckedObject[],
  live: (id: string) => KubeObject | undefined,
  timeoutMs: number,
): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const problems = checked.map((c) => unhealthy(c, live(c.id))).filter((p) => p !== undefined);
    if (!problems.length) return undefined;
    if (Date.now() >= deadline) return problems.join('; ');
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, Math.max(0, deadline - Date.now()))));
  }
}
