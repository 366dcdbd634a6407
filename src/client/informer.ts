// An informer: a local cache of one resource, kept current by list + watch (client-go's
// reflector contract). It lists once, then watches from the list's resourceVersion with
// bookmarks so the resume point stays fresh; when the stream ends it resumes from the last
// resourceVersion seen; when the server says that version is gone (410 Expired, as an
// answer or an ERROR event) it lists again and replaces the cache. Transport failures
// back off exponentially and retry forever until stop(). Handlers see a consistent cache:
// every callback runs after the cache already reflects the change it reports.
import type { KubeObject } from '../api/kind.ts';
import { ApiStatusError, isStatusError } from './errors.ts';
import type { KubeClient, ResourceRef } from './rest.ts';

export type InformerChange<T> =
  /** After a (re)list: `items` is the whole cache, replacing anything reported before. */
  | { type: 'SYNC'; items: readonly T[] }
  /** `old` is the cached object the change replaces or removes, when there was one. */
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T; old?: T };

export interface InformerOptions<T extends KubeObject = KubeObject> {
  /** Restricts to one namespace; absent watches all namespaces. */
  namespace?: string;
  labelSelector?: string;
  /** e.g. `metadata.name=NAME`: a watch of one object, which a Role with resourceNames may allow. */
  fieldSelector?: string;
  /** Delay before the first retry after a failure; doubles up to maxBackoffMs. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Server-side lifetime of one watch request. */
  watchTimeoutSeconds?: number;
  onChange?: (change: InformerChange<T>) => void;
  /** Reports every failure that leads to a retry; the informer keeps going. */
  onError?: (err: unknown) => void;
  /** Told when `connected` turns true: after the first list, and when the server answers
   * again after failures (once per recovery, however many events follow). */
  onConnected?: () => void;
}

const keyOf = (obj: KubeObject) => `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;

export class Informer<T extends KubeObject = KubeObject> {
  private readonly cache = new Map<string, T>();
  private resourceVersion = '';
  private readonly abort = new AbortController();
  private readonly options: Required<
    Pick<InformerOptions, 'initialBackoffMs' | 'maxBackoffMs' | 'watchTimeoutSeconds'>
  > &
    InformerOptions<T>;
  private readonly listeners: Array<(change: InformerChange<T>) => void> = [];
  private loop: Promise<void> | undefined;
  private resolveSynced!: () => void;
  /** Resolves after the first successful list. */
  readonly synced: Promise<void> = new Promise((resolve) => (this.resolveSynced = resolve));
  /** Whether the last request to the server succeeded (the watch is live or being resumed). */
  connected = false;

  constructor(
    private readonly client: KubeClient,
    private readonly ref: ResourceRef,
    options: InformerOptions<T> = {},
  ) {
    this.options = { initialBackoffMs: 200, maxBackoffMs: 10_000, watchTimeoutSeconds: 300, ...options };
    if (options.onChange) this.listeners.push(options.onChange);
  }

  onChange(listener: (change: InformerChange<T>) => void): void {
    this.listeners.push(listener);
  }

  /** The cached objects, in no particular order; a copy the caller may keep. */
  items(): T[] {
    return [...this.cache.values()];
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(`${namespace ?? ''}/${name}`);
  }

  /** The resourceVersion the cache reflects. */
  get lastResourceVersion(): string {
    return this.resourceVersion;
  }

  start(): this {
    this.loop ??= this.run();
    return this;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(): Promise<void> {
    let backoff = this.options.initialBackoffMs;
    let mustList = true;
    while (!this.stopped) {
      try {
        if (mustList) {
          await this.relist();
          mustList = false;
        }
        await this.watchOnce();
        backoff = this.options.initialBackoffMs;
      } catch (err) {
        if (this.stopped) return;
        this.connected = false;
        if (isStatusError(err, 'Expired', 'Gone') || (err instanceof ApiStatusError && err.code === 410)) {
          // The resume point fell out of the server's window: only a fresh list is consistent.
          mustList = true;
          continue;
        }
        this.options.onError?.(err);
        await sleep(backoff, this.abort.signal);
        backoff = Math.min(backoff * 2, this.options.maxBackoffMs);
      }
    }
  }

  private async relist(): Promise<void> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.client.list<T>(this.ref, {
        namespace: this.options.namespace,
        labelSelector: this.options.labelSelector,
        fieldSelector: this.options.fieldSelector,
        limit: 500,
        continue: cont,
      });
      items.push(...page.items);
      cont = page.metadata.continue || undefined;
      rv = page.metadata.resourceVersion;
    } while (cont);
    this.markConnected();
    this.cache.clear();
    for (const item of items) this.cache.set(keyOf(item), item);
    this.resourceVersion = rv;
    this.emit({ type: 'SYNC', items: this.items() });
    this.resolveSynced();
  }

  /** One watch request; returns when the server ends the stream normally. */
  private async watchOnce(): Promise<void> {
    const events = this.client.watch<T>(
      this.ref,
      {
        namespace: this.options.namespace,
        labelSelector: this.options.labelSelector,
        fieldSelector: this.options.fieldSelector,
        resourceVersion: this.resourceVersion,
        timeoutSeconds: this.options.watchTimeoutSeconds,
      },
      this.abort.signal,
    );
    for await (const event of events) {
      this.markConnected();
      switch (event.type) {
        case 'ERROR':
          throw new ApiStatusError(event.object, event.object.code ?? 500);
        case 'BOOKMARK':
          this.resourceVersion = event.object.metadata.resourceVersion ?? this.resourceVersion;
          break;
        case 'ADDED':
        case 'MODIFIED': {
          const old = this.cache.get(keyOf(event.object));
          this.cache.set(keyOf(event.object), event.object);
          this.resourceVersion = event.object.metadata.resourceVersion ?? this.resourceVersion;
          this.emit({ type: event.type, object: event.object, old });
          break;
        }
        case 'DELETED': {
          const old = this.cache.get(keyOf(event.object));
          this.cache.delete(keyOf(event.object));
          this.resourceVersion = event.object.metadata.resourceVersion ?? this.resourceVersion;
          this.emit({ type: 'DELETED', object: event.object, old });
          break;
        }
      }
    }
  }

  private markConnected(): void {
    if (this.connected) return;
    this.connected = true;
    this.options.onConnected?.();
  }

  private emit(change: InformerChange<T>): void {
    for (const listener of this.listeners) listener(change);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
