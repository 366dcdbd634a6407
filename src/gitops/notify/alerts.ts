// Which events an Alert sends (Flux's semantics): an event of one of spec.eventSources (name `*`
// is every object of the kind, narrowed by matchLabels), of at least spec.eventSeverity, whose
// message matches an inclusionList expression when there are any and no exclusionList one.
import type { Alert } from '../../api/kinds/alert/index.ts';
import type { NotificationEvent } from './event.ts';

/** The labels of the object an event is about; undefined when it is gone. */
export type LabelsOf = (event: NotificationEvent) => Promise<Record<string, string> | undefined>;

export async function alertMatches(alert: Alert, event: NotificationEvent, labelsOf: LabelsOf): Promise<boolean> {
  const { spec } = alert;
  if (spec.eventSeverity === 'error' && event.severity !== 'error') return false;
  const involved = event.involvedObject;
  const alertNamespace = alert.metadata.namespace ?? 'default';
  const sources = spec.eventSources.filter(
    (s) =>
      s.kind === involved.kind &&
      (s.namespace ?? alertNamespace) === involved.namespace &&
      (s.name === '*' || s.name === involved.name),
  );
  if (!sources.length) return false;
  const include = spec.inclusionList ?? [];
  if (include.length && !include.some((p) => new RegExp(p).test(event.message))) return false;
  if ((spec.exclusionList ?? []).some((p) => new RegExp(p).test(event.message))) return false;
  if (sources.some((s) => !s.matchLabels)) return true;
  const labels = (await labelsOf(event)) ?? {};
  return sources.some((s) => Object.entries(s.matchLabels ?? {}).every(([k, v]) => labels[k] === v));
}

/** The event as `alert` sends it: its summary and eventMetadata added, the event's own metadata winning. */
export function asSentBy(alert: Alert, event: NotificationEvent): NotificationEvent {
  const { summary, eventMetadata } = alert.spec;
  if (!summary && !eventMetadata) return event;
  const metadata = { ...eventMetadata, ...(summary ? { summary } : {}), ...event.metadata };
  return { ...event, metadata };
}
