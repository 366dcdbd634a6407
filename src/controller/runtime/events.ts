// Records core v1 Events about objects, the way client-go's recorder and correlator do:
// an event identical to one recorded within `windowMs` (same object, type, reason and
// message) bumps that event's count and lastTimestamp instead of creating another, so a
// reconcile that fails the same way every few seconds leaves one Event with a count.
// Recording never throws into the caller: failures are logged. record() returns a promise
// that settles when the event is written, which callers await only when they must.
// Messages pass through `redact` before they are compared or stored. Annotations carry an
// event's metadata (the revision it is about) as Flux's recorder does: `gatehouse.dev/KEY`,
// read by the notification controller as metadata KEY.
import type { KubeObject } from '../../api/kind.ts';
import { eventKind, type Event } from '../../api/core/event/index.ts';
import { isStatusError } from '../../client/errors.ts';
import type { KubeClient } from '../../client/rest.ts';
import { timestamp } from './time.ts';
import type { RuntimeLogger } from './logger.ts';

export type EventType = 'Normal' | 'Warning';

/** The prefix of the annotations that carry an event's metadata. */
export const EVENT_METADATA_PREFIX = 'gatehouse.dev/';
/** The revision (`main@sha1:…`) an event is about: a notification sets that commit's status. */
export const REVISION_ANNOTATION = `${EVENT_METADATA_PREFIX}revision`;

export interface EventRecorderOptions {
  /** Scrubs secrets from a message before it is stored. Default: unchanged. */
  redact?: (message: string) => string;
  /** How long an event stays open for aggregation after it was last seen. Default 10 min. */
  windowMs?: number;
  /** Distinct events remembered for aggregation, least recently seen dropped first.
   * Default 4096 (client-go's). */
  cacheSize?: number;
  /** reportingInstance of the events, e.g. the host or pod name. */
  instance?: string;
}

/** Longer messages are cut: an event is a notice, the object's status holds the detail. */
const MAX_MESSAGE_LENGTH = 1024;

interface Seen {
  name: string;
  namespace: string;
  count: number;
  lastSeenMs: number;
}

export class EventRecorder {
  private readonly redact: (message: string) => string;
  private readonly windowMs: number;
  private readonly cacheSize: number;
  private readonly instance: string | undefined;
  /** Events recorded recently, by identity; Map order is least recently seen first. */
  private readonly seen = new Map<string, Seen>();
  /** The last write queued per identity: writes of one identity run in order. */
  private readonly tails = new Map<string, Promise<void>>();
  private sequence = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly component: string,
    private readonly logger: RuntimeLogger,
    options: EventRecorderOptions = {},
  ) {
    this.redact = options.redact ?? ((message) => message);
    this.windowMs = options.windowMs ?? 10 * 60_000;
    this.cacheSize = options.cacheSize ?? 4096;
    this.instance = options.instance;
  }

  record(
    obj: KubeObject,
    type: EventType,
    reason: string,
    message: string,
    annotations?: Record<string, string>,
  ): Promise<void> {
    let text: string;
    try {
      text = this.redact(message).slice(0, MAX_MESSAGE_LENGTH);
    } catch (err) {
      // An event must never carry what the redactor failed to scrub.
      this.logger.warn({ component: this.component, reason, err }, 'event not recorded: redact failed');
      return Promise.resolve();
    }
    const meta = obj.metadata;
    const identity = JSON.stringify([
      meta.uid ?? '',
      obj.apiVersion,
      obj.kind,
      meta.namespace ?? '',
      meta.name ?? '',
      type,
      reason,
      text,
      annotations ?? {},
    ]);
    const previous = this.tails.get(identity) ?? Promise.resolve();
    const next = previous.then(() => this.write(identity, obj, type, reason, text, annotations));
    this.tails.set(identity, next);
    void next.then(() => {
      if (this.tails.get(identity) === next) this.tails.delete(identity);
    });
    return next;
  }

  /** Settles when every event recorded so far is written (or its failure logged). */
  async flush(): Promise<void> {
    await Promise.all(this.tails.values());
  }

  private async write(
    identity: string,
    obj: KubeObject,
    type: EventType,
    reason: string,
    message: string,
    annotations: Record<string, string> | undefined,
  ): Promise<void> {
    const now = new Date();
    try {
      const seen = this.seen.get(identity);
      if (seen && now.getTime() - seen.lastSeenMs < this.windowMs && (await this.bump(seen, now))) {
        this.remember(identity, seen);
        return;
      }
      const created = await this.client.create<Event>(
        eventKind,
        this.event(obj, type, reason, message, now, annotations),
      );
      this.remember(identity, {
        name: created.metadata.name!,
        namespace: created.metadata.namespace!,
        count: 1,
        lastSeenMs: now.getTime(),
      });
    } catch (err) {
      this.logger.warn(
        {
          component: this.component,
          object: `${obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`,
          reason,
          err,
        },
        'event not recorded',
      );
    }
  }

  /** Counts one more occurrence on the stored event; false when it is gone (expired or
   * deleted), so a new one is created. */
  private async bump(seen: Seen, now: Date): Promise<boolean> {
    try {
      await this.client.patch<Event>(
        eventKind,
        seen.name,
        { count: seen.count + 1, lastTimestamp: timestamp(now) },
        'merge',
        seen.namespace,
      );
    } catch (err) {
      if (isStatusError(err, 'NotFound')) return false;
      throw err;
    }
    seen.count++;
    seen.lastSeenMs = now.getTime();
    return true;
  }

  private remember(identity: string, seen: Seen): void {
    this.seen.delete(identity);
    this.seen.set(identity, seen);
    if (this.seen.size > this.cacheSize) this.seen.delete(this.seen.keys().next().value!);
  }

  private event(
    obj: KubeObject,
    type: EventType,
    reason: string,
    message: string,
    now: Date,
    annotations: Record<string, string> | undefined,
  ): Event {
    const meta = obj.metadata;
    const at = timestamp(now);
    // client-go's naming: the object's name and the time in hex nanoseconds; the sequence
    // keeps two events of one millisecond apart.
    const suffix = (BigInt(now.getTime()) * 1_000_000n + BigInt(this.sequence++ % 1_000_000)).toString(16);
    return {
      apiVersion: 'v1',
      kind: 'Event',
      // Events about cluster-scoped objects go to "default", as client-go puts them.
      metadata: {
        name: `${meta.name}.${suffix}`,
        namespace: meta.namespace || 'default',
        ...(annotations ? { annotations } : {}),
      },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: meta.name,
        namespace: meta.namespace,
        uid: meta.uid,
        resourceVersion: meta.resourceVersion,
      },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: at,
      lastTimestamp: at,
      source: { component: this.component },
      reportingComponent: this.component,
      ...(this.instance ? { reportingInstance: this.instance } : {}),
    };
  }
}
