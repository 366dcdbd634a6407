// The policy chain of one API, compiled once per config: only the steps the API's spec
// asks for are in it, each a closure over pre-parsed settings. Order: IP deny/allow, CORS
// preflight (answered here, before auth, because browsers send preflights without
// credentials), authentication and consumer access rights, limits (the API's rate limit,
// the consumer's rate limits and quotas), declared body size.
import type { IncomingMessage } from 'node:http';
import type { ApiDefinition, Cors } from '../api/kinds/api-definition/index.ts';
import { cidrContains, parseCidr, parseIp, type Cidr } from '../api/net.ts';
import type { Principal } from './auth/consumers.ts';
import type { Refusal } from './errors.ts';
import type { LimitDecision, Limiter } from './rate-limit.ts';
import type { UpstreamFailure } from './upstream.ts';

export interface RequestContext {
  req: IncomingMessage;
  /** Peer address of the connection (X-Forwarded-For is not trusted). */
  clientIp: string;
  /** Path below the API's listenPath, as received, starting with "/". */
  rest: string;
  /** The request path's segments, percent-decoded and without empty ones (what the router
   * walked); those from `depth` on are below the API's listenPath. */
  segments: readonly string[];
  depth: number;
  /** Query string including "?", or "". */
  query: string;
  /** Headers the gateway adds to whatever response is sent (CORS, RateLimit-*). */
  responseHeaders: Record<string, string>;
  /** Whom the authentication step admitted. */
  consumer?: Principal;
  /** The gateway's own probe (see probe.ts): the answer names the target that gave it. */
  probe?: boolean;
  /** Set by the proxy when a target failed the request: for the access log and metrics. */
  upstreamFailure?: UpstreamFailure;
}

/** A step refuses (a Refusal), ends the request with an empty 204 carrying the collected
 * response headers ('preflight'), or lets the request continue (undefined). */
export type Outcome = Refusal | 'preflight' | undefined;

/** A step answers at once, or with a promise when it has to wait (checking a credential it
 * has not seen before); the promise never rejects. */
export type Step = (ctx: RequestContext) => Outcome | Promise<Outcome>;

export interface ChainDeps {
  apiId: string;
  /** The authentication step, absent for keyless APIs. */
  auth?: Step;
  apiLimiter?: Limiter;
}

export function compileChain(api: ApiDefinition, deps: ChainDeps): Step[] {
  const { spec } = api;
  const steps: Step[] = [];
  if (spec.ipDeny?.length || spec.ipAllow?.length) steps.push(ipStep(spec.ipDeny ?? [], spec.ipAllow ?? []));
  if (spec.cors) steps.push(corsStep(spec.cors));
  if (deps.auth) steps.push(deps.auth);
  if (deps.apiLimiter || deps.auth) steps.push(limitStep(deps.apiLimiter, deps.apiId));
  if (spec.maxBodyBytes !== undefined) steps.push(declaredBodyStep(spec.maxBodyBytes));
  return steps;
}

/** Runs `steps` in order until one does not answer undefined. Stays synchronous while every
 * step is, so requests that wait for nothing never pay for a promise; from the first step
 * that returns one, the rest run when it settles. */
export function runChain(steps: readonly Step[], ctx: RequestContext, from = 0): Outcome | Promise<Outcome> {
  for (let i = from; i < steps.length; i++) {
    const outcome = steps[i](ctx);
    if (outcome === undefined) continue;
    if (outcome instanceof Promise)
      return outcome.then((settled) => (settled === undefined ? runChain(steps, ctx, i + 1) : settled));
    return outcome;
  }
  return undefined;
}

function ipStep(deny: string[], allow: string[]): Step {
  const parse = (list: string[]) => list.map(parseCidr).filter((c): c is Cidr => c !== undefined);
  const denied = parse(deny);
  const allowed = parse(allow);
  return (ctx) => {
    const ip = parseIp(ctx.clientIp);
    if (!ip) return { code: 'IP_FORBIDDEN', message: 'client address unknown' };
    if (denied.some((c) => cidrContains(c, ip)))
      return { code: 'IP_FORBIDDEN', message: `client address ${ctx.clientIp} is denied` };
    if (allowed.length && !allowed.some((c) => cidrContains(c, ip)))
      return { code: 'IP_FORBIDDEN', message: `client address ${ctx.clientIp} is not allowed` };
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

/** The API's rate limit and the consumer's limits on this API, checked together and counted
 * only when all of them admit the request (one that admitted a request another refused gives
 * back what it held). RateLimit-* headers describe the limit closest to refusing; a refusal
 * names the limit that waits longest. Asynchronous only when a limit waits for a slot. */
function limitStep(apiLimiter: Limiter | undefined, apiId: string): Step {
  const none: readonly Limiter[] = [];
  const apiOnly = apiLimiter ? [apiLimiter] : none;
  return (ctx) => {
    const own = ctx.consumer?.grants.get(apiId)?.limiters ?? none;
    const limiters = own.length === 0 ? apiOnly : apiLimiter ? [apiLimiter, ...own] : own;
    if (limiters.length === 0) return undefined;
    const now = Date.now();
    const decisions = limiters.map((limiter) => limiter.check(now));
    if (decisions.some((d) => d instanceof Promise))
      return Promise.all(decisions).then((settled) => settleLimits(ctx, limiters, settled));
    return settleLimits(ctx, limiters, decisions as LimitDecision[]);
  };
}

function settleLimits(ctx: RequestContext, limiters: readonly Limiter[], decisions: LimitDecision[]): Outcome {
  let closest: LimitDecision | undefined;
  let refusal: LimitDecision | undefined;
  let refusedBy: Limiter | undefined;
  decisions.forEach((decision, i) => {
    if (decision.allowed) {
      if (!closest || decision.remaining < closest.remaining) closest = decision;
    } else if (!refusal || decision.retryAfterSeconds > refusal.retryAfterSeconds) {
      refusal = decision;
      refusedBy = limiters[i];
    }
  });
  if (refusal && refusedBy) {
    decisions.forEach((decision, i) => {
      if (decision.allowed) limiters[i].release(decision);
    });
    setRateHeaders(ctx.responseHeaders, refusal);
    const headers = { 'retry-after': String(refusal.retryAfterSeconds) };
    return refusedBy.kind === 'quota'
      ? { code: 'QUOTA_EXCEEDED', message: `${refusedBy.description} is used up`, headers }
      : { code: 'RATE_LIMITED', message: `${refusedBy.description} exceeded`, headers };
  }
  decisions.forEach((decision, i) => {
    limiters[i].count(decision);
  });
  setRateHeaders(ctx.responseHeaders, closest!);
  return undefined;
}

function setRateHeaders(h: Record<string, string>, d: LimitDecision): void {
  h['ratelimit-limit'] = String(d.limit);
  h['ratelimit-remaining'] = String(d.remaining);
  h['ratelimit-reset'] = String(d.resetSeconds);
}

function declaredBodyStep(max: number): Step {
  return (ctx) => {
    const length = ctx.req.headers['content-length'];
    return length !== undefined && Number(length) > max
      ? { code: 'BODY_TOO_LARGE', message: `request body of ${length} bytes exceeds ${max}` }
      : undefined;
  };
}
