// The controller's hook listener: POST /hook/<namespace>/<name> is one call for one
// Receiver. A call is read whole (bounded), authenticated against the Receiver's Secret,
// filtered by event, and then asks for an immediate reconcile of every GitRepository the
// Receiver lists. The signature is checked before any rate limit is counted: calls that
// fail it have their own budget per source address, so a stranger's forged calls never
// use up the budget of the Git host's real pushes (GitHub does not retry a refused push).
// Answers are small JSON bodies; none echoes the secret or the signature.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Receiver } from '../../api/kinds/receiver/index.ts';
import type { TokenRead } from './token.ts';
import { eventName, verifyCall } from './verify.ts';

/** Git hosts send push payloads well under this; anything larger is not a hook call. */
const MAX_BODY_BYTES = 1 << 20;
/** Authenticated calls accepted per receiver per window: a burst of pushes passes, a flood does not. */
const CALLS_PER_WINDOW = 30;
/** Failed calls (bad signature, too large) allowed per source address per window; past it
 * that address is refused before its body is read or a signature computed. */
const FAILURES_PER_WINDOW = 10;
const WINDOW_MS = 10_000;

/** Counts per key in fixed windows. Keys of ended windows are dropped once many are held,
 * so addresses that called once do not accumulate. */
class WindowCounter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly limit: number) {}

  /** Whether `key` has used up its budget in the current window. */
  exhausted(key: string): boolean {
    const w = this.windows.get(key);
    return !!w && Date.now() - w.start < WINDOW_MS && w.count >= this.limit;
  }

  /** Counts one for `key`; false when that goes over its budget. */
  count(key: string): boolean {
    const now = Date.now();
    let w = this.windows.get(key);
    if (!w || now - w.start >= WINDOW_MS) {
      if (this.windows.size >= 10_000) {
        for (const [k, v] of this.windows) if (now - v.start >= WINDOW_MS) this.windows.delete(k);
      }
      this.windows.set(key, (w = { start: now, count: 0 }));
    }
    return ++w.count <= this.limit;
  }
}

export interface WebhookDeps {
  receiver(namespace: string, name: string): Receiver | undefined;
  /** The token of the Secret `secretName` in `namespace`, or why it cannot be used. */
  token(namespace: string, secretName: string): TokenRead;
  /** Reconcile this GitRepository (and the Syncs that use it) now. */
  trigger(namespace: string, name: string): void;
  logger: Logger;
}

export interface WebhookServer {
  url: string;
  close(): Promise<void>;
}

export async function startWebhookServer(options: {
  host: string;
  port: number;
  deps: WebhookDeps;
}): Promise<WebhookServer> {
  const { deps } = options;
  const calls = new WindowCounter(CALLS_PER_WINDOW);
  const failures = new WindowCounter(FAILURES_PER_WINDOW);
  const retryAfter = { 'retry-after': String(WINDOW_MS / 1000) };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const match = /^\/hook\/([^/]+)\/([^/?]+)$/.exec((req.url ?? '').split('?')[0]);
    if (!match) return reply(res, 404, { message: 'not a hook path; expected /hook/<namespace>/<receiver>' });
    const [namespace, name] = [decodeURIComponent(match[1]), decodeURIComponent(match[2])];
    const id = `${namespace}/${name}`;
    if (req.method !== 'POST') return reply(res, 405, { message: 'hooks take POST' }, { allow: 'POST' });
    const receiver = deps.receiver(namespace, name);
    if (!receiver) return reply(res, 404, { message: `no Receiver ${id}` });
    const address = req.socket.remoteAddress ?? '';
    if (failures.exhausted(address)) {
      const message = `more than ${FAILURES_PER_WINDOW} failed calls from ${address} in ${WINDOW_MS / 1000}s`;
      return reply(res, 429, { message }, retryAfter);
    }
    const body = await readBody(req);
    if (!body) {
      failures.count(address);
      return reply(res, 413, { message: `Receiver ${id}: body larger than ${MAX_BODY_BYTES} bytes` });
    }
    const secret = deps.token(namespace, receiver.spec.secretRef.name);
    if (!secret.ok) {
      deps.logger.warn(
        { receiver: id, reason: secret.reason, problem: secret.message },
        'webhook refused: unusable token',
      );
      return reply(res, 503, { message: `Receiver ${id} cannot check calls now; its status says why` });
    }
    const verdict = verifyCall(receiver.spec.type, secret.token, req.headers, body);
    if (!verdict.ok) {
      failures.count(address);
      deps.logger.warn({ receiver: id, reason: verdict.reason, address }, 'webhook refused');
      return reply(res, 401, { message: `Receiver ${id}: ${verdict.reason}` });
    }
    if (!calls.count(id)) {
      const message = `Receiver ${id}: more than ${CALLS_PER_WINDOW} calls in ${WINDOW_MS / 1000}s`;
      return reply(res, 429, { message }, retryAfter);
    }
    const event = eventName(receiver.spec.type, req.headers);
    if (event === 'ping') return reply(res, 200, { message: 'pong' });
    if (receiver.spec.events.length && (!event || !receiver.spec.events.includes(event))) {
      return reply(res, 200, { message: `event ${event ?? '(none)'} ignored by Receiver ${id}` });
    }
    for (const source of receiver.spec.resources) deps.trigger(namespace, source.name);
    deps.logger.info({ receiver: id, event, sources: receiver.spec.resources.map((r) => r.name) }, 'webhook accepted');
    reply(res, 202, {
      message: `reconciling ${receiver.spec.resources.map((r) => `GitRepository ${namespace}/${r.name}`).join(', ')}`,
    });
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
    close: () =>
      new Promise<void>((resolve) => {
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

function reply(
  res: ServerResponse,
  code: number,
  body: { message: string },
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
