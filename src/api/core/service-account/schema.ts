import type { JSONSchema } from '../../kind.ts';
import { array, boolean, localObjectReference, object, string } from '../../schema/build.ts';

export const serviceAccountSchema: JSONSchema = object(
  'ServiceAccount is an identity for processes: its tokens (the token subresource) authenticate as ' +
    'system:serviceaccount:<namespace>:<name>.',
  {
    secrets: array(
      'Secrets in the same namespace that hold tokens of this ServiceAccount (legacy; Gatehouse issues tokens only ' +
        'through the token subresource).',
      object('Reference to a Secret.', { name: string('Name of the Secret.'), namespace: string('Its namespace.') }),
    ),
    imagePullSecrets: array('Kept for compatibility with Kubernetes; unused.', localObjectReference('A Secret.')),
    automountServiceAccountToken: boolean('Kept for compatibility with Kubernetes; unused.'),
  },
);
