// The policy chain of one API, compiled once per config: only the steps the API's spec
// asks for are in it, each a closure over pre-parsed settings. Order: IP deny/allow, CORS
// preflight (answered here, before auth, because browsers send preflights without
// credentials), authentication, consumer access rights, API rate limit, consumer rate
// limit, declared body size.
import type { IncomingMessage } from 'node:http';
import type { ApiDefinition, Cors } from '../api/kinds/api-definition/index.ts';
import { cidrContains, parseCidr, parseIp, type Cidr } from '../api/net.ts';
import { hashApiKey } from '../api/kinds/api-key/index.ts';
import type { Refusal } from './errors.ts';
import type { KeyEntry } from './keys.ts';
import type { RateDecision, TokenBucket } from './rate-limit.ts';

export interface RequestContext {
  req: IncomingMessage;
  /** Peer address of the connection (X-Forwarded-For is not trusted). */
  clientIp: string;
  /** Path below the API's listenPath, as received, starting with "/". */
  rest: string;
  /** Query string including "?", or "". */
  query: string;
  /** Headers the gateway adds to whatever response is sent (CORS, RateLimit-*). */
  responseHeaders: Record<string, string>;
  consumer?: KeyEntry;
}

/** A step refuses (a Refusal), ends the request with an empty 204 carrying the collected
 * response headers ('preflight'), or lets the request continue (undefined). */
export type Step = (ctx: RequestContext) => Refusal | 'preflight' | undefined;

export interface ChainDeps {
  apiId: string;
  keys: ReadonlyMap<string, KeyEntry>;
  apiLimiter?: TokenBucket;
  now: () => number;
}

export function compileChain(api: ApiDefinition, deps: ChainDeps): Step[] {
  const { spec } = api;
  const steps: Step[] = [];
  if (spec.ipDeny?.length || spec.ipAllow?.length) steps.push(ipStep(spec.ipDeny ?? [], spec.ipAllow ?? []));
  if (spec.cors) steps.push(corsStep(spec.cors));
  if (spec.auth.type === 'apiKey') steps.push(apiKeyStep(api, deps));
  if (deps.apiLimiter) {
    const apiLimiters = [deps.apiLimiter];
    steps.push(rateLimitStep(() => apiLimiters, 'the API'));
  }
  if (spec.auth.type === 'apiKey') steps.push(rateLimitStep((ctx) => ctx.consumer?.grants.get(deps.apiId)?.limiters, 'the consumer'));
  if (spec.maxBodyBytes !== undefined) steps.push(declaredBodyStep(spec.maxBodyBytes));
  return steps;
}

function ipStep(deny: string[], allow: string[]): Step {
  const parse = (list: string[]) => list.map(parseCidr).filter((c): c is Cidr => c !== undefined);
  const denied = parse(deny);
  const allowed = parse(allow);
  return (ctx) => {
    const ip = parseIp(ctx.clientIp);
    if (!ip) return { code: 'IP_FORBIDDEN', message: 'client address unknown' };
    if (denied.some((c) => cidrContains(c, ip))) return { code: 'IP_FORBIDDEN', message: `client address ${ctx.clientIp} is denied` };
    if (allowed.length && !allowed.some((c) => cidrContains(c, ip))) return { code: 'IP_FORBIDDEN', message: `client address ${ctx.clientIp} is not allowed` };
    return undefined;
  };
}

function corsStep(cors: Cors): Step {
  const anyOrigin = cors.allowOrigins?.includes('*') ?? false;
  const origins = new Set(cors.allowOrigins ?? []);
  const methods = (cors.allowMethods ?? ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).join(', ');
  const allowHeaders = cors.allowHeaders?.join(', ');
  const expose = cors.exposeHeaders?.join(', ');
  return (ctx) => {
    const origin = ctx.req.headers.origin;
    if (!origin) return undefined;
    const isPreflight = ctx.req.method === 'OPTIONS' && ctx.req.headers['access-control-request-method'] !== undefined;
    if (!anyOrigin && !origins.has(origin)) {
      return isPreflight ? { code: 'CORS_FORBIDDEN', message: `origin ${origin} is not allowed` } : undefined;
    }
    const h = ctx.responseHeaders;
    // With credentials the Fetch standard forbids "*": echo the origin and vary on it.
    h['access-control-allow-origin'] = anyOrigin && !cors.allowCredentials ? '*' : origin;
    if (!(anyOrigin && !cors.allowCredentials)) h.vary = 'Origin';
    if (cors.allowCredentials) h['access-control-allow-credentials'] = 'true';
    if (!isPreflight) {
      if (expose) h['access-control-expose-headers'] = expose;
      return undefined;
    }
    h['access-control-allow-methods'] = methods;
    const requested = ctx.req.headers['access-control-request-headers'];
    if (allowHeaders ?? requested) h['access-control-allow-headers'] = (allowHeaders ?? requested) as string;
    if (cors.maxAge !== undefined) h['access-control-max-age'] = String(cors.maxAge);
    return 'preflight';
  };
}

function apiKeyStep(api: ApiDefinition, deps: ChainDeps): Step {
  const header = (api.spec.auth.apiKey?.header ?? 'X-API-Key').toLowerCase();
  const queryName = api.spec.auth.apiKey?.query;
  const namespace = api.metadata.namespace;
  const challenge = { 'www-authenticate': `ApiKey realm="${deps.apiId}", header="${header}"` };
  return (ctx) => {
    let presented = ctx.req.headers[header] as string | undefined;
    if (presented === undefined && queryName && ctx.query) presented = new URLSearchParams(ctx.query.slice(1)).get(queryName) ?? undefined;
    if (!presented) return { code: 'CREDENTIALS_MISSING', message: `an API key is required in the ${header} header`, headers: challenge };
    const entry = deps.keys.get(hashApiKey(presented));
    if (!entry || entry.namespace !== namespace || (entry.expiresAt !== undefined && entry.expiresAt <= deps.now())) {
      return { code: 'CREDENTIALS_INVALID', message: 'the API key is unknown or expired', headers: challenge };
    }
    const grant = entry.grants.get(deps.apiId);
    const method = ctx.req.method ?? 'GET';
    if (!grant || !grant.rights.some((r) => (!r.methods || r.methods.has(method)) && (!r.paths || r.paths.some((p) => ctx.rest.startsWith(p))))) {
      return { code: 'ACCESS_FORBIDDEN', message: `consumer ${entry.consumer} may not ${method} ${ctx.rest}` };
    }
    ctx.consumer = entry;
    return undefined;
  };
}

function rateLimitStep(limiters: (ctx: RequestContext) => readonly TokenBucket[] | undefined, whose: string): Step {
  return (ctx) => {
    const found = limiters(ctx);
    if (!found) return undefined;
    for (const bucket of found) {
      const decision = bucket.take();
      setRateHeaders(ctx.responseHeaders, decision);
      if (!decision.allowed) {
        return { code: 'RATE_LIMITED', message: `rate limit of ${whose} exceeded`, headers: { 'retry-after': String(decision.retryAfterSeconds) } };
      }
    }
    return undefined;
  };
}

function setRateHeaders(h: Record<string, string>, d: RateDecision): void {
  h['ratelimit-limit'] = String(d.limit);
  h['ratelimit-remaining'] = String(d.remaining);
  h['ratelimit-reset'] = String(d.resetSeconds);
}

function declaredBodyStep(max: number): Step {
  return (ctx) => {
    const length = ctx.req.headers['content-length'];
    return length !== undefined && Number(length) > max ? { code: 'BODY_TOO_LARGE', message: `request body of ${length} bytes exceeds ${max}` } : undefined;
  };
}
