import type { KindDefinition, KubeObject } from '../../kind.ts';
import { column } from '../../columns.ts';
import { eventSchema } from './schema.ts';
import type { Event } from './types.ts';

const event = (obj: KubeObject) => obj as Event;

export const eventKind: KindDefinition = {
  builtIn: true,
  group: '',
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
  schema: eventSchema,
  description: eventSchema.description!,
  // kubectl's columns for events; Last Seen is a date the server renders as an age.
  printerColumns: [
    column(
      'Last Seen',
      'When the event was last recorded.',
      (o) => event(o).lastTimestamp ?? o.metadata.creationTimestamp ?? null,
      { type: 'date' },
    ),
    column('Type', 'Normal or Warning.', (o) => event(o).type ?? 'Normal'),
    column('Reason', 'Reason of the event.', (o) => event(o).reason ?? ''),
    column('Object', 'Kind/name of the object.', (o) =>
      `${event(o).involvedObject?.kind ?? ''}/${event(o).involvedObject?.name ?? ''}`.toLowerCase(),
    ),
    column('Message', 'Description.', (o) => event(o).message ?? ''),
  ],
  // kube-apiserver's Event field selectors (pkg/registry/core/event ToSelectableFields).
  selectableFields: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    { label: 'source', paths: ['source.component', 'reportingComponent'] },
    'type',
  ],
  strategy: {},
};

export type * from './types.ts';
