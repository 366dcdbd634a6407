// The gateway's HTTP/1.1 listeners, and what they refuse before a request is routed.
// Node's parser (llhttp, strict) already rejects malformed request lines and header lines,
// Content-Length together with Transfer-Encoding, duplicate or malformed Content-Length,
// and Transfer-Encoding lists that do not end in chunked; those errors are answered here as
// JSON like every other refusal (400, or 431 over the head limit), never with Node's bare
// default. What the parser lets through is checked here, before the handler: a transfer
// coding other than plain chunked (the parser reports "gzip" only once the body starts,
// after the request would have been forwarded), Transfer-Encoding in HTTP/1.0 (RFC 9112
// §6.1: the framing cannot be trusted), and a missing or repeated Host (RFC 9112 §3.2).
// Framing refusals close the connection: what follows on it cannot be trusted.
//
// Upgrade requests take the same path as the others: they get a ServerResponse on their
// socket, so routing, policies and refusals are the same code; the proxy hands them to
// upgrade.ts. CONNECT is refused: this is not a forward proxy. Node stops tracking an
// upgraded connection (closeAllConnections() does not reach it), so the listener keeps its
// own set and closeListener() cuts those too: open WebSockets must not hold a shutdown.
import { createServer, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { sendRefusal, writeRefusal, type Refusal } from './errors.ts';

/** Request line and header fields together, in bytes; more is answered 431. A long URL
 * counts against it like a header, so a URL over the limit is 431 too, not 414. */
export const MAX_HEAD_BYTES = 16 * 1024;

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Told of every answer given before the request reached the handler (for logs and metrics). */
export type RefusedListener = (status: number, refusal: Refusal) => void;

const upgradedOf = new WeakMap<Server, Set<Duplex>>();

export function createListener(handler: RequestHandler, refused: RefusedListener): Server {
  // requireHostHeader off: a missing Host gets the gateway's JSON answer, not Node's bare 400.
  const server = createServer({ maxHeaderSize: MAX_HEAD_BYTES, requireHostHeader: false });
  const upgraded = new Set<Duplex>();
  upgradedOf.set(server, upgraded);

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const problem = framingProblem(req);
    if (problem === undefined) return handler(req, res);
    res.shouldKeepAlive = false;
    const refusal: Refusal = { code: 'MALFORMED_REQUEST', message: problem };
    refused(sendRefusal(res, refusal, undefined), refusal);
  };
  server.on('request', onRequest);
  // With a listener here Node does not send 100 Continue by itself: the proxy sends it once
  // the request is admitted, so a refused upload is never sent (RFC 9110 §10.1.1).
  server.on('checkContinue', onRequest);

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node stops watching an upgraded socket: errors (a reset) are ours to swallow.
    socket.on('error', () => socket.destroy());
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Socket);
    // Any answer other than a joined upgrade ends the connection.
    res.on('finish', () => (socket as Socket).destroySoon());
    // Bytes the client sent after the head go to the upstream once it has switched protocols.
    if (head.length > 0) socket.unshift(head);
    onRequest(req, res);
  });

  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    const refusal: Refusal = {
      code: 'BAD_REQUEST_TARGET',
      message: 'CONNECT is not served: this gateway is not a forward proxy',
    };
    refused(writeRefusal(socket, refusal, undefined), refusal);
  });

  server.on('clientError', (err: NodeJS.ErrnoException & { reason?: string }, socket: Duplex) => {
    // Node's own rule: answer only when no response has started on this connection, or the
    // answer would be spliced into another. A finished one (a framing refusal above) is
    // let flush first.
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      if (inFlight?.writableEnded) (socket as Socket).destroySoon();
      else socket.destroy();
      return;
    }
    const refusal = parseErrorRefusal(err);
    refused(writeRefusal(socket, refusal, undefined), refusal);
  });
  return server;
}

/** Stops accepting and cuts every connection, upgraded ones included; resolves when closed. */
export function closeListener(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
    for (const socket of upgradedOf.get(server) ?? []) socket.destroy();
  });
}

function parseErrorRefusal(err: NodeJS.ErrnoException & { reason?: string }): Refusal {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { code: 'HEADERS_TOO_LARGE', message: `the request line and headers exceed ${MAX_HEAD_BYTES} bytes` };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { code: 'REQUEST_TIMEOUT', message: 'the request was not received in time' };
    default:
      return { code: 'MALFORMED_REQUEST', message: `malformed HTTP request: ${err.reason ?? err.message}` };
  }
}

/** Why the request's framing or Host cannot be trusted, or undefined. */
function framingProblem(req: IncomingMessage): string | undefined {
  const te = req.headers['transfer-encoding'];
  if (te !== undefined) {
    if (req.httpVersionMinor === 0) return 'Transfer-Encoding is not allowed in an HTTP/1.0 request';
    if (te.trim().toLowerCase() !== 'chunked')
      return `Transfer-Encoding ${JSON.stringify(te)} is not supported: only "chunked" is`;
  }
  // Node keeps the first of repeated Host headers and drops the rest: count them raw.
  let hosts = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.length === 4 && (name === 'Host' || name.toLowerCase() === 'host')) hosts++;
  }
  if (hosts > 1) return 'the request carries more than one Host header';
  if (hosts === 0 && req.httpVersionMinor >= 1) return 'an HTTP/1.1 request must carry a Host header';
  return undefined;
}
