// The component side of delegated subresources (see apiserver/delegated-subresources.ts):
// a watch of the SubresourceRequests labelled for this component; each one not yet taken
// is claimed with a status write guarded by its resourceVersion (so of several replicas
// exactly one answers), answered by the handler of its `resource/subresource`, and the
// answer or refusal is written into its status, where the waiting API server reads it.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import {
  RESPONDER_LABEL,
  subresourceRequestKind,
  type Responder,
  type SubresourceFailure,
  type SubresourceRequest,
} from '../../api/kinds/subresource-request/index.ts';
import { ApiStatusError, isStatusError, type StatusReason } from '../../client/errors.ts';
import { Informer, type InformerOptions } from '../../client/informer.ts';
import type { KubeClient } from '../../client/rest.ts';
import { ControllerStoppedError } from './controller.ts';
import type { RuntimeLogger } from './logger.ts';

/** A refusal a handler answers with: the Status reason the caller gets and a message
 * naming the object. Any other error answers InternalError. */
export class SubresourceRefusal extends Error {
  override readonly name = 'SubresourceRefusal';
  constructor(
    readonly reason: StatusReason,
    message: string,
  ) {
    super(message);
  }
}

/** Answers one request: the subresource's response object. */
export type SubresourceAnswer = (request: SubresourceRequest) => Promise<object>;

export interface ResponderOptions {
  client: KubeClient;
  responder: Responder;
  /** Handlers by `resource/subresource` (`syncs/diff`); requests for others are left to
   * another instance that has one. */
  handlers: Record<string, SubresourceAnswer>;
  /** Restricts to one namespace; absent watches all. */
  namespace?: string;
  /** Whether this instance takes a request it has a handler for (a gateway takes only the
   * APIs in its scope, so another gateway can). */
  accepts?(request: SubresourceRequest): boolean;
  logger: RuntimeLogger;
  /** Told of the watch's failures and reconnections instead of a warning per retry (a
   * gateway logs an outage of its API server once, whichever watch notices it). */
  watch?: Pick<InformerOptions, 'onError' | 'onConnected'>;
}

export class SubresourceResponder {
  /** Names this instance in `status.claimedBy`. */
  readonly identity = `${hostname()}_${process.pid}_${randomBytes(4).toString('hex')}`;
  private readonly informer: Informer<SubresourceRequest>;
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(private readonly options: ResponderOptions) {
    const kind = subresourceRequestKind.kind;
    const warn = (err: unknown) => options.logger.warn({ err: String(err), kind }, 'watch failed; retrying');
    this.informer = new Informer<SubresourceRequest>(options.client, subresourceRequestKind, {
      namespace: options.namespace,
      labelSelector: `${RESPONDER_LABEL}=${options.responder}`,
      onError: options.watch?.onError ?? warn,
      onConnected: options.watch?.onConnected,
      onChange: (change) => {
        if (change.type === 'SYNC') for (const item of change.items) this.offer(item);
        else if (change.type !== 'DELETED') this.offer(change.object);
      },
    });
  }

  start(): this {
    this.informer.start();
    return this;
  }

  /** Takes no more requests and waits for the answers under way. */
  async stop(): Promise<void> {
    await this.informer.stop();
    await Promise.all(this.inFlight.values());
  }

  private offer(request: SubresourceRequest): void {
    const key = request.metadata.uid ?? `${request.metadata.namespace}/${request.metadata.name}`;
    const handler = this.options.handlers[`${request.spec.target.resource}/${request.spec.subresource}`];
    if (request.status?.claimedBy || this.inFlight.has(key) || !handler) return;
    if (this.options.accepts && !this.options.accepts(request)) return;
    const done = this.answer(request, handler).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, done);
  }

  private async answer(request: SubresourceRequest, handler: SubresourceAnswer): Promise<void> {
    const { client, logger } = this.options;
    const name = request.metadata.name!;
    const namespace = request.metadata.namespace;
    const id = `${namespace}/${name}`;
    const { resourceVersion } = request.metadata;
    const claim = { metadata: { resourceVersion }, status: { claimedBy: this.identity } };
    try {
      await client.patchStatus(subresourceRequestKind, name, claim, 'merge', namespace);
    } catch (err) {
      // Another instance claimed it first (Conflict), or the caller gave up (NotFound).
      if (isStatusError(err, 'Conflict', 'NotFound')) return;
      logger.warn({ err: String(err), request: id }, 'could not claim a request');
      return;
    }
    let answer: { path: string; value: object };
    try {
      answer = { path: '/status/response', value: await handler(request) };
    } catch (err) {
      const failure = failureOf(err);
      if (failure.reason === 'InternalError') logger.error({ err, request: id }, 'subresource request failed');
      answer = { path: '/status/failure', value: failure };
    }
    // A JSON patch, not a merge patch: the nulls an answer may hold stay values.
    const write = (value: { path: string; value: object }) =>
      client.patchStatus(subresourceRequestKind, name, [{ op: 'add', ...value }], 'json', namespace);
    try {
      await write(answer);
    } catch (err) {
      // NotFound: the caller stopped waiting; the work is done all the same. Otherwise the
      // answer itself could not be stored (too large, say): the caller is told so.
      if (isStatusError(err, 'NotFound')) return;
      logger.warn({ err: String(err), request: id }, 'could not write an answer');
      const message = `Internal error occurred: the answer could not be stored: ${(err as Error).message}`;
      const failure = { reason: 'InternalError', message };
      await write({ path: '/status/failure', value: failure }).catch(() => undefined);
    }
  }
}

function failureOf(err: unknown): SubresourceFailure {
  if (err instanceof SubresourceRefusal) return { reason: err.reason, message: err.message };
  if (err instanceof ApiStatusError) return { reason: err.reason, message: err.message };
  if (err instanceof ControllerStoppedError) return { reason: 'ServiceUnavailable', message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { reason: 'InternalError', message: `Internal error occurred: ${message}` };
}
