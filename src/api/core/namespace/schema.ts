import type { JSONSchema } from '../../kind.ts';
import { array, enumeration, object, string } from '../../schema/build.ts';

export const namespaceSchema: JSONSchema = object('Namespace provides a scope for names.', {
  spec: object('Namespace spec.', {
    finalizers: array('Finalizers that must run before the namespace is removed.', string('Finalizer name.'), {
      'x-kubernetes-list-type': 'atomic',
    }),
  }),
  status: object('Namespace status.', {
    phase: enumeration('Lifecycle phase, set by the server.', ['Active', 'Terminating']),
  }),
});
