// Consumers compiled for the request path: per API, the access rights and per-consumer rate
// limits and quotas their SecurityPolicies give them, found by name or by JWT subject. Every
// credential type (API key, JWT, basic) ends in a Principal, so access is decided one way
// whatever authenticated the caller.
import type { Consumer } from '../../api/kinds/consumer/index.ts';
import type { SecurityPolicy } from '../../api/kinds/security-policy/index.ts';
import type { Refusal } from '../errors.ts';
import type { Limiters } from '../limiters.ts';
import { pathSegments } from '../path.ts';
import type { Limiter } from '../rate-limit.ts';

export interface AccessRule {
  /** undefined allows every method. */
  methods?: ReadonlySet<string>;
  /** Path prefixes below listenPath, as segments; undefined allows every path. */
  paths?: ReadonlyArray<readonly string[]>;
}

export interface Grant {
  rights: AccessRule[];
  limiters: Limiter[];
}

/** Whom a request authenticated as. */
export interface Principal {
  namespace: string;
  /** Consumer name, forwarded upstream in x-gatehouse-consumer. */
  consumer: string;
  /** By API id ("namespace/name"). */
  grants: ReadonlyMap<string, Grant>;
}

const idOf = (o: { metadata: { namespace?: string; name?: string } }) =>
  `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;

export class ConsumerDirectory {
  private readonly named = new Map<string, Principal>();
  private readonly subjects = new Map<string, Principal>();
  private readonly policies: ReadonlyMap<string, SecurityPolicy>;
  /** JWT subjects listed by more than one Consumer, for the config's problems. */
  readonly problems: string[] = [];

  constructor(
    consumers: readonly Consumer[],
    policies: readonly SecurityPolicy[],
    private readonly limiters: Limiters,
  ) {
    this.policies = new Map(policies.map((p) => [idOf(p), p]));
    // In name order, so a subject listed twice goes to the same Consumer on every compile.
    for (const consumer of [...consumers].sort((a, b) => (idOf(a) < idOf(b) ? -1 : 1))) {
      const namespace = consumer.metadata.namespace ?? 'default';
      const name = consumer.metadata.name!;
      const principal: Principal = {
        namespace,
        consumer: name,
        grants: this.grants(namespace, name, consumer.spec.policies ?? []),
      };
      this.named.set(`${namespace}/${name}`, principal);
      for (const subject of consumer.spec.jwtSubjects ?? []) {
        const holder = this.subjects.get(`${namespace}/${subject}`);
        if (holder)
          this.problems.push(
            `Consumers ${namespace}/${holder.consumer} and ${namespace}/${name} both list "${subject}" in spec.jwtSubjects; ${holder.consumer} is used`,
          );
        else this.subjects.set(`${namespace}/${subject}`, principal);
      }
    }
  }

  /** The Consumer `name` of `namespace`. */
  byName(namespace: string, name: string): Principal | undefined {
    return this.named.get(`${namespace}/${name}`);
  }

  /** The Consumer of `namespace` whose spec.jwtSubjects holds `subject`, else the one named `subject`. */
  bySubject(namespace: string, subject: string): Principal | undefined {
    return this.subjects.get(`${namespace}/${subject}`) ?? this.named.get(`${namespace}/${subject}`);
  }

  /** What the SecurityPolicies `policyNames` of `namespace` grant Consumer `consumer`, by API
   * id. Rate limits and quotas are keyed by consumer and policy, so all credentials of one
   * consumer share them. Unknown policy names grant nothing. */
  grants(namespace: string, consumer: string, policyNames: readonly string[]): Map<string, Grant> {
    const grants = new Map<string, Grant>();
    for (const policyName of policyNames) {
      const policy = this.policies.get(`${namespace}/${policyName}`);
      if (!policy) continue;
      const { rateLimit, quota } = policy.spec;
      const subject = `consumer:${namespace}/${consumer}/${policyName}`;
      const limiters = [
        ...(rateLimit
          ? [
              this.limiters.rate(
                subject,
                rateLimit,
                `rate limit of consumer ${consumer} (policy ${policyName}: ${rateLimit.requests} per ${rateLimit.per})`,
              ),
            ]
          : []),
        ...(quota
          ? [
              this.limiters.quota(
                subject,
                quota,
                `quota of consumer ${consumer} (policy ${policyName}: ${quota.max} per ${quota.per})`,
              ),
            ]
          : []),
      ];
      for (const right of policy.spec.apis) {
        const apiId = `${right.namespace ?? namespace}/${right.name}`;
        let grant = grants.get(apiId);
        if (!grant) grants.set(apiId, (grant = { rights: [], limiters: [] }));
        grant.rights.push({
          methods: right.methods?.length ? new Set(right.methods.map((m) => m.toUpperCase())) : undefined,
          paths: right.paths?.length ? right.paths.map(pathSegments) : undefined,
        });
        for (const limiter of limiters) if (!grant.limiters.includes(limiter)) grant.limiters.push(limiter);
      }
    }
    return grants;
  }
}

/** The part of a request access is decided on; `consumer` is set when access is granted. */
export interface AccessRequest {
  req: { method?: string };
  /** Path below the API's listenPath, as received. */
  rest: string;
  /** The request path's segments, decoded; those from `depth` on are below listenPath. */
  segments: readonly string[];
  depth: number;
  consumer?: Principal;
}

/** Lets `who` through as the request's consumer when one of its rights on API `apiId`
 * allows the method and path; otherwise the refusal. */
export function admit(ctx: AccessRequest, who: Principal, apiId: string): Refusal | undefined {
  const grant = who.grants.get(apiId);
  const method = ctx.req.method ?? 'GET';
  const allows = (r: AccessRule) =>
    (!r.methods || r.methods.has(method)) && (!r.paths || r.paths.some((p) => below(ctx, p)));
  if (!grant?.rights.some(allows)) {
    return { code: 'ACCESS_FORBIDDEN', message: `consumer ${who.consumer} may not ${method} ${ctx.rest}` };
  }
  ctx.consumer = who;
  return undefined;
}

/** Whether the request path below listenPath starts with the segments of `prefix`: path
 * prefixes match whole segments, as Gateway API's PathPrefix and listenPath routing do, so
 * "/public" admits "/public" and "/public/x" but not "/public-admin". */
function below(ctx: AccessRequest, prefix: readonly string[]): boolean {
  const { segments, depth } = ctx;
  if (segments.length - depth < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (segments[depth + i] !== prefix[i]) return false;
  return true;
}
