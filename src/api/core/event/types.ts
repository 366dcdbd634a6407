import type { KubeObject } from '../../kind.ts';

export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

export interface Event extends KubeObject {
  involvedObject: ObjectReference;
  reason?: string;
  message?: string;
  type: 'Normal' | 'Warning';
  count: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  source?: { component?: string; host?: string };
  reportingComponent?: string;
  reportingInstance?: string;
  action?: string;
  eventTime?: string;
  series?: EventSeries;
  related?: ObjectReference;
}

export interface EventSeries {
  count?: number;
  lastObservedTime?: string;
}
