import type { KindDefinition } from '../../kind.ts';
import { ageColumn, column } from '../../columns.ts';
import { leaseSchema } from './schema.ts';
import type { Lease } from './types.ts';

export const leaseKind: KindDefinition = {
  builtIn: true,
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  listKind: 'LeaseList',
  plural: 'leases',
  singular: 'lease',
  shortNames: [],
  categories: [],
  namespaced: true,
  statusSubresource: false,
  generation: false,
  schema: leaseSchema,
  description: leaseSchema.description!,
  printerColumns: [column('Holder', 'Current holder.', (o) => (o as Lease).spec?.holderIdentity ?? ''), ageColumn()],
  strategy: {},
};

export type * from './types.ts';
