import type { JSONSchema } from '../../kind.ts';
import { DNS1123_SUBDOMAIN_PATTERN, array, dateTime, object, specAndStatus, statusSchema, string } from '../../schema/build.ts';

export const apiKeySchema: JSONSchema = specAndStatus(
  'ApiKey is a credential of a Consumer. The server mints the key on create, returns it once in status.key of the create response and stores only its SHA-256 hash.',
  object(
    'Desired state of the key. hash and prefix are set by the server; values sent by clients are replaced.',
    {
      consumer: string('Name of the Consumer, in the same namespace, the key authenticates as. Immutable.', { pattern: DNS1123_SUBDOMAIN_PATTERN }),
      policies: array(
        "SecurityPolicy names applied instead of the consumer's policies; absent uses the consumer's.",
        string('SecurityPolicy name.', { pattern: DNS1123_SUBDOMAIN_PATTERN }),
        { 'x-kubernetes-list-type': 'set' },
      ),
      expires: dateTime('Time after which the key is refused (RFC 3339); absent never expires.'),
      hash: string('Set by the server: "sha256:" and the hex SHA-256 digest of the key.'),
      prefix: string('Set by the server: the first characters of the key, which identify it without revealing it.'),
    },
    { required: ['consumer'] },
  ),
  statusSchema('Observed state of the key.'),
);
