// A gateway config: everything the request path needs, compiled from the watched objects
// into an immutable snapshot. The server swaps the whole snapshot at once, so a request
// sees one consistent generation from routing to proxying. An ApiDefinition that cannot be
// compiled is left out (and reported) rather than failing the whole config.
import type { ApiDefinition, HeaderModifier } from '../api/kinds/api-definition/index.ts';
import type { ApiKey } from '../api/kinds/api-key/index.ts';
import type { Consumer } from '../api/kinds/consumer/index.ts';
import type { SecurityPolicy } from '../api/kinds/security-policy/index.ts';
import { parseDuration } from '../api/duration.ts';
import { compileKeys } from './keys.ts';
import { Limiters } from './limiters.ts';
import { compileChain, type Step } from './policies.ts';
import { Router, type Route } from './router.ts';
import { TargetSet, type Pools } from './upstream.ts';

/** The objects a config is compiled from; also what is saved to disk as the last good config. */
export interface GatewayInputs {
  apis: ApiDefinition[];
  policies: SecurityPolicy[];
  consumers: Consumer[];
  apiKeys: ApiKey[];
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
  /** Request header carrying the API key, removed before proxying so it never reaches upstreams. */
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
  limiters: Limiters;
  /** Why APIs were left out or lost a route, for the log. */
  problems: string[];
}

export const emptyInputs = (): GatewayInputs => ({ apis: [], policies: [], consumers: [], apiKeys: [] });

export function compileConfig(inputs: GatewayInputs, generation: number, source: GatewayConfig['source'], pools: Pools, previous?: GatewayConfig): GatewayConfig {
  const limiters = new Limiters(previous?.limiters);
  pools.mark();
  const keys = compileKeys(inputs.apiKeys, inputs.consumers, inputs.policies, limiters);
  const problems: string[] = [];
  // Oldest first: on a conflict the API that claimed the route first keeps it (Gateway API's rule).
  const ordered = [...inputs.apis].filter((a) => a.spec.active !== false).sort(byAge);
  const routes: Array<Route<CompiledApi> & { internalOnly: boolean }> = [];
  for (const api of ordered) {
    const id = `${api.metadata.namespace}/${api.metadata.name}`;
    try {
      // Fail closed: an API whose authentication this gateway cannot check is not served.
      if (api.spec.auth.type === 'jwt' || api.spec.auth.type === 'basic') throw new Error(`auth type ${api.spec.auth.type} is not supported by this gateway yet`);
      const rl = api.spec.rateLimit;
      const compiled: CompiledApi = {
        id,
        strip: api.spec.stripListenPath,
        chain: compileChain(api, { apiId: id, keys, apiLimiter: rl ? limiters.get(`api:${id}`, rl.requests, parseDuration(rl.per)) : undefined, now: Date.now }),
        targets: new TargetSet(api.spec.upstream, pools),
        requestHeaders: headerChanges(api.spec.requestHeaders),
        responseHeaders: headerChanges(api.spec.responseHeaders),
        maxBodyBytes: api.spec.maxBodyBytes,
        credentialHeader: api.spec.auth.type === 'apiKey' ? (api.spec.auth.apiKey?.header ?? 'X-API-Key').toLowerCase() : undefined,
      };
      routes.push({ hosts: api.spec.hosts ?? [], listenPath: api.spec.listenPath, value: compiled, internalOnly: api.spec.visibility === 'internal' });
    } catch (err) {
      problems.push(`ApiDefinition ${id} left out: ${(err as Error).message}`);
    }
  }
  const internal = new Router(routes);
  const publicRouter = new Router(routes.filter((r) => !r.internalOnly));
  for (const lost of internal.shadowed) problems.push(`ApiDefinition ${lost.value.id} not routed: an older API already serves ${lost.listenPath} on the same host`);
  pools.sweep();
  limiters.release();
  return { generation, createdAt: Date.now(), source, inputs, public: publicRouter, internal, limiters, problems };
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
