import type { JSONSchema } from '../../kind.ts';
import {
  boolean,
  duration,
  enumeration,
  localObjectReference,
  object,
  specAndStatus,
  statusSchema,
  string,
} from '../../schema/build.ts';

export const providerSchema: JSONSchema = specAndStatus(
  'Provider says how notifications are encoded and where they are sent (Flux Provider field names): a generic ' +
    'webhook (HMAC-signed with generic-hmac), Slack- or Microsoft Teams-compatible webhooks, or GitHub and ' +
    'GitLab commit statuses.',
  object(
    'Where notifications go and how.',
    {
      type: enumeration(
        'Encoding: generic (the event as JSON), generic-hmac (the same, signed with X-Signature: sha256=<hex>), ' +
          'slack, msteams, github or gitlab (a commit status of the revision an event names).',
        ['generic', 'generic-hmac', 'slack', 'msteams', 'github', 'gitlab'],
      ),
      address: string(
        'Webhook URL, or for github and gitlab the repository URL (https://github.com/OWNER/REPO); ' +
          "the Secret's address key wins over it.",
      ),
      channel: string('Slack channel the message is posted to.'),
      username: string('Slack bot name; absent, the controller that recorded the event.'),
      secretRef: localObjectReference(
        "Secret in the provider's namespace: address, token (API token, or the generic-hmac key) and headers " +
          '(a YAML map of extra HTTP headers).',
      ),
      certSecretRef: localObjectReference(
        "Secret in the provider's namespace whose ca.crt key holds the CA of the receiver's certificate.",
      ),
      timeout: duration('Longest wait for one request to the receiver.', '15s'),
      suspend: boolean('Sends nothing while true.', false),
    },
    { required: ['type'] },
  ),
  statusSchema('Observed state of the provider.'),
);
