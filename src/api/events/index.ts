// events.k8s.io/v1 Event: the newer shape of the core v1 Event, served, as kube-apiserver serves it, from
// the core Events' storage, so an Event written in either API version is read in both. The conversion is
// kube's (k8s.io/kubernetes pkg/apis/events/v1 conversion.go): regarding ↔ involvedObject, note ↔ message,
// reportingController ↔ reportingComponent, deprecatedSource ↔ source, deprecatedFirstTimestamp,
// deprecatedLastTimestamp and deprecatedCount ↔ firstTimestamp, lastTimestamp and count; the other fields
// are the same in both.
import { column } from '../columns.ts';
import { eventKind } from '../core/event/index.ts';
import { eventSeries, objectReference } from '../core/event/schema.ts';
import type { KindDefinition, KubeObject } from '../kind.ts';
import { dateTime, integer, object, string } from '../schema/build.ts';
import type { EventsV1Event } from './types.ts';

const schema = object(
  'Event reports something that happened to an object (events.k8s.io/v1 Event, stored as a core v1 Event).',
  {
    eventTime: dateTime('When the event was first observed, in microseconds.'),
    series: eventSeries,
    reportingController: string('Controller that emitted the event, e.g. gatehouse.dev/sync-controller.'),
    reportingInstance: string('Instance of the controller.'),
    action: string('What was done or failed.'),
    reason: string('Why the action was taken.'),
    regarding: objectReference('The object this event is about.'),
    related: objectReference('A second object the event is about.'),
    note: string('Human readable description.'),
    type: string('Normal or Warning.'),
    deprecatedSource: object('The core v1 Event source.', {
      component: string('Component name.'),
      host: string('Node or host name.'),
    }),
    deprecatedFirstTimestamp: dateTime('The core v1 Event firstTimestamp.'),
    deprecatedLastTimestamp: dateTime('The core v1 Event lastTimestamp.'),
    deprecatedCount: integer('The core v1 Event count.'),
  },
);

/** events.k8s.io field → core field, for the fields whose names differ. */
const RENAMED: Array<[string, string]> = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

/** `obj` with its apiVersion and kind replaced and each field of `pairs` moved from its first name to its second. */
function renamed(obj: KubeObject, apiVersion: string, pairs: Array<[string, string]>): KubeObject {
  const out: Record<string, unknown> = { ...obj, apiVersion, kind: 'Event' };
  for (const [from, to] of pairs) {
    delete out[from];
    if (obj[from] !== undefined) out[to] = obj[from];
  }
  return out as KubeObject;
}

const toCore = (obj: KubeObject): KubeObject => {
  const core = renamed(obj, 'v1', RENAMED);
  // The core Event requires involvedObject; kube converts an absent regarding to an empty reference.
  core.involvedObject ??= {};
  return core;
};
const fromCore = (obj: KubeObject): KubeObject =>
  renamed(
    obj,
    'events.k8s.io/v1',
    RENAMED.map(([v1, core]) => [core, v1]),
  );

const event = (obj: KubeObject) => obj as EventsV1Event;

export const eventsV1EventKind: KindDefinition = {
  builtIn: true,
  group: 'events.k8s.io',
  version: 'v1',
  kind: 'Event',
  listKind: 'EventList',
  plural: 'events',
  singular: 'event',
  shortNames: ['ev'],
  categories: [],
  namespaced: true,
  statusSubresource: false,
  generation: false,
  schema,
  description: schema.description!,
  // kube prints both Event versions with the same columns.
  printerColumns: [
    column(
      'Last Seen',
      'When the event was last observed.',
      (o) =>
        event(o).deprecatedLastTimestamp ??
        event(o).series?.lastObservedTime ??
        event(o).eventTime ??
        o.metadata.creationTimestamp ??
        null,
      { type: 'date' },
    ),
    column('Type', 'Normal or Warning.', (o) => event(o).type ?? ''),
    column('Reason', 'Reason of the event.', (o) => event(o).reason ?? ''),
    column('Object', 'Kind/name of the object.', (o) =>
      `${event(o).regarding?.kind ?? ''}/${event(o).regarding?.name ?? ''}`.toLowerCase(),
    ),
    column('Message', 'Description.', (o) => event(o).note ?? ''),
  ],
  storedAs: {
    kind: eventKind,
    toStored: toCore,
    fromStored: fromCore,
    // kube's field label conversion for events.k8s.io/v1 (pkg/apis/events/v1 AddFieldLabelConversionsForEvent).
    fieldLabels: {
      'regarding.kind': 'involvedObject.kind',
      'regarding.namespace': 'involvedObject.namespace',
      'regarding.name': 'involvedObject.name',
      'regarding.uid': 'involvedObject.uid',
      'regarding.apiVersion': 'involvedObject.apiVersion',
      'regarding.resourceVersion': 'involvedObject.resourceVersion',
      'regarding.fieldPath': 'involvedObject.fieldPath',
      reportingController: 'reportingComponent',
      reason: 'reason',
      source: 'source',
      type: 'type',
    },
  },
  strategy: {},
};

export type * from './types.ts';
