import type { FieldError, KindDefinition, KubeObject } from '../../kind.ts';
import { ageColumn, column } from '../../columns.ts';
import { invalid } from '../../schema/object-meta.ts';
import { isPlainObject } from '../../schema/walk.ts';
import { dataKeyErrors, immutableErrors } from '../data-keys.ts';
import { secretSchema } from './schema.ts';
import type { Secret } from './types.ts';

/** stringData is write-only (as in Kubernetes): its entries are base64-encoded into data,
 * winning over data entries of the same key, and the field is dropped before storage. */
function foldStringData(obj: KubeObject): undefined {
  const secret = obj as Secret;
  // Anything but a map, or data that is not one, is left for validation to report.
  if (!isPlainObject(secret.stringData) || (secret.data !== undefined && !isPlainObject(secret.data))) return;
  const data = { ...secret.data };
  for (const [key, value] of Object.entries(secret.stringData)) {
    // Left for validation to reject when not a string.
    data[key] = typeof value === 'string' ? Buffer.from(value, 'utf8').toString('base64') : value;
  }
  secret.data = data;
  delete secret.stringData;
}

function validate(obj: KubeObject): FieldError[] {
  return dataKeyErrors('data', Object.keys((obj as Secret).data ?? {}));
}

function validateUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errors = immutableErrors(obj, old, ['data']);
  if ((obj as Secret).type !== (old as Secret).type)
    errors.push(invalid('type', (obj as Secret).type, 'field is immutable'));
  return errors;
}

export const secretKind: KindDefinition = {
  builtIn: true,
  group: '',
  version: 'v1',
  kind: 'Secret',
  listKind: 'SecretList',
  plural: 'secrets',
  singular: 'secret',
  shortNames: [],
  categories: [],
  namespaced: true,
  statusSubresource: false,
  generation: false,
  schema: secretSchema,
  description: secretSchema.description!,
  printerColumns: [
    column('Type', 'Secret type.', (o) => (o as Secret).type ?? 'Opaque'),
    column('Data', 'Number of keys.', (o) => Object.keys((o as Secret).data ?? {}).length, { type: 'integer' }),
    ageColumn(),
  ],
  selectableFields: ['type'],
  strategy: {
    prepareForCreate: foldStringData,
    prepareForUpdate: foldStringData,
    validate,
    validateUpdate,
  },
};

export type * from './types.ts';
