// Forwards one request to its API's upstream and streams the answer back. Request and
// response bodies are piped, never buffered. Hop-by-hop headers (RFC 9110 §7.6.1) are
// dropped in both directions; X-Forwarded-For/Proto/Host tell the upstream who asked.
// Connection failures are retried on another target only for idempotent methods without a
// body (RFC 9110 §9.2.2): a streamed body cannot be sent twice.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Readable, pipeline } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { CompiledApi, HeaderChanges } from './config.ts';
import { sendRefusal, type GatewayErrorCode } from './errors.ts';
import type { RequestContext } from './policies.ts';
import type { Target } from './upstream.ts';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET']);
const TIMEOUT_ERRORS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

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
  let first: Target | undefined;
  for (let attempt = 0; ; attempt++) {
    const target = api.targets.pick(attempt, first);
    first ??= target;
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
      });
    } catch (err) {
      const code = errorCode(err);
      if (code === 'BODY_TOO_LARGE') return sendRefusal(res, { code, message: `request body exceeds ${api.maxBodyBytes} bytes` }, api.id, ctx.responseHeaders);
      if (CONNECT_ERRORS.has((err as { code?: string }).code ?? '') && attempt + 1 < attempts) continue;
      const message = code === 'UPSTREAM_TIMEOUT' ? `upstream did not answer within ${api.targets.timeoutMs} ms` : `upstream ${target.host} unreachable: ${(err as Error).message}`;
      return sendRefusal(res, { code, message }, api.id, ctx.responseHeaders);
    }
    res.writeHead(upstream.statusCode, responseHeaders(upstream.headers, api.responseHeaders, ctx.responseHeaders));
    pipeline(upstream.body, res, () => {
      // Errors here are a client gone or an upstream cut mid-body; the status is already sent
      // and pipeline has destroyed both sides.
    });
    return upstream.statusCode;
  }
}

function requestHeaders(req: IncomingMessage, api: CompiledApi, ctx: RequestContext): Record<string, string | string[]> {
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

function responseHeaders(incoming: IncomingHttpHeaders, changes: HeaderChanges | undefined, added: Record<string, string>): Record<string, string | string[]> {
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

function errorCode(err: unknown): GatewayErrorCode {
  if (err instanceof BodyTooLargeError || (err as { cause?: unknown })?.cause instanceof BodyTooLargeError) return 'BODY_TOO_LARGE';
  return TIMEOUT_ERRORS.has((err as { code?: string }).code ?? '') ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNREACHABLE';
}
