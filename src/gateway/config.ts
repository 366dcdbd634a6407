// A gateway config: everything the request path needs, compiled from the watched objects.
// The server swaps configs atomically, and a request routes synchronously and then holds
// the compiled API it matched (immutable), so it sees one consistent generation from
// routing to proxying. An ApiDefinition that cannot be compiled is left out (and reported)
// rather than failing the whole config.
//
// Compiles are incremental: a config keeps what each ApiDefinition compiled to, and the next
// compile reuses it for every ApiDefinition whose spec did not change (same uid and
// generation) as long as the objects all APIs share (SecurityPolicies, Consumers, ApiKeys,
// Secrets) did not change either. When the gateway says which ApiDefinitions changed and no
// route moved, the routers are patched rather than rebuilt, so with 10,000 APIs one edit
// costs about what one API costs.
import type { ApiDefinition, HeaderModifier } from '../api/kinds/api-definition/index.ts';
import type { ApiKey } from '../api/kinds/api-key/index.ts';
import type { Consumer } from '../api/kinds/consumer/index.ts';
import type { SecurityPolicy } from '../api/kinds/security-policy/index.ts';
import type { Secret } from '../api/core/secret/index.ts';
import { authStep, credentialHeader, credentialQuery } from './auth/authenticate.ts';
import { ConsumerDirectory } from './auth/consumers.ts';
import type { RemoteKeySets } from './auth/jwks.ts';
import { recordClaims, type Claims } from './carried.ts';
import { compileKeys, type KeyEntry } from './keys.ts';
import type { Limiters } from './limiters.ts';
import { compileChain, type Step } from './policies.ts';
import { Router } from './router.ts';
import { TargetSet, type Upstreams } from './upstream.ts';
import { INACTIVE, leftOut, routeOutcomes, type ApiOutcome, type ListenerRoute } from './api-outcome.ts';

/** The objects a config is compiled from; also what is saved to disk as the last good config. */
export interface GatewayInputs {
  apis: ApiDefinition[];
  policies: SecurityPolicy[];
  consumers: Consumer[];
  apiKeys: ApiKey[];
  /** Only the Secrets basic-auth APIs refer to (see basicAuthSecrets): they hold password
   * hashes, and this is saved to disk. */
  secrets: Secret[];
}

export interface HeaderChanges {
  /** Lower-case names. */
  remove: string[];
  set: Array<[string, string]>;
}

export interface CompiledApi {
  /** "namespace/name", the label in logs, metrics and error bodies. */
  id: string;
  strip: boolean;
  chain: Step[];
  targets: TargetSet;
  requestHeaders?: HeaderChanges;
  responseHeaders?: HeaderChanges;
  maxBodyBytes?: number;
  /** Request header carrying the credentials, removed before proxying so they never reach
   * upstreams; absent when the API forwards its credentials. */
  credentialHeader?: string;
  /** Query parameter that may carry the credentials: always redacted in the access log. */
  credentialQuery?: string;
  /** Whether the credentials are passed on to the upstream (spec.auth.forwardCredentials). */
  forwardCredentials: boolean;
}

export interface GatewayConfig {
  generation: number;
  /** Epoch milliseconds of the swap. */
  createdAt: number;
  source: 'apiserver' | 'disk' | 'empty';
  inputs: GatewayInputs;
  /** Public listener: active, public APIs. */
  public: Router<CompiledApi>;
  /** Internal listener: every active API. */
  internal: Router<CompiledApi>;
  /** What became of every input API, by id ("namespace/name"): the listeners it is routed
   * on, or why it is not (read by the status writer and the probe). */
  outcomes: Map<string, ApiOutcome>;
  /** Why APIs were left out or lost a route, for the log. */
  problems: string[];
  /** What the next compile may reuse. */
  parts: Parts;
}

/** State a gateway carries from one config to the next (see carried.ts). */
export interface Carriers {
  upstreams: Upstreams;
  keySets: RemoteKeySets;
  limiters: Limiters;
}

/** What every API's compile uses: compiled again only when the objects it comes from change. */
interface SharedPart {
  consumers: ConsumerDirectory;
  keys: Map<string, KeyEntry>;
  secrets: Map<string, Secret>;
  claims: Claims;
}

/** One ApiDefinition as compiled: routed, or left out and why. */
interface ApiPart {
  id: string;
  api: ApiDefinition;
  /** Creation time, then id: the order in which APIs claim routes. */
  order: string;
  route?: ListenerRoute<CompiledApi>;
  leftOut?: ApiOutcome;
  claims: Claims;
}

interface Parts {
  shared: SharedPart;
  /** By id, for active APIs. */
  apis: Map<string, ApiPart>;
  /** Ids of `apis` in route priority order. */
  ordered: string[];
}

export const emptyInputs = (): GatewayInputs => ({ apis: [], policies: [], consumers: [], apiKeys: [], secrets: [] });

/** ApiDefinitions changed since the previous config, by id ("namespace/name"): the object as
 * it is now, or undefined when it was deleted. */
export type ApiChanges = ReadonlyMap<string, ApiDefinition | undefined>;

/**
 * Compiles `inputs`, reusing what `previous` compiled wherever the objects are the same.
 * When the caller knows which ApiDefinitions changed since `previous` (`changed`), only
 * those are looked at; otherwise every ApiDefinition is compared with the one `previous`
 * was compiled from.
 *
 * `previous` is handed over, not copied: with `changed`, its routers, outcomes and parts
 * are updated in place and become the new config's (copying them would cost the size of
 * the catalogue on every change). Only the returned config may be used afterwards, except
 * by requests already routed, which hold their compiled API and not the router.
 */
export function compileConfig(
  inputs: GatewayInputs,
  generation: number,
  source: GatewayConfig['source'],
  carriers: Carriers,
  previous?: GatewayConfig,
  changed?: ApiChanges,
): GatewayConfig {
  const before = previous?.parts;
  const sharedKept = before !== undefined && sameShared(previous!.inputs, inputs);
  const shared = sharedKept ? before.shared : compileShared(inputs, carriers.limiters);
  const update =
    sharedKept && changed
      ? patchApis(previous!, changed, shared, carriers)
      : compileApis(inputs, sharedKept ? before : undefined, shared, carriers);
  const { parts, outcomes } = update;
  let routing: Routing;
  if (update.replaced) {
    // Only values of routes changed: the previous order and tries hold, patched.
    const { internal, public: publicRouter } = previous!;
    internal.replace(update.replaced);
    if (publicRouter !== internal) publicRouter.replace(update.replaced.filter(([r]) => !r.internalOnly));
    routing = { ordered: before!.ordered, internal, public: publicRouter === internal ? undefined : publicRouter };
  } else {
    routing = route(parts, outcomes, before && update.orderKept ? before.ordered : undefined);
  }
  adopt(before, { shared, apis: parts, ordered: routing.ordered }, update.swapped);
  const problems = [...shared.consumers.problems];
  for (const [id, outcome] of outcomes)
    if (outcome.reason === 'Invalid' || outcome.reason === 'Shadowed')
      problems.push(`ApiDefinition ${id} ${outcome.message}`);
  return {
    generation,
    createdAt: Date.now(),
    source,
    inputs,
    public: routing.public ?? routing.internal,
    internal: routing.internal,
    outcomes,
    problems,
    parts: { shared, apis: parts, ordered: routing.ordered },
  };
}

/** What the routes of a config became: their priority order and the two listeners' tries
 * (`public` absent when it is the internal one: no API is internal-only). */
interface Routing {
  ordered: string[];
  internal: Router<CompiledApi>;
  public?: Router<CompiledApi>;
}

interface ApiUpdate {
  parts: Map<string, ApiPart>;
  outcomes: Map<string, ApiOutcome>;
  /** Claims of the parts replaced in place: [before, after], either absent when a part came or
   * went. Absent when `parts` is a new map, to be compared with the previous one. */
  swapped?: Array<[Claims | undefined, Claims | undefined]>;
  /** Whether every part kept its order key and no part came or went. */
  orderKept: boolean;
  /** Set when the only change to routing is routes with new values in the same places. */
  replaced?: Array<[ListenerRoute<CompiledApi>, ListenerRoute<CompiledApi>]>;
}

/** Every active ApiDefinition of `inputs`, reusing the parts of `before` whose spec is unchanged. */
function compileApis(
  inputs: GatewayInputs,
  before: Parts | undefined,
  shared: SharedPart,
  carriers: Carriers,
): ApiUpdate {
  const parts = new Map<string, ApiPart>();
  const outcomes = new Map<string, ApiOutcome>();
  let orderKept = before !== undefined;
  for (const api of inputs.apis) {
    const id = `${api.metadata.namespace}/${api.metadata.name}`;
    if (api.spec.active === false) {
      outcomes.set(id, INACTIVE);
      continue;
    }
    const kept = before?.apis.get(id);
    const part =
      kept && sameSpec(kept.api, api)
        ? kept.api === api
          ? kept
          : { ...kept, api }
        : compileApi(api, id, shared, carriers);
    parts.set(id, part);
    if (part.leftOut) outcomes.set(id, part.leftOut);
    if (orderKept && kept?.order !== part.order) orderKept = false;
  }
  return { parts, outcomes, orderKept: orderKept && parts.size === before!.apis.size };
}

/** The previous config's parts and outcomes, with the changed ApiDefinitions applied in place. */
function patchApis(previous: GatewayConfig, changed: ApiChanges, shared: SharedPart, carriers: Carriers): ApiUpdate {
  const parts = previous.parts.apis;
  const outcomes = previous.outcomes;
  let reshaped = false;
  const replaced: NonNullable<ApiUpdate['replaced']> = [];
  const swapped: NonNullable<ApiUpdate['swapped']> = [];
  for (const [id, api] of changed) {
    const old = parts.get(id);
    if (!api || api.spec.active === false) {
      if (old) {
        parts.delete(id);
        swapped.push([old.claims, undefined]);
      }
      reshaped ||= old !== undefined;
      if (api) outcomes.set(id, INACTIVE);
      else outcomes.delete(id);
      continue;
    }
    const part = old && sameSpec(old.api, api) ? { ...old, api } : compileApi(api, id, shared, carriers);
    parts.set(id, part);
    swapped.push([old?.claims, part.claims]);
    if (part.leftOut) outcomes.set(id, part.leftOut);
    if (!old || old.order !== part.order || !sameRoute(old.route, part.route)) reshaped = true;
    else if (old.route !== part.route) replaced.push([old.route!, part.route!]);
  }
  return { parts, outcomes, swapped, orderKept: !reshaped, replaced: reshaped ? undefined : replaced };
}

/** Orders the parts (unless `ordered` is still right), builds the tries and records each
 * route's outcome. */
function route(parts: Map<string, ApiPart>, outcomes: Map<string, ApiOutcome>, ordered: string[] | undefined): Routing {
  // Oldest first: on a conflict the API that claimed the route first keeps it (Gateway API's rule).
  ordered ??= [...parts.values()].sort(byOrder).map((p) => p.id);
  const routes: ListenerRoute<CompiledApi>[] = [];
  for (const id of ordered) {
    const r = parts.get(id)!.route;
    if (r) routes.push(r);
  }
  const internal = new Router(routes);
  // Most catalogues have no internal APIs: then both listeners route alike.
  const publicRouter = routes.some((r) => r.internalOnly)
    ? new Router(routes.filter((r) => !r.internalOnly))
    : undefined;
  for (const [id, outcome] of routeOutcomes(routes, publicRouter ?? internal, internal)) outcomes.set(id, outcome);
  return { ordered, internal, public: publicRouter };
}

/** Moves the claims on carried state from the previous parts to the new ones: what a new
 * part took is acquired before what a dropped part took is released, so state both use is
 * never disposed of in between. */
function adopt(before: Parts | undefined, after: Parts, swapped: ApiUpdate['swapped']): void {
  const acquired: Claims[] = [];
  const released: Claims[] = [];
  const compare = (a: Claims | undefined, b: Claims | undefined) => {
    if (a === b) return;
    if (b) acquired.push(b);
    if (a) released.push(a);
  };
  compare(before?.shared.claims, after.shared.claims);
  if (swapped) {
    for (const [was, is] of swapped) compare(was, is);
  } else {
    for (const [id, part] of after.apis) if (before?.apis.get(id)?.claims !== part.claims) acquired.push(part.claims);
    if (before)
      for (const [id, part] of before.apis) if (after.apis.get(id)?.claims !== part.claims) released.push(part.claims);
  }
  for (const claims of acquired) claims.acquire();
  for (const claims of released) claims.release();
}

/** Every compiled API, routed or shadowed: whose upstream health is reported. */
export function compiledApis(config: GatewayConfig): CompiledApi[] {
  const apis: CompiledApi[] = [];
  for (const part of config.parts.apis.values()) if (part.route) apis.push(part.route.value);
  return apis;
}

/** The compiled form of API `id` ("namespace/name") when the config routes or shadows it. */
export function compiledApi(config: GatewayConfig, id: string): CompiledApi | undefined {
  return config.parts.apis.get(id)?.route?.value;
}

function compileShared(inputs: GatewayInputs, limiters: Limiters): SharedPart {
  const { value, claims } = recordClaims(() => {
    const consumers = new ConsumerDirectory(inputs.consumers, inputs.policies, limiters);
    return {
      consumers,
      keys: compileKeys(inputs.apiKeys, consumers),
      secrets: new Map(inputs.secrets.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s])),
    };
  });
  return { ...value, claims };
}

function compileApi(
  api: ApiDefinition,
  id: string,
  shared: SharedPart,
  { upstreams, keySets, limiters }: Carriers,
): ApiPart {
  const order = `${api.metadata.creationTimestamp ?? ''}\u0000${id}`;
  const { value, claims } = recordClaims((): Pick<ApiPart, 'route' | 'leftOut'> => {
    try {
      const rl = api.spec.rateLimit;
      const compiled: CompiledApi = {
        id,
        strip: api.spec.stripListenPath,
        chain: compileChain(api, {
          apiId: id,
          // Throws when the credentials could not be checked: fail closed, leave the API out.
          auth: authStep(api, {
            apiId: id,
            consumers: shared.consumers,
            keys: shared.keys,
            keySets,
            secrets: shared.secrets,
            now: Date.now,
          }),
          apiLimiter: rl
            ? limiters.rate(`api:${id}`, rl, `rate limit of the API (${rl.requests} per ${rl.per})`)
            : undefined,
        }),
        targets: new TargetSet(id, api.spec.upstream, upstreams),
        requestHeaders: headerChanges(api.spec.requestHeaders),
        responseHeaders: headerChanges(api.spec.responseHeaders),
        maxBodyBytes: api.spec.maxBodyBytes,
        credentialHeader: credentialHeader(api.spec.auth),
        credentialQuery: credentialQuery(api.spec.auth),
        forwardCredentials: api.spec.auth.forwardCredentials === true,
      };
      return {
        route: {
          hosts: api.spec.hosts ?? [],
          listenPath: api.spec.listenPath,
          value: compiled,
          internalOnly: api.spec.visibility === 'internal',
        },
      };
    } catch (err) {
      return { leftOut: leftOut((err as Error).message) };
    }
  });
  return { id, api, order, ...value, claims };
}

/** Whether two versions of an ApiDefinition compile alike: the same object, or the same spec
 * by uid and generation (status and label writes change neither; one uid is one creation). */
function sameSpec(a: ApiDefinition, b: ApiDefinition): boolean {
  if (a === b) return true;
  const { uid, generation } = a.metadata;
  return (
    uid !== undefined && generation !== undefined && uid === b.metadata.uid && generation === b.metadata.generation
  );
}

/** Whether two routes sit in the same places of the tries: same hosts, listenPath and visibility. */
function sameRoute(a: ListenerRoute<CompiledApi> | undefined, b: ListenerRoute<CompiledApi> | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.listenPath === b.listenPath &&
    a.internalOnly === b.internalOnly &&
    a.hosts.length === b.hosts.length &&
    a.hosts.every((h, i) => h === b.hosts[i])
  );
}

/** Whether the objects every API's compile uses are the ones `before` was compiled from. */
function sameShared(before: GatewayInputs, now: GatewayInputs): boolean {
  return (
    sameObjects(before.policies, now.policies) &&
    sameObjects(before.consumers, now.consumers) &&
    sameObjects(before.apiKeys, now.apiKeys) &&
    sameObjects(before.secrets, now.secrets)
  );
}

function sameObjects(a: readonly KubeObject[], b: readonly KubeObject[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    const { uid, resourceVersion } = a[i].metadata;
    if (
      uid === undefined ||
      resourceVersion === undefined ||
      uid !== b[i].metadata.uid ||
      resourceVersion !== b[i].metadata.resourceVersion
    )
      return false;
  }
  return true;
}

type KubeObject = { metadata: { uid?: string; resourceVersion?: string } };

const byOrder = (a: ApiPart, b: ApiPart) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0);

function headerChanges(modifier: HeaderModifier | undefined): HeaderChanges | undefined {
  if (!modifier || (!modifier.remove?.length && !Object.keys(modifier.set ?? {}).length)) return undefined;
  return {
    remove: (modifier.remove ?? []).map((h) => h.toLowerCase()),
    set: Object.entries(modifier.set ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
  };
}
