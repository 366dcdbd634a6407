import type { FieldError, KindDefinition, KubeObject } from '../../kind.ts';
import { ageColumn, column } from '../../columns.ts';
import { dataKeyErrors, immutableErrors } from '../data-keys.ts';
import { configMapSchema } from './schema.ts';
import type { ConfigMap } from './types.ts';

function validate(obj: KubeObject): FieldError[] {
  const { data = {}, binaryData = {} } = obj as ConfigMap;
  const errors = [...dataKeyErrors('data', Object.keys(data)), ...dataKeyErrors('binaryData', Object.keys(binaryData))];
  for (const key of Object.keys(binaryData)) {
    if (Object.hasOwn(data, key))
      errors.push({
        type: 'FieldValueDuplicate',
        field: 'binaryData',
        message: `Duplicate value: ${JSON.stringify(key)}`,
      });
  }
  return errors;
}

export const configMapKind: KindDefinition = {
  builtIn: true,
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  listKind: 'ConfigMapList',
  plural: 'configmaps',
  singular: 'configmap',
  shortNames: ['cm'],
  categories: [],
  namespaced: true,
  statusSubresource: false,
  generation: false,
  schema: configMapSchema,
  description: configMapSchema.description!,
  printerColumns: [
    column(
      'Data',
      'Number of keys.',
      (o) => Object.keys((o as ConfigMap).data ?? {}).length + Object.keys((o as ConfigMap).binaryData ?? {}).length,
      { type: 'integer' },
    ),
    ageColumn(),
  ],
  strategy: {
    validate,
    validateUpdate: (obj, old) => immutableErrors(obj, old, ['data', 'binaryData']),
  },
};

export type * from './types.ts';
