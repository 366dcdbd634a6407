// A work queue of string keys with client-go workqueue semantics:
// - a key added several times before a worker takes it is handed out once (dedupe);
// - a key is never held by two workers at once: added while being processed, it is marked
//   dirty and handed out again after done(key);
// - addAfter(key, ms) delays an add; of several pending delays for one key the earliest wins;
// - addRateLimited(key) delays by the key's exponential backoff; forget(key) resets it;
// - shutDown() stops handing out keys, drops queued and delayed ones (a level-triggered
//   controller lists everything again when it restarts) and resolves when every key handed
//   out has been marked done.
// Delay timers are unref'd: a pending retry alone does not keep the process alive.
import { ItemBackoff, type BackoffOptions } from './backoff.ts';

interface Delayed {
  at: number;
  timer: NodeJS.Timeout;
}

export class WorkQueue {
  /** Keys ready to be handed out, in the order they became ready. */
  private readonly queue = new Set<string>();
  private readonly processing = new Set<string>();
  /** Keys added while being processed. */
  private readonly dirty = new Set<string>();
  private readonly delayed = new Map<string, Delayed>();
  private readonly waiters: Array<(key: string | undefined) => void> = [];
  private readonly backoff: ItemBackoff;
  private readonly idleWaiters: Array<() => void> = [];
  private shuttingDown = false;

  constructor(backoff: BackoffOptions = {}) {
    this.backoff = new ItemBackoff(backoff);
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.queue.add(key);
    this.dispatch();
  }

  /** Adds `key` after `ms`; an earlier pending deadline for the key is kept. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.delayed.set(key, { at, timer });
  }

  /** Adds `key` after its next backoff delay; returns that delay. */
  addRateLimited(key: string): number {
    const delay = this.backoff.next(key);
    this.addAfter(key, delay);
    return delay;
  }

  /** Resets the backoff of `key` (after it succeeded or will never be retried). */
  forget(key: string): void {
    this.backoff.forget(key);
  }

  /** Failures of `key` since it was last forgotten. */
  failures(key: string): number {
    return this.backoff.failures(key);
  }

  /** The next key to process, once one is ready; undefined after shutDown(). The caller
   * must call done(key) when it has finished with it. */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.take();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.delete(key)) this.add(key);
    if (this.processing.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Keys ready to be handed out. */
  get length(): number {
    return this.queue.size;
  }

  /** Keys handed out and not yet done. */
  get inFlight(): number {
    return this.processing.size;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  shutDown(): Promise<void> {
    if (!this.shuttingDown) {
      this.shuttingDown = true;
      for (const { timer } of this.delayed.values()) clearTimeout(timer);
      this.delayed.clear();
      this.queue.clear();
      this.dirty.clear();
      for (const waiter of this.waiters.splice(0)) waiter(undefined);
    }
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private take(): string | undefined {
    const first = this.queue.values().next();
    if (first.done) return undefined;
    this.queue.delete(first.value);
    this.processing.add(first.value);
    return first.value;
  }

  private dispatch(): void {
    while (this.waiters.length > 0) {
      const key = this.take();
      if (key === undefined) return;
      this.waiters.shift()!(key);
    }
  }
}
