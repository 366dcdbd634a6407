import type { JSONSchema } from '../../kind.ts';
import { dateTime, enumeration, integer, object, string } from '../../schema/build.ts';

/** core/v1 ObjectReference. */
export function objectReference(description: string): JSONSchema {
  return object(description, {
    apiVersion: string('API version of the object.'),
    kind: string('Kind of the object.'),
    namespace: string('Namespace of the object.'),
    name: string('Name of the object.'),
    uid: string('UID of the object.'),
    resourceVersion: string('resourceVersion of the object when the event happened.'),
    fieldPath: string('Part of the object the event is about.'),
  });
}

/** core/v1 EventSeries: an event recurring, counted by its reporter. */
export const eventSeries: JSONSchema = object('A series of this event, when it recurs.', {
  count: integer('How many times the event occurred in the series.'),
  lastObservedTime: dateTime('When the last event of the series was observed.'),
});

export const eventSchema: JSONSchema = object(
  'Event reports something that happened to an object (core/v1 Event).',
  {
    involvedObject: objectReference('The object this event is about.'),
    reason: string('Short CamelCase reason for the transition, e.g. ReconciliationSucceeded.'),
    message: string('Human readable description.'),
    type: enumeration('Normal or Warning.', ['Normal', 'Warning'], 'Normal'),
    count: integer('How many times the event occurred.', { minimum: 1, default: 1 }),
    firstTimestamp: dateTime('When the event was first recorded.'),
    lastTimestamp: dateTime('When the event was last recorded.'),
    source: object('Component reporting the event (deprecated in favour of reportingComponent).', {
      component: string('Component name.'),
      host: string('Node or host name.'),
    }),
    reportingComponent: string('Controller that emitted the event, e.g. gatehouse.dev/sync-controller.'),
    reportingInstance: string('Instance of the controller.'),
    action: string('What was done or failed.'),
    eventTime: dateTime('When the event was first observed, in microseconds.'),
    series: eventSeries,
    related: objectReference('A second object the event is about.'),
  },
  { required: ['involvedObject'] },
);
