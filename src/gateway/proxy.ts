// Forwards one request to its API's upstream and streams the answer back. Request and
// response bodies are piped, never buffered. Hop-by-hop headers (RFC 9110 §7.6.1) are
// dropped in both directions; X-Forwarded-For/Proto/Host tell the upstream who asked.
// Connection failures are retried on another target only for idempotent methods without a
// body (RFC 9110 §9.2.2): a streamed body cannot be sent twice. Every outcome is reported
// to the target's circuit breaker. A client that goes away stops the upstream request.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Readable, pipeline } from 'node:stream';
import type { Dispatcher } from 'undici';
import { countsAsFailure } from './breaker.ts';
import type { CompiledApi, HeaderChanges } from './config.ts';
import { sendRefusal, type GatewayErrorCode, type Refusal } from './errors.ts';
import type { RequestContext } from './policies.ts';
import type { Target } from './upstream.ts';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET']);
const TIMEOUT_ERRORS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Status recorded for a request whose client went away before its answer was sent
 * (nginx's 499 "client closed request"); nothing is sent. */
export const CLIENT_CLOSED = 499;

class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
}

/** Proxies and resolves with the status sent to the client. `upstreamPath` is the path
 * below the target's own base path ('' when a stripped listen path leaves nothing, so
 * `/status` on a target `http://h/healthz` reaches `/healthz`, not `/healthz/`). */
export async function forward(api: CompiledApi, ctx: RequestContext, res: ServerResponse, upstreamPath: string): Promise<number> {
  const { req } = ctx;
  const method = req.method ?? 'GET';
  const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
  const attempts = IDEMPOTENT.has(method) && !hasBody ? 1 + api.targets.retries : 1;
  const headers = requestHeaders(req, api, ctx);
  let target = api.targets.pick();
  if (!target) return sendRefusal(res, circuitOpen(api), api.id, ctx.responseHeaders);
  // undici accepts any EventEmitter as a request's signal and aborts on its 'abort' event;
  // the response emits one when it closes unfinished (the client went away), so an
  // upstream request still waiting for its head stops at once. Once the head is in,
  // pipeline() stops it by destroying the upstream body. No AbortController per request.
  res.on('close', abortUnfinished);
  for (let attempt = 1; ; attempt++) {
    const breaker = target.breaker;
    const ticket = breaker ? breaker.acquire() : 0;
    let upstream: Dispatcher.ResponseData;
    try {
      upstream = await target.pool.request({
        method: method as Dispatcher.HttpMethod,
        path: (target.basePath + upstreamPath || '/') + ctx.query,
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
      const refusal = upstreamRefusal(err, api, target);
      // The client going away or sending too much says nothing about the target.
      if (res.destroyed || refusal.code === 'BODY_TOO_LARGE') {
        breaker?.released(ticket);
        if (res.destroyed) return CLIENT_CLOSED;
      } else {
        breaker?.failed(ticket);
        if (attempt < attempts && CONNECT_ERRORS.has((err as { code?: string }).code ?? '')) {
          const next = api.targets.pick(target);
          if (next) {
            target = next;
            continue;
          }
        }
      }
      return sendRefusal(res, refusal, api.id, ctx.responseHeaders);
    }
    if (breaker) {
      if (countsAsFailure(upstream.statusCode)) breaker.failed(ticket);
      else breaker.succeeded(ticket);
    }
    res.writeHead(upstream.statusCode, responseHeaders(upstream.headers, api.responseHeaders, ctx.responseHeaders));
    pipeline(upstream.body, res, () => {
      // Errors here are a client gone or an upstream cut mid-body; the status is already sent
      // and pipeline has destroyed both sides.
    });
    return upstream.statusCode;
  }
}

function abortUnfinished(this: ServerResponse): void {
  if (!this.writableFinished) this.emit('abort');
}

/** The refusal for a request no target can take: every circuit is open. */
export function circuitOpen(api: CompiledApi): Refusal {
  return { code: 'CIRCUIT_OPEN', message: `every upstream target of ${api.id} has an open circuit; retry later` };
}

/** The refusal for a failed upstream request. */
export function upstreamRefusal(err: unknown, api: CompiledApi, target: Target): Refusal {
  const code = errorCode(err);
  switch (code) {
    case 'BODY_TOO_LARGE':
      return { code, message: `request body exceeds ${api.maxBodyBytes} bytes` };
    case 'UPSTREAM_TIMEOUT':
      return { code, message: `upstream did not answer within ${api.targets.timeoutMs} ms` };
    default:
      return { code, message: `upstream ${target.host} unreachable: ${(err as Error).message}` };
  }
}

export function requestHeaders(req: IncomingMessage, api: CompiledApi, ctx: RequestContext): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const incoming = req.headers;
  const listed = connectionTokens(incoming);
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name) || listed?.has(name) || name === api.credentialHeader) continue;
    out[name] = incoming[name]!;
  }
  const prior = incoming['x-forwarded-for'];
  out['x-forwarded-for'] = prior ? `${prior}, ${ctx.clientIp}` : ctx.clientIp;
  out['x-forwarded-proto'] = 'http';
  if (incoming.host) out['x-forwarded-host'] = incoming.host;
  if (ctx.consumer) out['x-gatehouse-consumer'] = ctx.consumer.consumer;
  if (api.requestHeaders) applyChanges(out, api.requestHeaders);
  return out;
}

export function responseHeaders(incoming: IncomingHttpHeaders, changes: HeaderChanges | undefined, added: Record<string, string>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const listed = connectionTokens(incoming);
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name) || listed?.has(name)) continue;
    out[name] = incoming[name]!;
  }
  for (const name in added) out[name] = added[name];
  if (changes) applyChanges(out, changes);
  return out;
}

function applyChanges(headers: Record<string, string | string[]>, changes: HeaderChanges): void {
  for (const name of changes.remove) delete headers[name];
  for (const [name, value] of changes.set) headers[name] = value;
}

/** Header names the sender listed in Connection, which are hop-by-hop too. */
function connectionTokens(headers: IncomingHttpHeaders): Set<string> | undefined {
  const value = headers.connection;
  if (!value || value === 'keep-alive' || value === 'close') return undefined;
  return new Set(value.split(',').map((t) => t.trim().toLowerCase()));
}

async function* chunksOf(body: AsyncIterable<Buffer>, max: number): AsyncGenerator<Buffer> {
  let seen = 0;
  for await (const chunk of body) {
    seen += chunk.length;
    if (seen > max) throw new BodyTooLargeError(`request body exceeds ${max} bytes`);
    yield chunk;
  }
}

function errorCode(err: unknown): Extract<GatewayErrorCode, 'BODY_TOO_LARGE' | 'UPSTREAM_TIMEOUT' | 'UPSTREAM_UNREACHABLE'> {
  if (err instanceof BodyTooLargeError || (err as { cause?: unknown })?.cause instanceof BodyTooLargeError) return 'BODY_TOO_LARGE';
  return TIMEOUT_ERRORS.has((err as { code?: string }).code ?? '') ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNREACHABLE';
}
