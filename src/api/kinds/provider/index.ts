import type { FieldError, KindDefinition, KubeObject } from '../../kind.ts';
import { httpUrl, positiveDuration } from '../../checks.ts';
import { ageColumn, column, readyColumn, statusMessageColumn } from '../../columns.ts';
import { providerSchema } from './schema.ts';
import type { Provider } from './types.ts';

function validate(obj: KubeObject): FieldError[] {
  const { spec } = obj as Provider;
  return [
    ...positiveDuration('spec.timeout', spec.timeout),
    ...(spec.address === undefined ? [] : httpUrl('spec.address', spec.address)),
  ];
}

export const providerKind: KindDefinition = {
  group: 'gatehouse.dev',
  version: 'v1alpha1',
  kind: 'Provider',
  listKind: 'ProviderList',
  plural: 'providers',
  singular: 'provider',
  shortNames: [],
  categories: ['gatehouse'],
  namespaced: true,
  statusSubresource: true,
  generation: true,
  schema: providerSchema,
  description: providerSchema.description!,
  printerColumns: [
    column('Type', 'How notifications are encoded.', (o) => (o as Provider).spec.type),
    readyColumn(),
    statusMessageColumn(),
    ageColumn(),
  ],
  strategy: { validate },
};

export type * from './types.ts';
