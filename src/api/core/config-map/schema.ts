import type { JSONSchema } from '../../kind.ts';
import { boolean, map, object, string } from '../../schema/build.ts';

export const configMapSchema: JSONSchema = object('ConfigMap holds non-confidential configuration data.', {
  data: map('UTF-8 values. Keys consist of alphanumerics, "-", "_" or "."; a key may not also be in binaryData.'),
  binaryData: map('Binary values, base64-encoded.', string('Base64 value.', { format: 'byte' })),
  immutable: boolean('When true, data and binaryData can no longer change.'),
});
