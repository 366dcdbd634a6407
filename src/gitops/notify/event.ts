// A core Event as Flux's notification-controller forwards one (fluxcd/pkg/apis/event v1beta1): the
// JSON a generic webhook receives, and what every other format is made from. Warnings are of
// severity error, Normal events info; the event's metadata comes from its gatehouse.dev/ annotations.
import type { Event, ObjectReference } from '../../api/core/event/index.ts';
import { EVENT_METADATA_PREFIX } from '../../controller/runtime/index.ts';

export type Severity = 'info' | 'error';

export interface NotificationEvent {
  involvedObject: ObjectReference;
  severity: Severity;
  timestamp: string;
  message: string;
  reason: string;
  metadata?: Record<string, string>;
  reportingController: string;
  reportingInstance?: string;
}

export function notificationOf(event: Event): NotificationEvent {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(event.metadata.annotations ?? {})) {
    if (key.startsWith(EVENT_METADATA_PREFIX)) metadata[key.slice(EVENT_METADATA_PREFIX.length)] = value;
  }
  return {
    involvedObject: event.involvedObject,
    severity: event.type === 'Warning' ? 'error' : 'info',
    timestamp: event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? new Date().toISOString(),
    message: event.message ?? '',
    reason: event.reason ?? '',
    ...(Object.keys(metadata).length ? { metadata } : {}),
    reportingController: event.reportingComponent || event.source?.component || '',
    ...(event.reportingInstance ? { reportingInstance: event.reportingInstance } : {}),
  };
}

/** `kind/name.namespace`, as Flux names the object in chat messages. */
export function objectName(event: NotificationEvent): string {
  const { kind = '', name = '', namespace = '' } = event.involvedObject;
  return `${kind.toLowerCase()}/${name}.${namespace}`;
}
