import type { JSONSchema } from '../../kind.ts';
import { boolean, map, object, string } from '../../schema/build.ts';

export const secretSchema: JSONSchema = object('Secret holds sensitive data such as Git credentials and passwords.', {
  data: map(
    'Values, base64-encoded. Keys consist of alphanumerics, "-", "_" or ".".',
    string('Base64 value.', { format: 'byte' }),
  ),
  stringData: map('Plaintext values, write-only: merged into data on write (overriding it) and never returned.'),
  type: string('Used to facilitate programmatic handling of secret data.', { default: 'Opaque' }),
  immutable: boolean('When true, data and type can no longer change.'),
});
