// The notification controller (Flux's notification-controller, inside Gatehouse's controller
// process): Provider and Alert readiness, kept current by watches on what they name, and the
// Notifier that sends the Events recorded while this replica leads.
import type { Event } from '../../api/core/event/index.ts';
import { eventKind } from '../../api/core/event/index.ts';
import type { Secret } from '../../api/core/secret/index.ts';
import { alertKind, type Alert } from '../../api/kinds/alert/index.ts';
import { providerKind, type Provider } from '../../api/kinds/provider/index.ts';
import type { KubeObject } from '../../api/kind.ts';
import { Informer } from '../../client/informer.ts';
import type { KubeClient } from '../../client/rest.ts';
import {
  Controller,
  generationChanged,
  type BackoffOptions,
  type RuntimeLogger,
} from '../../controller/runtime/index.ts';
import { ReadinessReconciler, type ReadinessRule } from '../controllers/readiness.ts';
import type { Redactor } from '../redact.ts';
import { appearedOrWent, indexBy, naming } from '../references.ts';
import type { RetryPolicy } from './deliver.ts';
import { Notifier } from './notifier.ts';
import { alertRule, providerRule } from './readiness-rules.ts';

export interface NotificationOptions {
  /** Retries of a failed delivery; default Flux's (4, from 2 s doubling up to 30 s). */
  retry?: RetryPolicy;
  /** Identical events within this window are sent once; default 5 minutes. */
  rateLimitWindowMs?: number;
}

export interface NotificationDeps extends NotificationOptions {
  client: KubeClient;
  logger: RuntimeLogger;
  redactor: Redactor;
  concurrency?: number;
  backoff?: BackoffOptions;
  /** The controller process's Secret cache; started and stopped by the caller. */
  secrets: Informer<Secret>;
  leading: () => boolean;
  onError: (kind: string) => (err: unknown) => void;
}

export interface Notifications {
  /** The informers made here, for the caller to start and stop with its own. */
  informers: Informer<KubeObject>[];
  controllers: Controller[];
  notifier: Notifier;
}

export function notificationControllers(deps: NotificationDeps): Notifications {
  const { client, secrets, onError } = deps;
  const providers = new Informer<Provider>(client, providerKind, { onError: onError('Provider') });
  const alerts = new Informer<Alert>(client, alertKind, { onError: onError('Alert') });
  const events = new Informer<Event>(client, eventKind, { onError: onError('Event') });
  const providersBySecret = indexBy(providers, (p) =>
    [p.spec.secretRef, p.spec.certSecretRef].filter((ref) => ref !== undefined),
  );
  const alertsByProvider = indexBy(alerts, (a) => [a.spec.providerRef]);

  const controller = <T extends KubeObject>(name: string, rule: ReadinessRule<T>) => {
    const { logger, concurrency, backoff } = deps;
    const reconciler = new ReadinessReconciler(client, rule);
    return new Controller({ name, reconciler, logger, concurrency, backoff }).watch(
      rule.cache,
      undefined,
      generationChanged,
    );
  };
  const controllers = [
    // A Secret's data is its content: every change may fix or break the address or token.
    controller('provider', providerRule(providers, secrets)).watch(secrets, naming(providersBySecret)),
    controller('alert', alertRule(alerts, providers)).watch(providers, naming(alertsByProvider), appearedOrWent),
  ];
  const notifier = new Notifier({ ...deps, events, alerts, providers });
  return { informers: [providers, alerts, events] as unknown as Informer<KubeObject>[], controllers, notifier };
}
