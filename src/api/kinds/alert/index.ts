import type { FieldError, KindDefinition, KubeObject } from '../../kind.ts';
import { ageColumn, column, readyColumn, statusMessageColumn } from '../../columns.ts';
import { invalid } from '../../schema/object-meta.ts';
import { alertSchema } from './schema.ts';
import type { Alert } from './types.ts';

function validate(obj: KubeObject): FieldError[] {
  const { spec } = obj as Alert;
  const errors: FieldError[] = [];
  for (const field of ['inclusionList', 'exclusionList'] as const) {
    for (const [i, pattern] of (spec[field] ?? []).entries()) {
      try {
        new RegExp(pattern);
      } catch (err) {
        errors.push(invalid(`spec.${field}[${i}]`, pattern, (err as Error).message));
      }
    }
  }
  const namespace = obj.metadata.namespace;
  for (const [i, source] of spec.eventSources.entries()) {
    // As Flux: labels select among many objects, a name picks one.
    if (source.matchLabels && source.name !== '*')
      errors.push(invalid(`spec.eventSources[${i}].name`, source.name, 'must be * when matchLabels is set'));
    // As Flux with --no-cross-namespace-refs: whoever may write an Alert in one namespace must not be able to
    // send another namespace's Events (messages name objects, revisions and failures) to a receiver of theirs.
    if (source.namespace !== undefined && namespace !== undefined && source.namespace !== namespace)
      errors.push(
        invalid(`spec.eventSources[${i}].namespace`, source.namespace, `must be the alert's namespace (${namespace})`),
      );
  }
  return errors;
}

export const alertKind: KindDefinition = {
  group: 'gatehouse.dev',
  version: 'v1alpha1',
  kind: 'Alert',
  listKind: 'AlertList',
  plural: 'alerts',
  singular: 'alert',
  shortNames: [],
  categories: ['gatehouse'],
  namespaced: true,
  statusSubresource: true,
  generation: true,
  schema: alertSchema,
  description: alertSchema.description!,
  printerColumns: [
    column('Provider', 'Provider the events are sent to.', (o) => (o as Alert).spec.providerRef.name),
    column('Severity', 'Least severity sent.', (o) => (o as Alert).spec.eventSeverity),
    readyColumn(),
    statusMessageColumn(),
    ageColumn(),
  ],
  strategy: { validate },
};

export type * from './types.ts';
export { EVENT_SOURCE_KINDS } from './schema.ts';
