// A gateway config: everything the request path needs, compiled from the watched objects
// into an immutable snapshot. The server swaps the whole snapshot at once, so a request
// sees one consistent generation from routing to proxying. An ApiDefinition that cannot be
// compiled is left out (and reported) rather than failing the whole config.
import type { ApiDefinition, HeaderModifier } from '../api/kinds/api-definition/index.ts';
import type { ApiKey } from '../api/kinds/api-key/index.ts';
import type { Consumer } from '../api/kinds/consumer/index.ts';
import type { SecurityPolicy } from '../api/kinds/security-policy/index.ts';
import type { Secret } from '../api/core/secret/index.ts';
import { authStep, credentialHeader } from './auth/authenticate.ts';
import { ConsumerDirectory } from './auth/consumers.ts';
import type { RemoteKeySets } from './auth/jwks.ts';
import { compileKeys } from './keys.ts';
import { Limiters } from './limiters.ts';
import type { SharedCounters } from './shared-counters.ts';
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
  /** Request header carrying the credentials, removed before proxying so they never reach upstreams. */
  credentialHeader?: string;
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
  /** Every compiled API, routed or shadowed: whose upstream health is reported. */
  apis: CompiledApi[];
  limiters: Limiters;
  /** What became of every input API, by id ("namespace/name"): the listeners it is routed
   * on, or why it is not (read by the status writer and the probe). */
  outcomes: Map<string, ApiOutcome>;
  /** Why APIs were left out or lost a route, for the log. */
  problems: string[];
}

export const emptyInputs = (): GatewayInputs => ({ apis: [], policies: [], consumers: [], apiKeys: [], secrets: [] });

export function compileConfig(inputs: GatewayInputs, generation: number, source: GatewayConfig['source'], upstreams: Upstreams, previous: GatewayConfig | undefined, keySets: RemoteKeySets, counters: SharedCounters): GatewayConfig {
  const limiters = new Limiters(counters, previous?.limiters);
  upstreams.mark();
  keySets.mark();
  const consumers = new ConsumerDirectory(inputs.consumers, inputs.policies, limiters);
  const keys = compileKeys(inputs.apiKeys, consumers);
  const secrets = new Map(inputs.secrets.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s]));
  const problems: string[] = [...consumers.problems];
  const outcomes = new Map<string, ApiOutcome>();
  for (const api of inputs.apis) if (api.spec.active === false) outcomes.set(`${api.metadata.namespace}/${api.metadata.name}`, INACTIVE);
  // Oldest first: on a conflict the API that claimed the route first keeps it (Gateway API's rule).
  const ordered = [...inputs.apis].filter((a) => a.spec.active !== false).sort(byAge);
  const routes: ListenerRoute<CompiledApi>[] = [];
  for (const api of ordered) {
    const id = `${api.metadata.namespace}/${api.metadata.name}`;
    try {
      const rl = api.spec.rateLimit;
      const compiled: CompiledApi = {
        id,
        strip: api.spec.stripListenPath,
        chain: compileChain(api, {
          apiId: id,
          // Throws when the credentials could not be checked: fail closed, leave the API out.
          auth: authStep(api, { apiId: id, consumers, keys, keySets, secrets, now: Date.now }),
          apiLimiter: rl ? limiters.rate(`api:${id}`, rl, `rate limit of the API (${rl.requests} per ${rl.per})`) : undefined,
        }),
        targets: new TargetSet(id, api.spec.upstream, upstreams),
        requestHeaders: headerChanges(api.spec.requestHeaders),
        responseHeaders: headerChanges(api.spec.responseHeaders),
        maxBodyBytes: api.spec.maxBodyBytes,
        credentialHeader: credentialHeader(api.spec.auth),
      };
      routes.push({ hosts: api.spec.hosts ?? [], listenPath: api.spec.listenPath, value: compiled, internalOnly: api.spec.visibility === 'internal' });
    } catch (err) {
      const outcome = leftOut((err as Error).message);
      outcomes.set(id, outcome);
      problems.push(`ApiDefinition ${id} ${outcome.message}`);
    }
  }
  const internal = new Router(routes);
  const publicRouter = new Router(routes.filter((r) => !r.internalOnly));
  for (const [id, outcome] of routeOutcomes(routes, publicRouter, internal)) {
    outcomes.set(id, outcome);
    if (outcome.reason === 'Shadowed') problems.push(`ApiDefinition ${id} ${outcome.message}`);
  }
  upstreams.sweep();
  limiters.release();
  keySets.sweep();
  return { generation, createdAt: Date.now(), source, inputs, public: publicRouter, internal, apis: routes.map((r) => r.value), limiters, outcomes, problems };
}

function byAge(a: ApiDefinition, b: ApiDefinition): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ia = `${a.metadata.namespace}/${a.metadata.name}`;
  const ib = `${b.metadata.namespace}/${b.metadata.name}`;
  return ia < ib ? -1 : ia > ib ? 1 : 0;
}

function headerChanges(modifier: HeaderModifier | undefined): HeaderChanges | undefined {
  if (!modifier || (!modifier.remove?.length && !Object.keys(modifier.set ?? {}).length)) return undefined;
  return {
    remove: (modifier.remove ?? []).map((h) => h.toLowerCase()),
    set: Object.entries(modifier.set ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
  };
}
