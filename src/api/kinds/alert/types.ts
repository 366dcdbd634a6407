import type { KubeObject } from '../../kind.ts';
import type { CommonStatus, LocalObjectReference } from '../../status.ts';

/** Which events an Alert sends: `info` sends every event, `error` only Warnings. */
export type EventSeverity = 'info' | 'error';

/** The objects whose events an Alert sends (Flux's CrossNamespaceObjectReference). */
export interface EventSource {
  kind: string;
  /** The object's name, or `*` for every object of the kind. */
  name: string;
  /** The Alert's namespace, the only one allowed (another namespace's Events are not its writer's to read). */
  namespace?: string;
  /** With name `*`: only objects carrying these labels. */
  matchLabels?: Record<string, string>;
}

export interface AlertSpec {
  providerRef: LocalObjectReference;
  eventSeverity: EventSeverity;
  eventSources: EventSource[];
  /** Regular expressions: when any is given, only events whose message matches one are sent. */
  inclusionList?: string[];
  /** Regular expressions: events whose message matches one are not sent. */
  exclusionList?: string[];
  /** Added to the metadata of every event sent; the event's own keys win. */
  eventMetadata?: Record<string, string>;
  /** Added to the metadata of every event sent as `summary`. */
  summary?: string;
  /** Sends nothing while true. */
  suspend: boolean;
}

export interface Alert extends KubeObject {
  spec: AlertSpec;
  status?: CommonStatus;
}
