import type { KindDefinition } from '../../kind.ts';
import { ageColumn, column, readyColumn, statusMessageColumn } from '../../columns.ts';
import { receiverSchema } from './schema.ts';
import { receiverPath, type Receiver } from './types.ts';

export const receiverKind: KindDefinition = {
  group: 'gatehouse.dev',
  version: 'v1alpha1',
  kind: 'Receiver',
  listKind: 'ReceiverList',
  plural: 'receivers',
  singular: 'receiver',
  shortNames: ['rcv'],
  categories: ['gatehouse'],
  namespaced: true,
  statusSubresource: true,
  generation: true,
  schema: receiverSchema,
  description: receiverSchema.description!,
  printerColumns: [
    column('Type', 'How calls are authenticated.', (o) => (o as Receiver).spec.type),
    column('Path', 'Hook path on the controller.', (o) =>
      receiverPath(o.metadata.namespace ?? '', o.metadata.name ?? ''),
    ),
    readyColumn(),
    statusMessageColumn(),
    ageColumn(),
  ],
  strategy: {},
};

export type * from './types.ts';
export { receiverPath } from './types.ts';
