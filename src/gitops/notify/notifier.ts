// The notification controller's sending half: every Event recorded while this replica leads
// (a new one, or one the recorder counted again) is matched against the Alerts, and sent to each
// matching Alert's Provider. The events of the first list of the Event cache, and of a relist,
// are past: only what the watch reports is sent. Identical events within the rate limit window
// are sent once. Each Provider's notifications go out one after the other, in the order recorded,
// so a commit's success never overtakes its pending; a failure is logged and the next one goes.
import type { Event } from '../../api/core/event/index.ts';
import type { Secret } from '../../api/core/secret/index.ts';
import type { Alert } from '../../api/kinds/alert/index.ts';
import type { Provider } from '../../api/kinds/provider/index.ts';
import { parseDuration } from '../../api/duration.ts';
import type { KubeObject } from '../../api/kind.ts';
import { kindFor } from '../../api/kinds.ts';
import { isStatusError } from '../../client/errors.ts';
import type { Informer, InformerChange } from '../../client/informer.ts';
import type { KubeClient } from '../../client/rest.ts';
import type { RuntimeLogger } from '../../controller/runtime/index.ts';
import type { Redactor } from '../redact.ts';
import { alertMatches, asSentBy } from './alerts.ts';
import { deliver, DEFAULT_RETRY, DeliveryError, type RetryPolicy } from './deliver.ts';
import { notificationOf, type NotificationEvent } from './event.ts';
import { RecentEvents } from './recent.ts';
import { requestFor } from './request.ts';
import { readTarget } from './target.ts';

export interface NotifierDeps {
  client: KubeClient;
  events: Informer<Event>;
  alerts: Informer<Alert>;
  providers: Informer<Provider>;
  secrets: Informer<Secret>;
  redactor: Redactor;
  logger: RuntimeLogger;
  /** Whether this replica sends now (it leads). */
  leading: () => boolean;
  retry?: RetryPolicy;
  /** Identical events within this window are sent once; default 5 minutes (Flux's --rate-limit-interval). */
  rateLimitWindowMs?: number;
}

export class Notifier {
  private readonly recent: RecentEvents;
  /** The last delivery queued per Provider: one Provider's deliveries run in order. */
  private readonly tails = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();

  constructor(private readonly deps: NotifierDeps) {
    this.recent = new RecentEvents(deps.rateLimitWindowMs ?? 5 * 60_000);
    deps.events.onChange((change) => this.changed(change));
  }

  /** Settles when every delivery queued so far is done; waits between retries end at once. */
  async close(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.tails.values());
  }

  private changed(change: InformerChange<Event>): void {
    if (change.type !== 'ADDED' && change.type !== 'MODIFIED') return;
    if (change.type === 'MODIFIED' && (change.object.count ?? 1) <= (change.old?.count ?? 1)) return;
    if (!this.deps.leading()) return;
    const event = notificationOf(change.object);
    const { involvedObject: o, severity, reason, message, metadata } = event;
    const key = JSON.stringify([o.uid, o.kind, o.namespace, o.name, severity, reason, message, metadata ?? {}]);
    if (this.recent.seen(key)) return;
    void this.dispatch(event).catch((err) =>
      this.deps.logger.warn({ err: this.deps.redactor.redact(String(err)) }, 'notification not dispatched'),
    );
  }

  private async dispatch(event: NotificationEvent): Promise<void> {
    for (const alert of this.deps.alerts.items()) {
      if (alert.spec.suspend || !(await alertMatches(alert, event, (e) => this.labelsOf(e)))) continue;
      const namespace = alert.metadata.namespace ?? 'default';
      const provider = this.deps.providers.get(namespace, alert.spec.providerRef.name);
      if (!provider || provider.spec.suspend) continue;
      this.enqueue(alert, provider, asSentBy(alert, event));
    }
  }

  private enqueue(alert: Alert, provider: Provider, event: NotificationEvent): void {
    const key = `${provider.metadata.namespace}/${provider.metadata.name}`;
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.send(alert, provider, event));
    this.tails.set(key, next);
    void next.then(() => {
      if (this.tails.get(key) === next) this.tails.delete(key);
    });
  }

  private async send(alert: Alert, provider: Provider, event: NotificationEvent): Promise<void> {
    const { logger, redactor } = this.deps;
    const context = {
      alert: `${alert.metadata.namespace}/${alert.metadata.name}`,
      provider: `${provider.metadata.namespace}/${provider.metadata.name}`,
      reason: event.reason,
      object: `${event.involvedObject.kind}/${event.involvedObject.namespace}/${event.involvedObject.name}`,
    };
    // The Provider's Ready condition says what is wrong with it; here it is only skipped.
    const read = readTarget(provider, (namespace, name) => this.deps.secrets.get(namespace, name));
    if (!read.ok) {
      logger.warn({ ...context, problems: read.problems.map((p) => p.message) }, 'notification not sent');
      return;
    }
    for (const value of read.secrets) redactor.remember(value);
    const request = requestFor(read.target, event);
    if (!request) return;
    try {
      const attempts = await deliver(request, {
        timeoutMs: parseDuration(read.target.timeout),
        retry: this.deps.retry ?? DEFAULT_RETRY,
        ca: read.target.ca,
        signal: this.abort.signal,
      });
      logger.info({ ...context, attempts }, 'notification sent');
    } catch (err) {
      const code = err instanceof DeliveryError ? err.code : 'NOTIFICATION_UNDELIVERED';
      logger.warn({ ...context, code, err: redactor.redact((err as Error).message) }, 'notification not sent');
    }
  }

  /** The labels of the object an event is about, from the server: Alerts with matchLabels are few. */
  private async labelsOf(event: NotificationEvent): Promise<Record<string, string> | undefined> {
    const { apiVersion, kind, name, namespace } = event.involvedObject;
    const def = apiVersion && kind ? kindFor(apiVersion, kind) : undefined;
    if (!def || !name) return undefined;
    try {
      return (await this.deps.client.get<KubeObject>(def, name, namespace)).metadata.labels ?? {};
    } catch (err) {
      if (isStatusError(err, 'NotFound')) return undefined;
      throw err;
    }
  }
}
