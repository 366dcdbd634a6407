// The probe: one real request through the live config, sent to the gateway's own listener
// as a client would send it (the public listener for public APIs, the internal one for
// internal APIs; the API's first host as Host), so routing, policies, limits and the
// proxy all take part. It answers with the status, the time to the response head, and
// which upstream target answered.
//
// Only the proxy knows which target answered. It says so in a response header, but only
// to requests carrying this process's probe token: the target URLs are the operator's
// business, not the API clients', and other traffic is left exactly as it was.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Client, type Dispatcher } from 'undici';
import { SubresourceRefusal } from '../controller/runtime/responder.ts';
import type { ListenerName } from './api-outcome.ts';
import type { GatewayConfig } from './config.ts';
import { refusedByUndici } from './errors.ts';

/** Request header carrying the probe token. */
export const PROBE_TOKEN_HEADER = 'x-gatehouse-probe';
/** Response header naming the target that answered a probe (its URL as written). */
export const PROBE_TARGET_HEADER = 'x-gatehouse-target';

/** How long a probe waits for the response head: the gateway answers by itself once its
 * upstream timeouts pass, so this only bounds a gateway that does not answer at all. */
const PROBE_TIMEOUT_MS = 60_000;

export interface ProbeRequest {
  method?: string;
  /** Below the API's listenPath, starting with "/"; may carry a query. */
  path?: string;
  headers?: Record<string, string>;
}

export interface ProbeResult {
  kind: 'ProbeResult';
  apiVersion: 'gatehouse.dev/v1alpha1';
  /** "namespace/name". */
  api: string;
  /** Generation of the gateway config the probe went through. */
  generation: number;
  listener: ListenerName;
  request: { method: string; path: string };
  status: number;
  /** Milliseconds from sending the request to receiving the response head. */
  latencyMs: number;
  /** The upstream target that answered; absent when the gateway answered by itself. */
  target?: string;
  /** "CODE: message" when the gateway answered by itself with one of its refusals. */
  error?: string;
}

/** Why a probe could not be sent. */
export type ProbeErrorCode =
  /** The live config does not route the API. */
  | 'NotServed'
  /** The request as given cannot be sent. */
  | 'BadRequest'
  /** The gateway's listener did not answer. */
  | 'Unavailable';

export class GatewayProbeError extends Error {
  override readonly name = 'GatewayProbeError';
  constructor(
    readonly code: ProbeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const PROBE_STATUS = {
  NotServed: 'NotFound',
  BadRequest: 'BadRequest',
  Unavailable: 'ServiceUnavailable',
} as const satisfies Record<ProbeErrorCode, string>;

/** A probe's refusal as the probe subresource answers it; other errors are rethrown. */
export function probeRefusal(err: unknown): never {
  if (err instanceof GatewayProbeError) throw new SubresourceRefusal(PROBE_STATUS[err.code], err.message);
  throw err;
}

export class Prober {
  private readonly token = randomBytes(16).toString('hex');

  /** Whether `req` is one of this process's probes; the token is removed so it never
   * reaches an upstream. */
  marked(req: IncomingMessage): boolean {
    const value = req.headers[PROBE_TOKEN_HEADER];
    if (
      typeof value !== 'string' ||
      value.length !== this.token.length ||
      !timingSafeEqual(Buffer.from(value, 'latin1'), Buffer.from(this.token))
    )
      return false;
    delete req.headers[PROBE_TOKEN_HEADER];
    return true;
  }

  /** Probes the API through `config`, on the listener (base URL in `listeners`) that serves it. */
  async probe(
    config: GatewayConfig,
    listeners: Record<ListenerName, string>,
    namespace: string,
    name: string,
    request: ProbeRequest = {},
  ): Promise<ProbeResult> {
    const id = `${namespace}/${name}`;
    const outcome = config.outcomes.get(id);
    if (!outcome)
      throw new GatewayProbeError(
        'NotServed',
        `ApiDefinition ${id} is not in the config this gateway serves (generation ${config.generation}): it is outside the gateway's namespace or selector, or newer than the config`,
      );
    if (outcome.reason !== 'Served')
      throw new GatewayProbeError('NotServed', `ApiDefinition ${id} is not served by this gateway: ${outcome.message}`);
    const spec = config.inputs.apis.find((a) => a.metadata.namespace === namespace && a.metadata.name === name)!.spec;
    const listener: ListenerName = outcome.listeners.includes('public') ? 'public' : 'internal';
    const method = request.method ?? 'GET';
    const path = `${spec.listenPath.replace(/\/+$/, '')}${request.path ?? ''}` || '/';
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(request.headers ?? {})) headers[key.toLowerCase()] = value;
    // The API's own host, so the route found is the API's; "*.example.com" is asked for as
    // "probe.example.com". Without hosts, the listener's address as any client would send.
    const host = spec.hosts?.[0];
    if (host) headers.host = host.startsWith('*.') ? `probe${host.slice(1)}` : host;
    else delete headers.host;
    headers[PROBE_TOKEN_HEADER] = this.token;

    const client = new Client(listeners[listener]);
    try {
      const started = performance.now();
      let answer: Dispatcher.ResponseData;
      try {
        answer = await client.request({
          method: method as Dispatcher.HttpMethod,
          path,
          headers,
          headersTimeout: PROBE_TIMEOUT_MS,
        });
      } catch (err) {
        // A request undici will not send as given is the caller's mistake, not the gateway's.
        if (refusedByUndici(err)) {
          throw new GatewayProbeError('BadRequest', `ApiDefinition ${id} probe: ${(err as Error).message}`);
        }
        throw new GatewayProbeError(
          'Unavailable',
          `ApiDefinition ${id} probe: the gateway's ${listener} listener did not answer: ${(err as Error).message}`,
        );
      }
      const latencyMs = Math.round((performance.now() - started) * 1000) / 1000;
      const target = answer.headers[PROBE_TARGET_HEADER];
      const result: ProbeResult = {
        kind: 'ProbeResult',
        apiVersion: 'gatehouse.dev/v1alpha1',
        api: id,
        generation: config.generation,
        listener,
        request: { method, path },
        status: answer.statusCode,
        latencyMs,
      };
      if (typeof target === 'string') {
        result.target = target;
        await answer.body.dump();
      } else {
        const refusal = gatewayRefusal(await answer.body.text());
        if (refusal) result.error = refusal;
      }
      return result;
    } finally {
      await client.destroy();
    }
  }
}

/** The gateway's own refusal body ({"code", "message"}) as "CODE: message". */
function gatewayRefusal(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown };
    return typeof body.code === 'string' && typeof body.message === 'string'
      ? `${body.code}: ${body.message}`
      : undefined;
  } catch {
    return undefined;
  }
}
