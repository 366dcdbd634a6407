import type { KindDefinition, KubeObject } from '../../kind.ts';
import { ageColumn, column, readyColumn } from '../../columns.ts';
import { consumerSchema } from './schema.ts';
import type { Consumer } from './types.ts';

const spec = (obj: KubeObject) => (obj as Consumer).spec;

export const consumerKind: KindDefinition = {
  group: 'gatehouse.dev',
  version: 'v1alpha1',
  kind: 'Consumer',
  listKind: 'ConsumerList',
  plural: 'consumers',
  singular: 'consumer',
  shortNames: ['consumer'],
  categories: ['gatehouse'],
  namespaced: true,
  statusSubresource: true,
  generation: true,
  schema: consumerSchema,
  description: consumerSchema.description!,
  printerColumns: [
    column('Policies', 'SecurityPolicies held.', (o) => (spec(o).policies ?? []).join(',')),
    readyColumn(),
    ageColumn(),
    column('Description', 'Free text for people.', (o) => spec(o).description ?? '', { wide: true }),
  ],
  strategy: {},
};

export type * from './types.ts';
