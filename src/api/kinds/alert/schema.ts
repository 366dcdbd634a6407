import type { JSONSchema } from '../../kind.ts';
import {
  array,
  boolean,
  enumeration,
  localObjectReference,
  map,
  object,
  specAndStatus,
  statusSchema,
  string,
} from '../../schema/build.ts';

/** The kinds whose controllers record Events. */
export const EVENT_SOURCE_KINDS = ['GitRepository', 'Sync', 'ApiDefinition'];

export const alertSchema: JSONSchema = specAndStatus(
  'Alert sends the Events of the objects it names to a Provider (Flux Alert field names), filtered by severity ' +
    'and message.',
  object(
    'Which events are sent, and where.',
    {
      providerRef: localObjectReference("Provider in the alert's namespace the events are sent to."),
      eventSeverity: enumeration('info sends every event; error sends only Warnings.', ['info', 'error'], 'info'),
      eventSources: array(
        'The objects whose events are sent.',
        object(
          'Objects of one kind.',
          {
            kind: enumeration('Kind of the objects.', EVENT_SOURCE_KINDS),
            name: string('Name of the object, or * for every object of the kind.', { minLength: 1 }),
            namespace: string(
              "Namespace of the objects: only the alert's own is allowed (as Flux's --no-cross-namespace-refs).",
            ),
            matchLabels: map('With name *: only objects carrying these labels.'),
          },
          { required: ['kind', 'name'] },
        ),
        { minItems: 1, 'x-kubernetes-list-type': 'atomic' },
      ),
      inclusionList: array(
        'Regular expressions (ECMAScript): when any is given, only events whose message matches one are sent.',
        string('A regular expression.'),
        { 'x-kubernetes-list-type': 'atomic' },
      ),
      exclusionList: array(
        'Regular expressions (ECMAScript): events whose message matches one are not sent.',
        string('A regular expression.'),
        { 'x-kubernetes-list-type': 'atomic' },
      ),
      eventMetadata: map("Added to the metadata of every event sent; the event's own keys win."),
      summary: string('Added to the metadata of every event sent, as summary.'),
      suspend: boolean('Sends nothing while true.', false),
    },
    { required: ['providerRef', 'eventSources'] },
  ),
  statusSchema('Observed state of the alert.'),
);
