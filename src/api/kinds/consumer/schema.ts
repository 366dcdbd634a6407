import type { JSONSchema } from '../../kind.ts';
import { DNS1123_SUBDOMAIN_PATTERN, array, object, specAndStatus, statusSchema, string } from '../../schema/build.ts';

export const consumerSchema: JSONSchema = specAndStatus(
  'Consumer is an identity that calls APIs: it holds SecurityPolicies, owns ApiKeys and maps JWT subjects.',
  object(
    'Desired state of the consumer.',
    {
      policies: array(
        "Names of SecurityPolicies in the consumer's namespace; their access rights add up.",
        string('SecurityPolicy name.', { pattern: DNS1123_SUBDOMAIN_PATTERN }),
        { default: [], 'x-kubernetes-list-type': 'set' },
      ),
      jwtSubjects: array(
        "Values of an API's jwt.consumerClaim (sub by default) that identify this consumer.",
        string('JWT subject.', { minLength: 1 }),
        { default: [], 'x-kubernetes-list-type': 'set' },
      ),
      description: string('Free text for people.', { maxLength: 1024 }),
    },
    { default: {} },
  ),
  statusSchema('Observed state of the consumer.'),
);
