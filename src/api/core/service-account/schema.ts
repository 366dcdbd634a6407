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
      // As kube declares them: secrets merge by name, imagePullSecrets are replaced whole.
      { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
    ),
    imagePullSecrets: array('Kept for compatibility with Kubernetes; unused.', localObjectReference('A Secret.'), {
      'x-kubernetes-list-type': 'atomic',
    }),
    automountServiceAccountToken: boolean('Kept for compatibility with Kubernetes; unused.'),
  },
);
