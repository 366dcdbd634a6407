import type { JSONSchema } from '../../kind.ts';
import {
  DNS1123_SUBDOMAIN_PATTERN,
  array,
  dateTime,
  object,
  specAndStatus,
  statusSchema,
  string,
} from '../../schema/build.ts';

export const apiKeySchema: JSONSchema = specAndStatus(
  'ApiKey is a credential of a Consumer. The server mints the key on create, returns it once in status.key of the create response and stores only its SHA-256 hash; a key kept in Git is minted outside and created with its hash.',
  object(
    'Desired state of the key. hash and prefix are set by the server unless hash is given on create; neither changes after create.',
    {
      consumer: string('Name of the Consumer, in the same namespace, the key authenticates as. Immutable.', {
        pattern: DNS1123_SUBDOMAIN_PATTERN,
      }),
      policies: array(
        "SecurityPolicy names applied instead of the consumer's policies; absent uses the consumer's.",
        string('SecurityPolicy name.', { pattern: DNS1123_SUBDOMAIN_PATTERN }),
        { 'x-kubernetes-list-type': 'set' },
      ),
      expires: dateTime('Time after which the key is refused (RFC 3339); absent never expires.'),
      hash: string(
        '"sha256:" and the hex SHA-256 digest of the key: set by the server, or given on create for a key minted outside (e.g. kept in Git).',
      ),
      prefix: string(
        'The first characters of the key, which identify it without revealing it; set by the server when it mints the key.',
      ),
    },
    { required: ['consumer'] },
  ),
  statusSchema('Observed state of the key.'),
);
