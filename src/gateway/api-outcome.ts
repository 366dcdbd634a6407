// What became of each ApiDefinition when a config was compiled: routed, and on which
// listeners, or left out and why. One structured answer per API that the status writer
// (Ready), the probe (which listener to send to) and the log all read, so nobody parses
// the problem strings meant for people.
import type { Route, Router } from './router.ts';

/** Why an API is, or is not, served; the Ready condition's reason. */
export type ApiOutcomeReason =
  /** Routed on at least one listener. */
  | 'Served'
  /** spec.active is false: declared, deliberately not routed. */
  | 'Inactive'
  /** An older API claimed the same listenPath on every one of its hosts. */
  | 'Shadowed'
  /** The gateway could not compile it (credentials it cannot check): left out, fail closed. */
  | 'Invalid';

export type ListenerName = 'public' | 'internal';

export interface ApiOutcome {
  reason: ApiOutcomeReason;
  /** Listeners the API is routed on; empty unless `reason` is Served. */
  listeners: ListenerName[];
  /** For people: where the API is served, or why it is not. It names listeners, never
   * addresses, so every replica words it the same way. */
  message: string;
}

/** A route of the config: public routes go on both listeners, internal ones on the internal only. */
export type ListenerRoute<T> = Route<T> & { internalOnly: boolean };

export const INACTIVE: ApiOutcome = { reason: 'Inactive', listeners: [], message: 'not routed: spec.active is false' };

export function leftOut(why: string): ApiOutcome {
  return { reason: 'Invalid', listeners: [], message: `left out: ${why}` };
}

/** The outcome of every route: where the routers placed it, or which older API holds its
 * path. A public route can lose on the internal listener (to an older internal API) and
 * still be served on the public one. */
export function routeOutcomes<T extends { id: string }>(
  routes: readonly ListenerRoute<T>[],
  publicRouter: Router<T>,
  internal: Router<T>,
): Map<string, ApiOutcome> {
  const lostPublic = new Set(publicRouter.shadowed);
  const lostInternal = new Set(internal.shadowed);
  const outcomes = new Map<string, ApiOutcome>();
  for (const route of routes) {
    if (!lostPublic.has(route) && !lostInternal.has(route)) {
      outcomes.set(route.value.id, unopposed(route));
      continue;
    }
    const listeners: ListenerName[] = [];
    if (!route.internalOnly && !lostPublic.has(route)) listeners.push('public');
    if (!lostInternal.has(route)) listeners.push('internal');
    const holder = lostInternal.has(route) ? `; on the internal listener ${holderOf(internal, route)}` : '';
    outcomes.set(
      route.value.id,
      listeners.length
        ? servedOn(listeners, route, holder)
        : { reason: 'Shadowed', listeners, message: `not routed: ${holderOf(internal, route)}` },
    );
  }
  return outcomes;
}

/** The outcome of a route that lost nothing depends on the route alone: made once, so a
 * compile reusing the route reuses its outcome too (and readers may compare by identity). */
const unopposedOutcomes = new WeakMap<ListenerRoute<unknown>, ApiOutcome>();

function unopposed(route: ListenerRoute<unknown>): ApiOutcome {
  let outcome = unopposedOutcomes.get(route);
  if (!outcome) {
    outcome = servedOn(route.internalOnly ? ['internal'] : ['public', 'internal'], route, '');
    unopposedOutcomes.set(route, outcome);
  }
  return outcome;
}

function servedOn(listeners: ListenerName[], route: Route<unknown>, holder: string): ApiOutcome {
  return {
    reason: 'Served',
    listeners,
    message: `served on the ${listeners.join(' and ')} listener${listeners.length > 1 ? 's' : ''} at ${where(route)}${holder}`,
  };
}

function where(route: Route<unknown>): string {
  return route.hosts.length ? `${route.listenPath} (hosts ${route.hosts.join(', ')})` : route.listenPath;
}

/** Names the API that holds a shadowed route's path: matching the route's own first host
 * and listenPath finds exactly the node it lost ("*.example.com" finds the wildcard root). */
function holderOf<T extends { id: string }>(router: Router<T>, route: Route<T>): string {
  const holder = router.match(
    route.hosts[0],
    route.listenPath.split('/').filter((s) => s !== ''),
  )!;
  return `${holder.value.id}, an older API, already serves ${route.listenPath} on the same host`;
}
