// API keys compiled for lookup by digest: each entry knows its consumer and, per API it
// may call, the access rights and the per-consumer rate limiters that apply. The
// SecurityPolicies used are the key's own spec.policies when set, else its Consumer's.
import type { ApiKey } from '../api/kinds/api-key/index.ts';
import type { Consumer } from '../api/kinds/consumer/index.ts';
import type { SecurityPolicy } from '../api/kinds/security-policy/index.ts';
import { parseDuration } from '../api/duration.ts';
import type { Limiters } from './limiters.ts';
import type { TokenBucket } from './rate-limit.ts';

export interface AccessRule {
  /** undefined allows every method. */
  methods?: ReadonlySet<string>;
  /** Prefixes of the path below listenPath; undefined allows every path. */
  paths?: readonly string[];
}

export interface Grant {
  rights: AccessRule[];
  limiters: TokenBucket[];
}

export interface KeyEntry {
  namespace: string;
  name: string;
  consumer: string;
  /** Epoch milliseconds after which the key is refused. */
  expiresAt?: number;
  /** By API id ("namespace/name"). */
  grants: Map<string, Grant>;
}

export function compileKeys(keys: readonly ApiKey[], consumers: readonly Consumer[], policies: readonly SecurityPolicy[], limiters: Limiters): Map<string, KeyEntry> {
  const byId = <T extends { metadata: { namespace?: string; name?: string } }>(list: readonly T[]) => new Map(list.map((o) => [`${o.metadata.namespace}/${o.metadata.name}`, o]));
  const consumerById = byId(consumers);
  const policyById = byId(policies);
  const out = new Map<string, KeyEntry>();
  for (const key of keys) {
    const namespace = key.metadata.namespace ?? 'default';
    const consumer = consumerById.get(`${namespace}/${key.spec.consumer}`);
    // A key of a consumer that does not exist authenticates nobody.
    if (!consumer || !key.spec.hash) continue;
    const expiresAt = key.spec.expires ? Date.parse(key.spec.expires) : undefined;
    const grants = new Map<string, Grant>();
    for (const policyName of key.spec.policies ?? consumer.spec.policies ?? []) {
      const policy = policyById.get(`${namespace}/${policyName}`);
      if (!policy) continue;
      const limiter = policy.spec.rateLimit
        ? limiters.get(`consumer:${namespace}/${consumer.metadata.name}/${policyName}`, policy.spec.rateLimit.requests, parseDuration(policy.spec.rateLimit.per))
        : undefined;
      for (const right of policy.spec.apis) {
        const apiId = `${right.namespace ?? namespace}/${right.name}`;
        let grant = grants.get(apiId);
        if (!grant) grants.set(apiId, (grant = { rights: [], limiters: [] }));
        grant.rights.push({
          methods: right.methods?.length ? new Set(right.methods.map((m) => m.toUpperCase())) : undefined,
          paths: right.paths?.length ? right.paths : undefined,
        });
        if (limiter && !grant.limiters.includes(limiter)) grant.limiters.push(limiter);
      }
    }
    // An expiry that does not parse fails closed: the key counts as expired.
    out.set(key.spec.hash, { namespace, name: key.metadata.name!, consumer: consumer.metadata.name!, expiresAt: Number.isNaN(expiresAt) ? 0 : expiresAt, grants });
  }
  return out;
}
