import type { KindDefinition } from '../../kind.ts';
import { ageColumn, column } from '../../columns.ts';
import { serviceAccountSchema } from './schema.ts';
import type { ServiceAccount } from './types.ts';

export const serviceAccountKind: KindDefinition = {
  builtIn: true,
  group: '',
  version: 'v1',
  kind: 'ServiceAccount',
  listKind: 'ServiceAccountList',
  plural: 'serviceaccounts',
  singular: 'serviceaccount',
  shortNames: ['sa'],
  categories: [],
  namespaced: true,
  statusSubresource: false,
  generation: false,
  schema: serviceAccountSchema,
  description: serviceAccountSchema.description!,
  printerColumns: [
    column('Secrets', 'Number of token Secrets.', (o) => (o as ServiceAccount).secrets?.length ?? 0, {
      type: 'integer',
    }),
    ageColumn(),
  ],
  strategy: {},
};

export type * from './types.ts';
