import type { KindDefinition } from '../../kind.ts';
import { ageColumn, column } from '../../columns.ts';
import { subresourceRequestSchema } from './schema.ts';
import type { SubresourceRequest } from './types.ts';

const spec = (o: unknown) => (o as SubresourceRequest).spec;
const claimedBy = (o: unknown) => (o as SubresourceRequest).status?.claimedBy ?? '';
const target = (o: unknown) => `${spec(o).target.resource}/${spec(o).target.name}/${spec(o).subresource}`;

export const subresourceRequestKind: KindDefinition = {
  group: 'gatehouse.dev',
  version: 'v1alpha1',
  kind: 'SubresourceRequest',
  listKind: 'SubresourceRequestList',
  plural: 'subresourcerequests',
  singular: 'subresourcerequest',
  shortNames: ['subreq'],
  categories: ['gatehouse'],
  namespaced: true,
  statusSubresource: true,
  generation: true,
  schema: subresourceRequestSchema,
  description: subresourceRequestSchema.description!,
  printerColumns: [
    column('Target', 'resource/name/subresource called.', target),
    column('Responder', 'The component that answers.', (o) => spec(o).responder),
    column('Claimed By', 'The component instance that took it.', claimedBy),
    ageColumn(),
  ],
  strategy: {},
};

export type * from './types.ts';
export { RESPONDER_LABEL } from './types.ts';
