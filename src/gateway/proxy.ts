// Forwards one request to its API's upstream and streams the answer back (upgrade requests
// are handed to upgrade.ts). Request and response bodies are piped, never buffered.
// Connection failures are retried on another target only for idempotent methods without a
// body (RFC 9110 §9.2.2): a streamed body cannot be sent twice. Every outcome that says
// something about the target is reported to its circuit breaker; a request that failed for
// the client's doing (it went away, its body is too large or broke off, undici refuses
// what it sent) only gives back its breaker ticket, so no caller can open a healthy
// target's circuit. A client that goes away stops the upstream request.
//
// "Expect: 100-continue" (RFC 9110 §10.1.1) is answered here: the listener leaves it to
// the handler, so 100 Continue goes out only once the policy chain admitted the request
// and a target was picked; a refusal goes out instead of it, and the body is never read.
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { countsAsFailure } from './breaker.ts';
import type { CompiledApi } from './config.ts';
import { upstreamQuery } from './credentials.ts';
import { CLIENT_CLOSED, refusedByUndici, sendRefusal, type Refusal } from './errors.ts';
import { requestHeaders, responseHeaders } from './headers.ts';
import type { RequestContext } from './policies.ts';
import { PROBE_TARGET_HEADER } from './probe.ts';
import { forwardUpgrade } from './upgrade.ts';
import { circuitOpen, upstreamFailure, upstreamTimeout, upstreamUnreachable } from './upstream.ts';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
const CONNECT_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);
const TIMEOUT_ERRORS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
}

/** Proxies and resolves with the status sent to the client. `upstreamPath` is the path
 * below the target's own base path ('' when a stripped listen path leaves nothing, so
 * `/status` on a target `http://h/healthz` reaches `/healthz`, not `/healthz/`). */
export async function forward(
  api: CompiledApi,
  ctx: RequestContext,
  res: ServerResponse,
  upstreamPath: string,
): Promise<number> {
  const { req } = ctx;
  // Node's parser sets `upgrade` (untyped) on requests it delivers through the 'upgrade' event.
  if ((req as { upgrade?: boolean }).upgrade) return forwardUpgrade(api, ctx, res, upstreamPath);
  const method = req.method ?? 'GET';
  const hasBody =
    req.headers['transfer-encoding'] !== undefined ||
    (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
  const attempts = IDEMPOTENT.has(method) && !hasBody ? 1 + api.targets.retries : 1;
  const headers = requestHeaders(req, api, ctx);
  const query = upstreamQuery(api, ctx.query);
  let target = api.targets.pick();
  if (!target) return sendRefusal(res, circuitOpen(api.id), api.id, ctx.responseHeaders);
  // undici accepts any EventEmitter as a request's signal and aborts on its 'abort' event;
  // the response emits one when it closes unfinished (the client went away), so an
  // upstream request still waiting for its head stops at once. Once the head is in,
  // streamBody() stops it by destroying the upstream body. No AbortController per request.
  res.on('close', abortUnfinished);
  // Node only parses Expect in HTTP/1.1, where listener.ts routes it here unanswered.
  if (req.headers.expect !== undefined && req.httpVersionMinor >= 1) res.writeContinue();
  for (let attempt = 1; ; attempt++) {
    const breaker = target.breaker;
    const ticket = breaker ? breaker.acquire() : 0;
    let upstream: Dispatcher.ResponseData;
    try {
      upstream = await target.pool.request({
        method: method as Dispatcher.HttpMethod,
        path: (target.basePath + upstreamPath || '/') + query,
        headers,
        // A generator, not req itself: undici destroys a failed body, and destroying req
        // would drop the client connection before it gets the 502.
        body: hasBody ? Readable.from(chunksOf(req, api.maxBodyBytes ?? Infinity)) : null,
        // timeout bounds the wait for the response head and every gap between body chunks.
        headersTimeout: api.targets.timeoutMs,
        bodyTimeout: api.targets.timeoutMs,
        signal: res,
      });
    } catch (err) {
      // The client went away, or its body broke off: there is no one to answer.
      if (res.destroyed || req.errored) {
        breaker?.released(ticket);
        res.destroy();
        return CLIENT_CLOSED;
      }
      const fault = requestFault(err, api);
      if (fault) {
        breaker?.released(ticket);
        return sendRefusal(res, fault, api.id, ctx.responseHeaders);
      }
      breaker?.failed(ticket);
      if (attempt < attempts && CONNECT_ERRORS.has((err as { code?: string }).code ?? '')) {
        const next = api.targets.pick(target);
        if (next) {
          target = next;
          continue;
        }
      }
      ctx.upstreamFailure = upstreamFailure(target, err);
      const timedOut = TIMEOUT_ERRORS.has(ctx.upstreamFailure.code);
      const refusal = timedOut
        ? upstreamTimeout(api.id, api.targets.timeoutMs)
        : upstreamUnreachable(api.id, ctx.upstreamFailure);
      return sendRefusal(res, refusal, api.id, ctx.responseHeaders);
    }
    if (breaker) {
      if (countsAsFailure(upstream.statusCode)) breaker.failed(ticket);
      else breaker.succeeded(ticket);
    }
    if (ctx.probe) ctx.responseHeaders[PROBE_TARGET_HEADER] = target.url;
    res.writeHead(upstream.statusCode, responseHeaders(upstream.headers, api.responseHeaders, ctx.responseHeaders));
    streamBody(upstream.body, res);
    return upstream.statusCode;
  }
}

/**
 * Streams the upstream body to the client. Not stream.pipeline(): it costs an
 * AbortController and a thrown AbortError per request, a quarter of the gateway's CPU in
 * `npm run bench:gateway`. An upstream cut mid-body cuts the client connection (the
 * response is incomplete and must not look complete); a client gone stops the upstream.
 */
function streamBody(body: Readable, res: ServerResponse): void {
  body.on('error', () => res.destroy());
  res.once('close', () => {
    if (!body.readableEnded) body.destroy();
  });
  body.pipe(res);
}

function abortUnfinished(this: ServerResponse): void {
  if (!this.writableFinished) this.emit('abort');
}

/** The refusal when the request failed for what the client sent, not for the target. */
function requestFault(err: unknown, api: CompiledApi): Refusal | undefined {
  // Undici fails the request with the body's own error, or one that has it as its cause.
  if (err instanceof BodyTooLargeError || (err as { cause?: unknown })?.cause instanceof BodyTooLargeError) {
    return { code: 'BODY_TOO_LARGE', message: `request body exceeds ${api.maxBodyBytes} bytes` };
  }
  if (refusedByUndici(err)) {
    return { code: 'MALFORMED_REQUEST', message: `the request cannot be forwarded: ${(err as Error).message}` };
  }
  return undefined;
}

async function* chunksOf(body: AsyncIterable<Buffer>, max: number): AsyncGenerator<Buffer> {
  let seen = 0;
  for await (const chunk of body) {
    seen += chunk.length;
    if (seen > max) throw new BodyTooLargeError(`request body exceeds ${max} bytes`);
    yield chunk;
  }
}
