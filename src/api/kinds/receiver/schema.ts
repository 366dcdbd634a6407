import type { JSONSchema } from '../../kind.ts';
import {
  DNS1123_SUBDOMAIN_PATTERN,
  array,
  enumeration,
  listSet,
  localObjectReference,
  object,
  specAndStatus,
  statusSchema,
  string,
} from '../../schema/build.ts';

export const receiverSchema: JSONSchema = specAndStatus(
  'Receiver accepts webhook calls from a Git host (Flux Receiver field names) and reconciles the named GitRepositories at once, so a push is live without waiting for the next poll.',
  object(
    'Who may call and what a call reconciles.',
    {
      type: enumeration(
        'How calls are authenticated: github (X-Hub-Signature-256 HMAC), gitlab (X-Gitlab-Token), generic-hmac (X-Signature: sha256=<hex> HMAC of the body).',
        ['github', 'gitlab', 'generic-hmac'],
      ),
      secretRef: localObjectReference("Secret in the receiver's namespace whose token key holds the shared secret."),
      resources: array(
        "Sources to reconcile, in the receiver's namespace.",
        object(
          'One source.',
          {
            kind: enumeration('Kind of the source.', ['GitRepository'], 'GitRepository'),
            name: string('Name of the source.', { pattern: DNS1123_SUBDOMAIN_PATTERN }),
          },
          { required: ['name'] },
        ),
        { minItems: 1, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['kind', 'name'] },
      ),
      events: listSet(
        'Event names accepted (X-GitHub-Event, X-Gitlab-Event); empty accepts every event. ' +
          'A GitHub ping is always answered.',
        string('Event name.', { minLength: 1 }),
        { default: [] },
      ),
    },
    { required: ['type', 'secretRef', 'resources'] },
  ),
  statusSchema('Observed state of the receiver.', {
    webhookPath: string("Path on the controller's hook listener that this receiver answers."),
  }),
);
