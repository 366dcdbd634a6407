// Upgraded connections (WebSocket, or any HTTP/1.1 Upgrade, RFC 9110 §7.8). The request
// was routed and passed the API's policy chain like any other (listener.ts gives it a
// ServerResponse on its socket); here it goes to a picked target with the Upgrade and
// Connection headers kept for this hop. The upstream's 101 goes back as it came and the
// two connections are joined byte for byte. Any other answer is relayed like a normal
// response and the connection closed after it.
//
// The client's bytes reach the upstream only after its 101: an upstream that refuses the
// upgrade and keeps its connection open must not receive further requests smuggled past
// the gateway's routing and policies. For the same reason an upgrade request may not carry
// a body (the gateway could not frame it without forwarding raw client bytes).
//
// The handshake is bounded by the API's upstream timeout and not retried; once joined, a
// connection lives as long as both ends keep it.
import { request as httpRequest, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream';
import { countsAsFailure } from './breaker.ts';
import type { CompiledApi } from './config.ts';
import { upstreamQuery } from './credentials.ts';
import { CLIENT_CLOSED, sendRefusal } from './errors.ts';
import { requestHeaders, responseHeaders } from './headers.ts';
import type { RequestContext } from './policies.ts';
import { rawResponseHead } from './raw-response.ts';
import { circuitOpen, upstreamFailure, upstreamTimeout, upstreamUnreachable } from './upstream.ts';

/** Proxies an upgrade request; resolves with the status sent (101 once joined). */
export function forwardUpgrade(
  api: CompiledApi,
  ctx: RequestContext,
  res: ServerResponse,
  upstreamPath: string,
): Promise<number> {
  const { req } = ctx;
  if (req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0') {
    return Promise.resolve(
      sendRefusal(
        res,
        { code: 'MALFORMED_REQUEST', message: 'an Upgrade request cannot carry a body' },
        api.id,
        ctx.responseHeaders,
      ),
    );
  }
  const target = api.targets.pick();
  if (!target) return Promise.resolve(sendRefusal(res, circuitOpen(api.id), api.id, ctx.responseHeaders));
  const breaker = target.breaker;
  const ticket = breaker ? breaker.acquire() : 0;
  const headers = requestHeaders(req, api, ctx);
  headers.host = target.host;
  headers.connection = 'upgrade';
  headers.upgrade = req.headers.upgrade!;
  const { location } = target;
  const upstream: ClientRequest = (location.protocol === 'https:' ? httpsRequest : httpRequest)({
    hostname: location.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: location.port || undefined,
    method: req.method,
    path: (target.basePath + upstreamPath || '/') + upstreamQuery(api, ctx.query),
    headers,
    agent: false,
  });

  return new Promise<number>((resolve) => {
    let timedOut = false;
    let settled = false;
    const timer = setTimeout(() => {
      timedOut = true;
      upstream.destroy(Object.assign(new Error('upgrade timed out'), { code: 'ETIMEDOUT' }));
    }, api.targets.timeoutMs);
    const clientGone = () => upstream.destroy(new Error('client went away'));
    res.on('close', clientGone);
    // The first of upgrade, response and error decides; later events (an error after a
    // relayed response) have nothing left to decide.
    const settle = (status: number) => {
      settled = true;
      clearTimeout(timer);
      res.off('close', clientGone);
      resolve(status);
    };

    upstream.on('upgrade', (answer: IncomingMessage, upstreamSocket: Socket, upstreamHead: Buffer) => {
      if (settled) return void upstreamSocket.destroy();
      breaker?.succeeded(ticket);
      const socket = res.socket;
      if (!socket || socket.destroyed) {
        upstreamSocket.destroy();
        return settle(CLIENT_CLOSED);
      }
      res.detachSocket(socket);
      socket.write(rawResponseHead(answer.statusCode!, answer.statusMessage ?? '', answer.rawHeaders));
      if (upstreamHead.length > 0) socket.write(upstreamHead);
      join(socket, upstreamSocket);
      settle(answer.statusCode!);
    });

    upstream.on('response', (answer: IncomingMessage) => {
      if (settled) return void answer.destroy();
      if (countsAsFailure(answer.statusCode!)) breaker?.failed(ticket);
      else breaker?.succeeded(ticket);
      res.writeHead(answer.statusCode!, responseHeaders(answer.headers, api.responseHeaders, ctx.responseHeaders));
      pipeline(answer, res, () => {
        // A client gone or an upstream cut mid-body: both sides are destroyed, the status sent.
      });
      settle(answer.statusCode!);
    });

    upstream.on('error', (err) => {
      if (settled) return;
      if (res.destroyed) {
        breaker?.released(ticket);
        return settle(CLIENT_CLOSED);
      }
      breaker?.failed(ticket);
      ctx.upstreamFailure = upstreamFailure(target, err);
      const refusal = timedOut
        ? upstreamTimeout(api.id, api.targets.timeoutMs)
        : upstreamUnreachable(api.id, ctx.upstreamFailure);
      settle(sendRefusal(res, refusal, api.id, ctx.responseHeaders));
    });

    upstream.end();
  });
}

/** Joins two connections both ways. An end travels on as an end (half-close); one side
 * closing closes the other once what is queued for it is written; an error on either side
 * tears down both at once. */
function join(a: Socket, b: Socket): void {
  const teardown = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', teardown);
  b.on('error', teardown);
  a.on('close', () => b.destroySoon());
  b.on('close', () => a.destroySoon());
  a.pipe(b);
  b.pipe(a);
}
