// A controller runs one reconciler over a work queue of object keys (controller-runtime's
// contract). A request carries only a key: the reconciler reads the current state itself,
// so any number of changes collapse into one reconcile (level-triggered). Outcomes:
// - returns normally → the key's backoff is reset; `requeueAfterMs` polls again later;
// - throws TerminalError → logged, not retried until something enqueues the key again;
// - throws anything else → retried after the key's exponential backoff.
import type { KubeObject } from '../../api/kind.ts';
import type { Informer } from '../../client/informer.ts';
import type { BackoffOptions } from './backoff.ts';
import type { RuntimeLogger } from './logger.ts';
import type { ChangeFilter } from './predicates.ts';
import { WorkQueue } from './work-queue.ts';

export interface Request {
  namespace: string;
  name: string;
}

export interface Result {
  /** Reconcile this key again after this long even if nothing changes (polling). */
  requeueAfterMs?: number;
}

export interface Reconciler {
  /** `signal` aborts when the controller stops; long operations should honour it. */
  reconcile(request: Request, signal: AbortSignal): Promise<Result | undefined>;
}

/** A failure that retrying cannot fix (an invalid spec, say): the key is not requeued. */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
}

/** Rejects trigger() promises the controller will never settle. */
export class ControllerStoppedError extends Error {
  override readonly name = 'ControllerStoppedError';
}

/** Plain counters for metrics; read them, never write them. */
export interface ControllerCounters {
  /** Reconciles started. */
  reconciles: number;
  /** Reconciles that threw and were scheduled for a retry. */
  errors: number;
  /** Reconciles that threw TerminalError. */
  terminalErrors: number;
}

export interface ControllerOptions {
  /** Names the controller in logs and errors. */
  name: string;
  reconciler: Reconciler;
  logger: RuntimeLogger;
  /** Reconciles running at once, never two for one key. Default 2. */
  concurrency?: number;
  backoff?: BackoffOptions;
  /** How long stop() waits for reconciles in flight. Default 30 s. */
  stopTimeoutMs?: number;
}

/** The work-queue key of a request: "namespace/name". */
export function keyOf(request: Request): string {
  return `${request.namespace}/${request.name}`;
}

export function requestOf(obj: KubeObject): Request {
  return { namespace: obj.metadata.namespace ?? '', name: obj.metadata.name ?? '' };
}

function parseKey(key: string): Request {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

interface Waiter {
  resolve(result: Result): void;
  reject(err: unknown): void;
}

type State = 'new' | 'running' | 'stopped';

export class Controller {
  readonly name: string;
  readonly counters: ControllerCounters = { reconciles: 0, errors: 0, terminalErrors: 0 };
  private readonly reconciler: Reconciler;
  private readonly logger: RuntimeLogger;
  private readonly concurrency: number;
  private readonly stopTimeoutMs: number;
  private readonly queue: WorkQueue;
  /** The `synced` promises of the watched informers. */
  private readonly synced: Promise<void>[] = [];
  /** trigger() callers waiting for the next reconcile of a key that starts after their call. */
  private readonly waiting = new Map<string, Waiter[]>();
  private readonly abort = new AbortController();
  private workers: Promise<void>[] = [];
  private state: State = 'new';

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.reconciler = options.reconciler;
    this.logger = options.logger;
    this.concurrency = options.concurrency ?? 2;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 30_000;
    this.queue = new WorkQueue(options.backoff);
  }

  /**
   * Enqueues keys on every change `informer` reports. Without `map` the informer watches
   * the primary kind and each object enqueues itself; with `map` it watches a secondary
   * kind and each object enqueues the primary objects `map` names (the Syncs that reference
   * a GitRepository, the Sync that owns an ApiDefinition). A modification is mapped before
   * and after (controller-runtime's EnqueueRequestsFromMapFunc), so the objects a change
   * took a reference away from are reconciled too. A relist enqueues every object.
   * `filter` drops changes that need no reconcile (see generationChanged); a relist is
   * never filtered. The caller starts and stops the informer; start() waits until it has
   * synced.
   */
  watch<T extends KubeObject>(
    informer: Informer<T>,
    map: (obj: T) => Iterable<Request> = (obj) => [requestOf(obj)],
    filter?: ChangeFilter<T>,
  ): this {
    this.synced.push(informer.synced);
    informer.onChange((change) => {
      if (change.type !== 'SYNC' && filter && !filter(change)) return;
      const before = change.type !== 'SYNC' && change.old ? [change.old] : [];
      const objects = change.type === 'SYNC' ? change.items : [...before, change.object];
      for (const obj of objects) for (const request of map(obj)) this.queue.add(keyOf(request));
    });
    return this;
  }

  /** Enqueues `request` now. */
  enqueue(request: Request): void {
    this.queue.add(keyOf(request));
  }

  /**
   * Enqueues `request` now and settles with the outcome of its next reconcile that starts
   * after this call (one already running may have read older state): the Result, or the
   * error it threw. Rejects with ControllerStoppedError when the controller stops first.
   */
  trigger(request: Request): Promise<Result> {
    if (this.state === 'stopped')
      return Promise.reject(new ControllerStoppedError(`controller ${this.name} is stopped`));
    const key = keyOf(request);
    return new Promise<Result>((resolve, reject) => {
      const list = this.waiting.get(key) ?? [];
      list.push({ resolve, reject });
      this.waiting.set(key, list);
      this.queue.add(key);
    });
  }

  /** Starts the workers once every watched informer has synced, so a reconciler reading
   * an informer's cache never mistakes "not listed yet" for "deleted". Keys enqueued
   * before that wait in the queue. */
  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'running';
    const stopped = new Promise<void>((resolve) =>
      this.abort.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    await Promise.race([Promise.all(this.synced), stopped]);
    if (this.abort.signal.aborted) return;
    for (let i = 0; i < this.concurrency; i++) this.workers.push(this.work());
  }

  /** Stops handing out keys, aborts the reconcilers' signal and waits (at most
   * stopTimeoutMs) for reconciles in flight. Queued and delayed keys are dropped. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.abort.abort();
    const drained = this.queue.shutDown();
    this.rejectWaiting();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), this.stopTimeoutMs)));
    const expired = await Promise.race([Promise.all([drained, ...this.workers]).then(() => false), timedOut]);
    clearTimeout(timer);
    if (expired)
      this.logger.warn(
        { controller: this.name, inFlight: this.queue.inFlight },
        'controller stopped with reconciles still running',
      );
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      await this.process(key);
      this.queue.done(key);
    }
  }

  private async process(key: string): Promise<void> {
    const waiters = this.waiting.get(key) ?? [];
    this.waiting.delete(key);
    this.counters.reconciles++;
    try {
      const result = (await this.reconciler.reconcile(parseKey(key), this.abort.signal)) ?? {};
      this.queue.forget(key);
      if (result.requeueAfterMs !== undefined && result.requeueAfterMs > 0)
        this.queue.addAfter(key, result.requeueAfterMs);
      for (const w of waiters) w.resolve(result);
    } catch (err) {
      if (err instanceof TerminalError) {
        this.counters.terminalErrors++;
        this.queue.forget(key);
        this.logger.error({ controller: this.name, key, err }, 'reconcile failed; not retried');
      } else {
        this.counters.errors++;
        const retryInMs = this.queue.addRateLimited(key);
        this.logger.warn(
          { controller: this.name, key, err, retryInMs, failures: this.queue.failures(key) },
          'reconcile failed; retrying',
        );
      }
      for (const w of waiters) w.reject(err);
    }
  }

  private rejectWaiting(): void {
    for (const [key, list] of this.waiting) {
      for (const w of list)
        w.reject(new ControllerStoppedError(`controller ${this.name} stopped before ${key} was reconciled`));
    }
    this.waiting.clear();
  }
}
