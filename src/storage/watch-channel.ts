import { StorageError } from './storage.ts';
import type { Watch, WatchEvent, WatchOptions } from './storage.ts';

/** Live events a watcher may have queued, unread, before it is closed with 'Unavailable'
 * (the client re-lists). Replayed history does not count against it. */
export const MAX_QUEUED_EVENTS = 10_000;

/**
 * The queue behind one Watch. The driver pushes events in revision order; the consumer
 * pulls them through the async iterator. close() ends it at once; fail() ends it with
 * an error the iterator throws after the queued events are read, except on overflow,
 * where the queue is dropped because the watcher is too far behind to catch up.
 */
export class WatchChannel implements Watch {
  readonly resource: string;
  readonly namespace: string | undefined;
  /** Events at or below this revision are not delivered (already replayed or requested). */
  lastRevision: number;
  private readonly queue: WatchEvent[] = [];
  private waiter: { resolve(r: IteratorResult<WatchEvent>): void; reject(err: unknown): void } | undefined;
  private ended = false;
  private error: StorageError | undefined;
  private readonly onClose: (channel: WatchChannel) => void;

  constructor(options: WatchOptions, onClose: (channel: WatchChannel) => void) {
    this.resource = options.resource;
    this.namespace = options.namespace;
    this.lastRevision = options.fromRevision;
    this.onClose = onClose;
  }

  get closed(): boolean {
    return this.ended;
  }

  matches(resource: string, namespace: string): boolean {
    return this.resource === resource && (this.namespace === undefined || this.namespace === namespace);
  }

  /** Delivers history read from the log; never overflows. */
  replay(event: WatchEvent): void {
    this.enqueue(event);
  }

  /** Delivers a live event; a watcher with too many unread events is failed. */
  push(event: WatchEvent): void {
    if (this.queue.length >= MAX_QUEUED_EVENTS) {
      this.queue.length = 0;
      this.fail(
        new StorageError(
          'Unavailable',
          `watch of ${this.describe()} fell more than ${MAX_QUEUED_EVENTS} events behind`,
        ),
      );
      return;
    }
    this.enqueue(event);
  }

  /** Ends the watch with an error the iterator throws after queued events are read. */
  fail(error: StorageError): void {
    if (this.ended) return;
    this.error = error;
    this.finish();
  }

  close(): void {
    if (this.ended) return;
    this.queue.length = 0;
    this.finish();
  }

  describe(): string {
    return this.namespace === undefined ? this.resource : `${this.resource} in namespace ${this.namespace}`;
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    return {
      next: () => this.next(),
      return: async () => {
        this.close();
        return { done: true, value: undefined };
      },
    };
  }

  private enqueue(event: WatchEvent): void {
    if (this.ended || event.revision <= this.lastRevision) return;
    this.lastRevision = event.revision;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter.resolve({ done: false, value: event });
    } else {
      this.queue.push(event);
    }
  }

  private next(): Promise<IteratorResult<WatchEvent>> {
    const event = this.queue.shift();
    if (event) return Promise.resolve({ done: false, value: event });
    if (this.ended) return this.error ? Promise.reject(this.error) : Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  private finish(): void {
    this.ended = true;
    this.onClose(this);
    const waiter = this.waiter;
    if (!waiter) return;
    this.waiter = undefined;
    if (this.error) waiter.reject(this.error);
    else waiter.resolve({ done: true, value: undefined });
  }
}

/** The watchers of one store: fan-out of committed events and shutdown. */
export class WatcherSet {
  private readonly channels = new Set<WatchChannel>();

  open(options: WatchOptions): WatchChannel {
    const channel = new WatchChannel(options, (c) => this.channels.delete(c));
    this.channels.add(channel);
    return channel;
  }

  publish(event: WatchEvent): void {
    for (const channel of this.channels) {
      if (channel.matches(event.key.resource, event.key.namespace)) channel.push(event);
    }
  }

  failAll(error: StorageError): void {
    for (const channel of [...this.channels]) channel.fail(error);
  }
}
