// The controller's hook listener: POST /hook/<namespace>/<name> is one call for one
// Receiver. A call is read whole (bounded), authenticated against the Receiver's Secret,
// filtered by event, rate-limited per receiver, and then asks for an immediate reconcile of
// every GitRepository the Receiver lists. Answers are small JSON bodies; none echoes the
// secret or the signature.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Receiver } from '../../api/kinds/receiver/index.ts';
import { eventName, verifyCall } from './verify.ts';

/** Git hosts send push payloads well under this; anything larger is not a hook call. */
const MAX_BODY_BYTES = 1 << 20;
/** Calls accepted per receiver per window: a burst of pushes passes, a flood does not. */
const CALLS_PER_WINDOW = 30;
const WINDOW_MS = 10_000;

export interface WebhookDeps {
  receiver(namespace: string, name: string): Receiver | undefined;
  /** The `token` value of a Secret in `namespace`, or undefined when absent. */
  token(namespace: string, secretName: string): Promise<string | undefined>;
  /** Reconcile this GitRepository (and the Syncs that use it) now. */
  trigger(namespace: string, name: string): void;
  logger: Logger;
}

export interface WebhookServer {
  url: string;
  close(): Promise<void>;
}

export async function startWebhookServer(options: { host: string; port: number; deps: WebhookDeps }): Promise<WebhookServer> {
  const { deps } = options;
  const windows = new Map<string, { start: number; count: number }>();
  const allow = (id: string): boolean => {
    const now = Date.now();
    let w = windows.get(id);
    if (!w || now - w.start >= WINDOW_MS) windows.set(id, (w = { start: now, count: 0 }));
    return ++w.count <= CALLS_PER_WINDOW;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const match = /^\/hook\/([^/]+)\/([^/?]+)$/.exec((req.url ?? '').split('?')[0]);
    if (!match) return reply(res, 404, { message: 'not a hook path; expected /hook/<namespace>/<receiver>' });
    const [namespace, name] = [decodeURIComponent(match[1]), decodeURIComponent(match[2])];
    const id = `${namespace}/${name}`;
    if (req.method !== 'POST') return reply(res, 405, { message: 'hooks take POST' }, { allow: 'POST' });
    const receiver = deps.receiver(namespace, name);
    if (!receiver) return reply(res, 404, { message: `no Receiver ${id}` });
    if (!allow(id)) return reply(res, 429, { message: `Receiver ${id}: more than ${CALLS_PER_WINDOW} calls in ${WINDOW_MS / 1000}s` }, { 'retry-after': String(WINDOW_MS / 1000) });
    const body = await readBody(req);
    if (!body) return reply(res, 413, { message: `Receiver ${id}: body larger than ${MAX_BODY_BYTES} bytes` });
    const secret = await deps.token(namespace, receiver.spec.secretRef.name);
    if (secret === undefined) {
      deps.logger.warn({ receiver: id, secret: receiver.spec.secretRef.name }, 'webhook refused: the Secret or its token key is missing');
      return reply(res, 503, { message: `Receiver ${id}: Secret ${namespace}/${receiver.spec.secretRef.name} has no token key` });
    }
    const verdict = verifyCall(receiver.spec.type, secret, req.headers, body);
    if (!verdict.ok) {
      deps.logger.warn({ receiver: id, reason: verdict.reason }, 'webhook refused');
      return reply(res, 401, { message: `Receiver ${id}: ${verdict.reason}` });
    }
    const event = eventName(receiver.spec.type, req.headers);
    if (event === 'ping') return reply(res, 200, { message: 'pong' });
    if (receiver.spec.events.length && (!event || !receiver.spec.events.includes(event))) {
      return reply(res, 200, { message: `event ${event ?? '(none)'} ignored by Receiver ${id}` });
    }
    for (const source of receiver.spec.resources) deps.trigger(namespace, source.name);
    deps.logger.info({ receiver: id, event, sources: receiver.spec.resources.map((r) => r.name) }, 'webhook accepted');
    reply(res, 202, { message: `reconciling ${receiver.spec.resources.map((r) => `GitRepository ${namespace}/${r.name}`).join(', ')}` });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      deps.logger.error({ err }, 'webhook failed');
      if (!res.headersSent) reply(res, 500, { message: 'internal error' });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** The whole body, or undefined when it exceeds MAX_BODY_BYTES. */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function reply(res: ServerResponse, code: number, body: { message: string }, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
