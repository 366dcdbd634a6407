// The request path of one listener, per request: parse the request target, route it,
// run the API's policy chain, proxy, then one access log line and the metrics. Everything
// a request needs was compiled into the config it reads at its start (config.ts), so a
// config swapped in mid-request changes nothing for it. Requests refused before they reach
// the handler (listener.ts) get their log line and metrics here too.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AccessLog } from './access-log.ts';
import type { CompiledApi, GatewayConfig } from './config.ts';
import { loggedUrl } from './credentials.ts';
import { sendRefusal, type Refusal } from './errors.ts';
import type { RefusedListener, RequestHandler } from './listener.ts';
import type { Metrics } from './metrics.ts';
import { parseRequestTarget } from './path.ts';
import { runChain, type Outcome, type RequestContext } from './policies.ts';
import type { Prober } from './probe.ts';
import { forward } from './proxy.ts';
import type { Router } from './router.ts';

/** What every request of a gateway shares. */
export interface RequestPath {
  /** The config the next request is served with. */
  config(): GatewayConfig;
  metrics: Metrics;
  logger: Logger;
  /** Where each request's line goes, if it gets one. */
  accessLog: AccessLog;
  prober: Prober;
}

/** A page the listener answers itself (the internal listener's /metrics and /healthz). */
export interface OwnPage {
  contentType: string;
  body: string;
}

/** The listener's own pages by path, answered before routing, without an access log line. */
export type OwnPages = (path: string, config: GatewayConfig) => OwnPage | undefined;

/** The handler of a listener whose APIs are those of `router(config)`. */
export function requestHandler(
  path: RequestPath,
  router: (config: GatewayConfig) => Router<CompiledApi>,
  ownPages?: OwnPages,
): RequestHandler {
  const { metrics, logger, accessLog, prober } = path;
  return (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    const current = path.config();
    const clientIp = req.socket.remoteAddress ?? '';
    let routed: CompiledApi | undefined;
    let ctx: RequestContext | undefined;
    const done = (status: number) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.observe(routed?.id ?? '', status, seconds);
      // A failed target is named here and in metrics, never in the answer to the client.
      const upstreamError = ctx?.upstreamFailure;
      if (upstreamError) metrics.upstreamFailed(routed!.id, upstreamError);
      if (!accessLog.keeps(status)) return;
      accessLog.write(
        {
          api: routed?.id,
          method: req.method,
          url: loggedUrl(req.url ?? '', routed),
          status,
          ms: seconds * 1000,
          ip: clientIp,
          generation: current.generation,
          upstreamError,
        },
        'request',
      );
    };
    const target = parseRequestTarget(req.url ?? '');
    if (typeof target === 'string') {
      const refusal: Refusal = { code: 'BAD_REQUEST_TARGET', message: `request target refused: ${target}` };
      return done(sendRefusal(res, refusal, undefined));
    }
    const page = ownPages?.(target.path, current);
    if (page) {
      res.writeHead(200, { 'content-type': page.contentType });
      res.end(page.body);
      return;
    }
    const match = router(current).match(req.headers.host, target.segments);
    if (!match) return done(sendRefusal(res, { code: 'NO_ROUTE', message: `no API serves ${target.path}` }, undefined));
    const api = match.value;
    routed = api;
    const rest = remainder(target.path, match.depth);
    ctx = {
      req,
      clientIp,
      rest: rest || '/',
      segments: target.segments,
      depth: match.depth,
      query: target.query,
      responseHeaders: {},
      probe: prober.marked(req),
    };
    const proceed = (outcome: Outcome): void => {
      if (outcome === 'preflight') {
        res.writeHead(204, ctx.responseHeaders);
        res.end();
        done(204);
        return;
      }
      if (outcome) {
        done(sendRefusal(res, outcome, api.id, ctx.responseHeaders));
        return;
      }
      if (api.targets.size === 0) {
        const refusal: Refusal = { code: 'NO_UPSTREAM', message: 'every upstream target has weight 0' };
        done(sendRefusal(res, refusal, api.id, ctx.responseHeaders));
        return;
      }
      forward(api, ctx, res, api.strip ? rest : target.path).then(done, (err: unknown) => {
        logger.error({ err, api: api.id }, 'proxy failed');
        res.destroy();
        done(500);
      });
    };
    // Only a step that has to wait (a credential not seen before) makes this asynchronous.
    const decided = runChain(api.chain, ctx);
    if (!(decided instanceof Promise)) return proceed(decided);
    decided.then(proceed).catch((err: unknown) => {
      logger.error({ err, api: api.id }, 'policy chain failed');
      res.destroy();
      done(500);
    });
  };
}

/** Logs and counts what a listener refused before its handler saw the request. */
export function refusedBeforeRouting({ metrics, accessLog }: RequestPath): RefusedListener {
  return (status, refusal) => {
    metrics.observe('', status, 0);
    if (accessLog.keeps(status))
      accessLog.write({ status, code: refusal.code, reason: refusal.message }, 'request refused before routing');
  };
}

/** The path below the first `depth` non-empty segments of `path`, as received; "" when
 * nothing is left. */
function remainder(path: string, depth: number): string {
  let i = 0;
  for (let seen = 0; seen < depth; seen++) {
    while (path.charCodeAt(i) === 47) i++;
    const next = path.indexOf('/', i);
    i = next < 0 ? path.length : next;
  }
  return path.slice(i);
}
