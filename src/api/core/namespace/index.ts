import type { KindDefinition, KubeObject } from '../../kind.ts';
import { ageColumn, column } from '../../columns.ts';
import { namespaceSchema } from './schema.ts';
import type { Namespace } from './types.ts';

export const namespaceKind: KindDefinition = {
  builtIn: true,
  group: '',
  version: 'v1',
  kind: 'Namespace',
  listKind: 'NamespaceList',
  plural: 'namespaces',
  singular: 'namespace',
  shortNames: ['ns'],
  categories: [],
  namespaced: false,
  statusSubresource: true,
  generation: false,
  schema: namespaceSchema,
  description: namespaceSchema.description!,
  printerColumns: [column('Status', 'Lifecycle phase.', (o) => (o as Namespace).status?.phase ?? ''), ageColumn()],
  selectableFields: ['status.phase'],
  strategy: {
    /** A new namespace is Active whatever the client sent; Terminating is the server's to set. */
    prepareForCreate(obj: KubeObject): undefined {
      obj.status = { phase: 'Active' };
    },
  },
};

export type * from './types.ts';
